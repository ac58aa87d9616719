"""All turns of a topics file, ready to formulate: rewrite sources attached, ids checked unique."""
from __future__ import annotations

import os

from disco_pyserini.errors import InputError
from disco_pyserini.topics.loaders import load_topics
from disco_pyserini.topics.rewrites import attach_rewrites
from disco_pyserini.topics.types import Turn


def load_turns(topics: str | os.PathLike, topics_format: str | None = None,
               rewrites: dict[str, str | os.PathLike] | None = None) -> list[Turn]:
    """All turns of a topics file, with named LLM rewrite files attached (``{name: path}``).

    Every turn needs its own query id (runs and qrels are keyed by it, and split lines on whitespace): a
    repeated id, or one with whitespace, is an error.
    """
    turns = load_topics(topics, topics_format)
    for name, path in (rewrites or {}).items():
        turns = attach_rewrites(turns, path, name)
    turns = list(turns)
    if not turns:
        raise InputError("no turns found", topics)
    seen: set[str] = set()
    for turn in turns:
        if len(turn.query_id.split()) != 1 or turn.query_id != turn.query_id.strip():
            raise InputError(f"query id {turn.query_id!r} contains whitespace, which TREC runs and qrels cannot hold; "
                             "rename the conversation or turn", topics)
        if turn.query_id in seen:
            raise InputError(f"query id {turn.query_id!r} occurs twice; each turn needs its own id for the run "
                             "and the qrels", topics)
        seen.add(turn.query_id)
    return turns
