"""The toolkit's own topic format: one conversation per JSON line.

    {"conversation_id": "c1", "ptkb": ["I am vegan."],
     "turns": [{"turn_id": "1", "utterance": "...", "response": "...",
                "manual_rewrite": "...", "automatic_rewrite": "...",
                "rewrites": {"mistral": "..."}, "query_id": "..."}, ...]}

Required: ``conversation_id``, a non-empty ``turns`` list and each turn's ``utterance``. The query
id is the turn's ``query_id`` if given, else ``<conversation_id>_<turn_id>``; ``turn_id``
defaults to the 1-based position. Blank lines are skipped.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import ENCODING, PathLike, field, optional_text, parse_json, utterance
from disco_pyserini.topics.types import Exchange, Turn


def load_jsonl(path: PathLike) -> Iterator[Turn]:
    """Stream the turns of a conversations JSONL file, one line read at a time."""
    if not Path(path).is_file():
        raise InputError("file not found; check the path", path)
    return _jsonl_turns(path)


def _jsonl_turns(path: PathLike) -> Iterator[Turn]:
    with open(path, encoding=ENCODING) as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                yield from _conversation_turns(parse_json(line, path, number), path, number)


def _conversation_turns(conversation: Any, path: PathLike, line: int) -> Iterator[Turn]:
    """The turns of one parsed conversation object (``line`` is where it sits in ``path``)."""
    if not isinstance(conversation, dict):
        raise InputError("expected a JSON object with 'conversation_id' and 'turns'", path, line)
    topic_id = str(field(conversation, "conversation_id", path, "the conversation", line))
    turns = field(conversation, "turns", path, f"conversation {topic_id}", line)
    if not isinstance(turns, list) or not turns:
        raise InputError(f"empty conversation at conversation {topic_id}; 'turns' must be a non-empty list", path, line)
    ptkb = conversation.get("ptkb", [])
    if not isinstance(ptkb, list):
        raise InputError(f"'ptkb' of conversation {topic_id} must be a list of statements", path, line)
    history: list[Exchange] = []
    for position, turn in enumerate(turns, 1):
        if not isinstance(turn, dict):
            raise InputError(f"turn {position} of conversation {topic_id} must be a JSON object", path, line)
        where = f"conversation {topic_id} turn {turn.get('turn_id', position)}"
        text = utterance(field(turn, "utterance", path, where, line), path, where, line)
        response = optional_text(turn.get("response"))
        rewrites = turn.get("rewrites", {})
        if not isinstance(rewrites, dict):
            raise InputError(f"'rewrites' of {where} must be an object {{name: text}}", path, line)
        yield Turn(
            query_id=str(turn.get("query_id") or f"{topic_id}_{turn.get('turn_id', position)}"),
            topic_id=topic_id,
            utterance=text,
            history=tuple(history),
            manual_rewrite=optional_text(turn.get("manual_rewrite")),
            automatic_rewrite=optional_text(turn.get("automatic_rewrite")),
            response=response,
            ptkb=tuple(str(statement).strip() for statement in ptkb),
            rewrites=tuple((str(name), rewrite) for name, value in rewrites.items()
                           if (rewrite := optional_text(value))),
        )
        history.append(Exchange(text, response))
