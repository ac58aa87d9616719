"""TopiOCQA topic files: the DPR retriever files and the raw dataset files."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import PathLike, field, optional_text, read_json, records, utterance
from disco_pyserini.topics.qrecc import context_turns
from disco_pyserini.topics.types import Exchange, Turn

SEP = " [SEP] "


def load_topiocqa(path: PathLike) -> Iterator[Turn]:
    """TopiOCQA's DPR files ``[{"conv_id", "turn_id", "question", "answers", ...}]`` or raw dataset files.

    Query ids are ``<conv_id>_<turn_id>``. In the ``all_history`` files the question is
    ``q1 [SEP] a1 [SEP] q2 ... [SEP] qn`` (oldest first) and is split into history and
    utterance; in the other DPR files the history is rebuilt from the earlier records of the
    same conversation (their question and first answer). Raw dataset files
    (``Conversation_no``/``Context``) are read like QReCC.
    """
    rows = records(read_json(path), path, "turn")
    if rows and "Conversation_no" in rows[0]:
        return context_turns(rows, path)
    return _dpr_turns(rows, path)


def _dpr_turns(rows: list[dict], path: PathLike) -> Iterator[Turn]:
    history: list[Exchange] = []
    conversation = None
    for row in rows:
        if row.get("conv_id") != conversation:
            conversation, history = row.get("conv_id"), []
        where = f"conversation {conversation} turn {row.get('turn_id')}"
        qid = f"{field(row, 'conv_id', path, where)}_{field(row, 'turn_id', path, where)}"
        question = utterance(field(row, "question", path, where), path, where)
        answer = _answer(row)
        if SEP in question:
            parts = [part.strip() for part in question.split(SEP)]
            if len(parts) % 2 == 0:
                raise InputError(f"'question' of {where} must alternate 'q [SEP] a [SEP] ... q'", path)
            turn_history = tuple(Exchange(q, a or None) for q, a in zip(parts[0:-1:2], parts[1::2], strict=True))
            question = utterance(parts[-1], path, where)
        else:
            turn_history = tuple(history)
        yield Turn(qid, str(conversation), question, turn_history, response=answer)
        history.append(Exchange(question, answer))


def _answer(row: dict) -> str | None:
    """The gold answer: ``answer`` or the first of ``answers``."""
    answers: Any = row.get("answers")
    if isinstance(answers, list):
        return optional_text(answers[0]) if answers else None
    return optional_text(row.get("answer", answers))
