"""QReCC-style records (also TopiOCQA's raw dataset files): one JSON object per turn."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import PathLike, field, optional_text, read_json, records, utterance
from disco_pyserini.topics.types import Exchange, Turn


def load_qrecc(path: PathLike, first_turn_rewrite: bool = True) -> Iterator[Turn]:
    """QReCC, original or SCAI-QReCC release: one ``{"Conversation_no", "Turn_no", "Question", "Context"}`` per turn.

    Query ids are ``<Conversation_no>_<Turn_no>``. ``Context`` (alternating earlier questions and answers, oldest
    first) is the history. The manual rewrite is ``Rewrite`` (original release) or ``Truth_rewrite`` (SCAI-QReCC),
    the answer ``Answer`` or ``Truth_answer``; SCAI-QReCC's ``Transformer_rewrite`` is the automatic rewrite. As the
    DiSCo reference prepares QReCC, the first turn's utterance is its manual rewrite (``first_turn_rewrite``): a
    conversation's opening question often leaves out the topic its asker was shown.
    """
    return context_turns(records(read_json(path), path, "turn"), path, first_turn_rewrite=first_turn_rewrite)


def context_turns(rows: list[dict], path: PathLike, first_turn_rewrite: bool = False) -> Iterator[Turn]:
    """Turns from records carrying their own ``Context`` list (QReCC, raw TopiOCQA)."""
    for row in rows:
        conversation = field(row, "Conversation_no", path, "a record")
        turn_no = field(row, "Turn_no", path, f"conversation {conversation}")
        where = f"conversation {conversation} turn {turn_no}"
        context = row.get("Context") or []
        if not isinstance(context, list):
            raise InputError(f"'Context' of {where} must be a list of strings", path)
        # Blank history items are kept as "" (formulations skip them) rather than rejected:
        # only the current question must be non-empty.
        history = tuple(
            Exchange(optional_text(context[i]) or "", optional_text(context[i + 1]) if i + 1 < len(context) else None)
            for i in range(0, len(context), 2)
        )
        rewrite = optional_text(_either(row, "Rewrite", "Truth_rewrite"))
        if first_turn_rewrite and rewrite and str(turn_no).strip() == "1":
            question = rewrite
        else:
            question = field(row, "Question", path, where)
        yield Turn(
            query_id=f"{conversation}_{turn_no}",
            topic_id=str(conversation),
            utterance=utterance(question, path, where),
            history=history,
            manual_rewrite=rewrite,
            automatic_rewrite=optional_text(row.get("Transformer_rewrite")),
            response=optional_text(_either(row, "Answer", "Truth_answer")),
        )


def _either(row: dict, original: str, scai: str) -> Any:
    """A field under its original QReCC name, else under its SCAI-QReCC name."""
    return row[original] if row.get(original) is not None else row.get(scai)
