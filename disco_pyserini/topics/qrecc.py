"""QReCC-style records (also TopiOCQA's raw dataset files): one JSON object per turn."""
from __future__ import annotations

from collections.abc import Iterator

from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import PathLike, field, optional_text, read_json, records, utterance
from disco_pyserini.topics.types import Exchange, Turn


def load_qrecc(path: PathLike) -> Iterator[Turn]:
    """QReCC: ``[{"Conversation_no", "Turn_no", "Question", "Rewrite", "Answer", "Context": [q1, a1, ...]}]``.

    Query ids are ``<Conversation_no>_<Turn_no>``. ``Context`` (alternating earlier questions and
    answers, oldest first) is the history; ``Rewrite`` is the manual rewrite.
    """
    return context_turns(records(read_json(path), path, "turn"), path)


def context_turns(rows: list[dict], path: PathLike) -> Iterator[Turn]:
    """Turns from records carrying their own ``Context`` list (QReCC, raw TopiOCQA)."""
    for row in rows:
        conversation = field(row, "Conversation_no", path, "a record")
        where = f"conversation {conversation} turn {row.get('Turn_no')}"
        qid = f"{conversation}_{field(row, 'Turn_no', path, where)}"
        context = row.get("Context") or []
        if not isinstance(context, list):
            raise InputError(f"'Context' of {where} must be a list of strings", path)
        # Blank history items are kept as "" (formulations skip them) rather than rejected:
        # only the current question must be non-empty.
        history = tuple(
            Exchange(optional_text(context[i]) or "", optional_text(context[i + 1]) if i + 1 < len(context) else None)
            for i in range(0, len(context), 2)
        )
        yield Turn(
            query_id=qid,
            topic_id=str(conversation),
            utterance=utterance(field(row, "Question", path, where), path, where),
            history=history,
            manual_rewrite=optional_text(row.get("Rewrite")),
            response=optional_text(row.get("Answer")),
        )
