"""Conversations ready to formulate: topics loaded, canonical responses fetched, rewrites checked, cut resolved.

Every command that formulates topics (search, ``encode queries``, ``train build``) goes through
:func:`load_conversations`, so they read the same history for the same flags.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, NamedTuple

from disco_pyserini.encode.passages import passage_texts, stores_texts
from disco_pyserini.errors import InputError
from disco_pyserini.topics.cuts import EXTENDED_CUTS, check_cut, check_responses, cut_turn, default_cut
from disco_pyserini.topics.history import missing_rewrites, reads_answers, rewrite_source
from disco_pyserini.topics.load import load_turns
from disco_pyserini.topics.loaders import resolve_format
from disco_pyserini.topics.responses import attach_responses, response_ids
from disco_pyserini.topics.types import Turn


class Conversations(NamedTuple):
    """The turns, their topic format, the history cut in force, the turns whose rewrite is missing and where the
    canonical responses' texts came from (``None``: none were fetched)."""

    turns: list[Turn]
    topics_format: str
    history_cut: str
    without_rewrite: tuple[str, ...]
    responses_from: str | None = None

    def cut_turns(self, responses: str = "all") -> list[Turn]:
        """The turns with the history cut (and ``responses``) applied, as a student's inputs are read."""
        return [cut_turn(turn, self.history_cut, responses) for turn in self.turns]


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _first(ids: list[str], count: int = 5) -> str:
    return ", ".join(ids[:count]) + (", ..." if len(ids) > count else "")


def load_conversations(topics: str | os.PathLike, topics_format: str | None = None,
                       rewrites: dict[str, str | os.PathLike] | None = None,
                       responses_from: str | os.PathLike | None = None, policy: str = "disco",
                       history_cut: str = "auto", strict: bool = False, trained_cut: str | None = None,
                       warn: Callable[[str], None] = _warn, history_responses: str = "all",
                       collection: str | os.PathLike | None = None) -> Conversations:
    """Load ``topics`` for ``policy``.

    Canonical responses named by id (CAsT 2020) are the answers of DiSCo's history: their texts come from
    ``responses_from`` (a corpus file or an index with stored texts), else from ``collection`` (the index
    searched, or the corpus given, when it holds texts). With neither, or an index without texts, that is an
    error naming ``--responses-from`` and ``--history-responses none``, the explicit way to leave the answers out
    (``history_responses="none"``, or a ``policy`` that reads no answers, fetches nothing). ``history_cut`` ``auto`` is the topic format's reference cut
    (:data:`disco_pyserini.topics.cuts.DEFAULT_CUTS`), else ``trained_cut`` (the one a student's training
    inputs had), else none. Turns without the rewrite a rewrite policy needs are searched with their raw
    utterance, with one warning naming them, or are an error with ``strict``.
    """
    check_responses(history_responses)
    topics_format = resolve_format(topics, topics_format)
    turns = load_turns(topics, topics_format, rewrites)
    needed = sorted(response_ids(turns))
    source = None
    if needed and history_responses != "none" and reads_answers(policy):
        what = (f"the topics name {len(needed)} canonical response passage(s) by id (CAsT 2020), the answers of "
                "DiSCo's history")
        hint = ("pass --responses-from CORPUS_OR_INDEX (the collection, or an index built with --store-raw), or "
                "--history-responses none to leave the answers out")
        source = responses_from if responses_from is not None else collection
        if source is None:
            raise InputError(f"{what}: {hint}", topics)
        if responses_from is None and stores_texts(source) is False:
            raise InputError(f"{what}, and this index stores no passage texts: {hint}", source)
        turns = attach_responses(turns, passage_texts(source, set(needed), hint), str(source))
    elif responses_from is not None and not needed:
        warn(f"the topics name no response passage ids; --responses-from {responses_from} is not used")
    missing = missing_rewrites(turns, policy)
    if missing:
        what = f"{len(missing)} of {len(turns)} turns have no {rewrite_source(policy)} rewrite ({_first(missing)})"
        if strict:
            raise InputError(f"{what}; supply the rewrites or drop --strict to search their raw utterance", topics)
        warn(f"{what}: their raw utterance is used instead (--strict makes this an error)")
    if history_cut != "auto":
        cut = check_cut(history_cut)
    else:
        cut = default_cut(topics_format)
        cut = check_cut(trained_cut) if cut == "none" and trained_cut else cut
        if topics_format in EXTENDED_CUTS:
            warn(f"{topics_format} topics get the CAsT 2020 preparation's history cut, this toolkit's extension (no "
                 "reference prepares them); --history-cut none reads them uncut")
    return Conversations(turns, topics_format, cut, tuple(missing), None if source is None else str(source))
