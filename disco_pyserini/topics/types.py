"""Conversation data types, modelled on ir_datasets' named tuples."""
from __future__ import annotations

from typing import NamedTuple


class Exchange(NamedTuple):
    """One earlier turn of a conversation: what the user said and, where known, the system's answer.

    ``response_id`` names the answer's passage in the collection where the topics give an id instead
    of the text (CAsT 2020's canonical results); ``attach_responses`` fills ``response`` from it.
    """

    utterance: str
    response: str | None = None
    response_id: str | None = None


class Turn(NamedTuple):
    """One user turn to retrieve for, with everything a query formulation may use.

    ``query_id`` is the id the benchmark's qrels use (``81_1``, ``132_1-1``); ``history`` holds the
    earlier exchanges on this turn's conversation path, oldest first. ``response`` is this turn's own
    answer (``response_id`` its passage id, CAsT 2020), which later turns see in their history.
    """

    query_id: str
    topic_id: str
    utterance: str
    history: tuple[Exchange, ...] = ()
    manual_rewrite: str | None = None
    automatic_rewrite: str | None = None
    response: str | None = None
    ptkb: tuple[str, ...] = ()
    rewrites: tuple[tuple[str, str], ...] = ()
    response_id: str | None = None

    def rewrite(self, name: str) -> str | None:
        """The named rewrite: ``manual``, ``automatic`` or an attached LLM rewrite source."""
        if name == "manual":
            return self.manual_rewrite
        if name == "automatic":
            return self.automatic_rewrite
        return dict(self.rewrites).get(name)
