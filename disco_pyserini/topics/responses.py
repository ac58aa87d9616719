"""Canonical responses named by id in the topics (CAsT 2020), filled in from the collection's texts."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from disco_pyserini.errors import InputError
from disco_pyserini.topics.types import Turn


def response_ids(turns: Iterable[Turn]) -> set[str]:
    """Every response passage id the turns (and their histories) name but do not carry the text of."""
    ids = {turn.response_id for turn in turns if turn.response_id and not turn.response}
    ids |= {exchange.response_id for turn in turns for exchange in turn.history
            if exchange.response_id and not exchange.response}
    return ids


def attach_responses(turns: Iterable[Turn], texts: Mapping[str, str], source: str = "the collection") -> list[Turn]:
    """``turns`` with each named response's text filled in from ``texts`` (``{passage id: text}``).

    Ids missing from ``texts`` are one error giving their count and the first few.
    """
    turns = list(turns)
    missing = sorted(response_ids(turns) - texts.keys())
    if missing:
        raise InputError(f"{len(missing)} response passage id(s) are not in {source} (first: {', '.join(missing[:5])})"
                         "; give the collection the topics were made for")

    def text(response_id: str | None, response: str | None) -> str | None:
        return response or (texts[response_id] if response_id else None)

    return [turn._replace(response=text(turn.response_id, turn.response),
                          history=tuple(e._replace(response=text(e.response_id, e.response)) for e in turn.history))
            for turn in turns]
