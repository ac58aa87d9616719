"""TREC iKAT topic files: 2023/2024 (``turns``) and 2025 (``responses``)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import PathLike, field, optional_text, read_json, records, utterance
from disco_pyserini.topics.types import Exchange, Turn


def load_ikat(path: PathLike) -> Iterator[Turn]:
    """iKAT 2023/2024 topics: ``[{"number": "1-1", "ptkb": {"1": ...}, "turns": [{"turn_id", "utterance", ...}]}]``.

    Query ids are ``<number>_<turn_id>`` (``1-1_3``), as in the iKAT qrels. ``resolved_utterance``
    is the manual rewrite, ``response`` the turn's answer (history answers for later turns) and
    the PTKB statements are kept in file order; provenance lists are not kept.
    """
    return _ikat_turns(records(read_json(path), path, "topic"), path, "turns", "utterance")


def load_ikat2025(path: PathLike) -> Iterator[Turn]:
    """iKAT 2025 topics: ``[{"number", "ptkb": [...], "responses": [{"turn_id", "user_utterance",
    "resolved_utterance", "response", "relevant_ptkbs", "citations"}]}]``.

    Query ids are ``<number>_<turn_id>`` (``1-1_2``), the ``turn_id`` of the track's runs and validator.
    ``resolved_utterance`` is the manual rewrite and ``response`` the turn's answer; PTKB relevance and
    citations are not kept.
    """
    return _ikat_turns(records(read_json(path), path, "topic"), path, "responses", "user_utterance")


def _ikat_turns(topics: list[dict], path: PathLike, turns_key: str, utterance_key: str) -> Iterator[Turn]:
    for topic in topics:
        topic_id = str(field(topic, "number", path, "a topic"))
        ptkb = _ptkb(topic.get("ptkb", {}), path, topic_id)
        turns = records(field(topic, turns_key, path, f"topic {topic_id}"), path, "turn")
        if not turns:
            raise InputError(f"empty conversation at topic {topic_id}; remove it or add turns", path)
        history: list[Exchange] = []
        for turn in turns:
            where = f"topic {topic_id} turn {turn.get('turn_id', len(history) + 1)}"
            text = utterance(field(turn, utterance_key, path, where), path, where)
            response = optional_text(turn.get("response"))
            yield Turn(
                query_id=f"{topic_id}_{field(turn, 'turn_id', path, where)}",
                topic_id=topic_id,
                utterance=text,
                history=tuple(history),
                manual_rewrite=optional_text(turn.get("resolved_utterance")),
                response=response,
                ptkb=ptkb,
            )
            history.append(Exchange(text, response))


def _ptkb(statements: Any, path: PathLike, topic_id: str) -> tuple[str, ...]:
    """PTKB statements in file order (the organisers number them "1", "2", ... or list them)."""
    if isinstance(statements, dict):
        statements = list(statements.values())
    if isinstance(statements, list):
        return tuple(str(statement).strip() for statement in statements)
    raise InputError(f"'ptkb' of topic {topic_id} must be an object or a list of statements", path)
