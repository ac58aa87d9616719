"""TopiOCQA and QReCC qrels derived from the dataset files, with the ids the topic loaders and the corpus use.

Query ids are the topic loaders' ``<conversation>_<turn>`` ids (``query_ids="turn"``) or, as the DiSCo reference
numbers its queries, 0-based row numbers (``query_ids="row"``). Document ids are the passage collections' ids, as
``encode docs`` writes them: the first column of TopiOCQA's ``full_wiki_segments.tsv`` and the ``id`` of the QReCC
passage collection.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, NamedTuple

from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError
from disco_pyserini.topics._read import optional_text, read_json

QUERY_IDS = ("turn", "row")
# DPR names TopiOCQA passages "wiki:<tsv id>" (its id_prefix for this corpus); the original JSON's Gold_passage ids
# carry that prefix, the tsv and the DPR files' passage_id do not.
DPR_PREFIX = "wiki:"
UNANSWERABLE = "UNANSWERABLE"


class GoldQrels(NamedTuple):
    """Judgments derived from a dataset file, and what became of its turns."""

    judgments: list[tuple[str, str]]  # (query id, doc id), in file order, relevance 1
    turns: int  # records read
    judged: int  # turns with at least one gold passage
    without_gold: int  # turns without a gold passage: left unjudged (not evaluated)
    unanswerable: int  # judged TopiOCQA turns whose answer is UNANSWERABLE (they keep their gold passage)


def topiocqa_qrels(path: str | os.PathLike, query_ids: str = "turn") -> GoldQrels:
    """TopiOCQA qrels from the DPR retriever files (``positive_ctxs[0]["passage_id"]``) or the original dataset JSON
    (``Gold_passage["id"]``, ``wiki:`` prefix dropped).

    As the DiSCo reference (and TopiOCQA's own retriever evaluation), each turn has one relevant passage, the first
    positive; unanswerable turns keep theirs and are evaluated. Row ids are the records' positions in the file, the
    reference's numbering. Records without any gold passage are left unjudged and counted.
    """
    _check_query_ids(query_ids)
    rows = _records(path)
    dpr = "conv_id" in rows[0]
    if not dpr and "Conversation_no" not in rows[0]:
        raise InputError("not a TopiOCQA file: expected DPR retriever records (conv_id, turn_id, positive_ctxs) or "
                         "dataset records (Conversation_no, Turn_no, Gold_passage)", path)
    if not dpr and "Gold_passage" not in rows[0]:
        qrecc = {"Truth_passages", "Passages", "Rewrite", "Truth_rewrite"} & rows[0].keys()
        raise InputError("no 'Gold_passage' in the first record: not a TopiOCQA dataset file"
                         + ("; it looks like QReCC: pass --dataset qrecc" if qrecc else ""), path)
    judgments, seen, without_gold, unanswerable = [], set(), 0, 0
    for row_number, row in enumerate(rows):
        conversation, turn, gold, answer = (_dpr_turn if dpr else _dataset_turn)(row, path)
        if gold is None:
            without_gold += 1
            continue
        unanswerable += (answer or "").upper() == UNANSWERABLE
        qid = _new_query(f"{conversation}_{turn}" if query_ids == "turn" else str(row_number), seen, path)
        judgments.append((qid, _doc_id(gold.removeprefix(DPR_PREFIX), f"conversation {conversation} turn {turn}",
                                       path)))
    return _checked(GoldQrels(judgments, len(rows), len(seen), without_gold, unanswerable), path)


def _dpr_turn(row: dict, path: str | os.PathLike) -> tuple[Any, Any, str | None, str | None]:
    """Conversation, turn, first positive's ``passage_id`` and first answer of a DPR retriever record."""
    conversation, turn = _ids(row, "conv_id", "turn_id", path)
    where = f"conversation {conversation} turn {turn}"
    positives = row.get("positive_ctxs") or []
    if not isinstance(positives, list) or not all(isinstance(p, dict) for p in positives):
        raise InputError(f"'positive_ctxs' of {where} must be a list of passage objects", path)
    gold = _required(positives[0], "passage_id", f"the first positive of {where}", path) if positives else None
    answers = row.get("answers")
    answer = (answers or [None])[0] if isinstance(answers, list) else answers
    return conversation, turn, optional_text(gold), optional_text(answer)


def _dataset_turn(row: dict, path: str | os.PathLike) -> tuple[Any, Any, str | None, str | None]:
    """Conversation, turn, ``Gold_passage`` id and answer of a TopiOCQA dataset record."""
    conversation, turn = _ids(row, "Conversation_no", "Turn_no", path)
    passage = row.get("Gold_passage")
    if passage and not isinstance(passage, dict):
        raise InputError(f"'Gold_passage' of conversation {conversation} turn {turn} must be an object with an 'id'",
                         path)
    gold = None
    if passage:
        gold = _required(passage, "id", f"the Gold_passage of conversation {conversation} turn {turn}", path)
    return conversation, turn, optional_text(gold), optional_text(row.get("Answer"))


def qrecc_qrels(path: str | os.PathLike, query_ids: str = "turn") -> GoldQrels:
    """QReCC qrels: every passage id of a turn's ``Truth_passages`` (SCAI-QReCC) or ``Passages`` (the QReCC files
    with passages that SCAI-QReCC adapted), relevance 1.

    As the DiSCo reproduction's preparation and the SCAI-QReCC evaluator, turns without passages are left unjudged
    (counted). Row ids number the judged turns from 0 in file order, as the reproduction does within a split. The
    apple/ml-qrecc archive names no passages (only ``Answer_URL``; its paper judged retrieved passages by answer-span
    overlap at evaluation time), so it gives no qrels: the error says where to get passage ids.
    """
    _check_query_ids(query_ids)
    rows = _records(path)
    key = next((key for key in ("Truth_passages", "Passages") if key in rows[0]), None)
    if key is None:
        if "Gold_passage" in rows[0] or "conv_id" in rows[0]:
            raise InputError("this is a TopiOCQA file; pass --dataset topiocqa", path)
        raise InputError("no 'Truth_passages' in the first record: the apple/ml-qrecc release names no gold passages "
                         "(only Answer_URL). Use the SCAI-QReCC turns files, whose Truth_passages hold the passage "
                         "ids (scai-qrecc21-*-turns.json in turns.zip, doi.org/10.5281/zenodo.4748782; what the "
                         "DiSCo reproduction reads)", path)
    judgments, seen, without_gold = [], set(), 0
    for row in rows:
        conversation, turn = _ids(row, "Conversation_no", "Turn_no", path)
        where = f"conversation {conversation} turn {turn}"
        passages = row.get(key)
        if isinstance(passages, str):
            passages = [passages]
        if passages is not None and not (isinstance(passages, list) and all(isinstance(p, str) for p in passages)):
            raise InputError(f"{key!r} of {where} must be a list of passage ids", path)
        doc_ids = list(dict.fromkeys(filter(None, (optional_text(p) for p in passages or []))))
        if not doc_ids:
            without_gold += 1
            continue
        qid = _new_query(f"{conversation}_{turn}" if query_ids == "turn" else str(len(seen)), seen, path)
        judgments.extend((qid, _doc_id(doc_id, where, path)) for doc_id in doc_ids)
    return _checked(GoldQrels(judgments, len(rows), len(seen), without_gold, 0), path)


BUILDERS = {"topiocqa": topiocqa_qrels, "qrecc": qrecc_qrels}


def write_qrels(judgments: Iterable[tuple[str, str]], output: str | os.PathLike, overwrite: bool = False) -> None:
    """Write TREC qrels ``qid 0 docid 1``, atomically; an existing file is replaced only with ``overwrite``."""
    if os.path.exists(output) and not overwrite:
        raise InputError("the output exists; pass --overwrite to replace it", output)
    with atomic_write(output) as handle:
        handle.writelines(f"{qid} 0 {doc_id} 1\n" for qid, doc_id in judgments)


def _records(path: str | os.PathLike) -> list[dict]:
    rows = read_json(path)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise InputError("expected a JSON list of turn records (a TopiOCQA or QReCC dataset file)", path)
    if not rows:
        raise InputError("no turns in the file; it is an empty JSON list", path)
    return rows


def _required(record: dict, key: str, where: str, path: str | os.PathLike) -> Any:
    if record.get(key) is None:
        raise InputError(f"missing key {key!r} in {where}; check that the file and --dataset match", path)
    return record[key]


def _check_query_ids(query_ids: str) -> None:
    if query_ids not in QUERY_IDS:
        raise InputError(f"unknown query id style {query_ids!r}; choose one of {', '.join(QUERY_IDS)}")


def _ids(row: dict, conversation_key: str, turn_key: str, path: str | os.PathLike) -> tuple[Any, Any]:
    conversation = _required(row, conversation_key, "a record", path)
    return conversation, _required(row, turn_key, f"conversation {conversation}", path)


def _doc_id(doc_id: str, where: str, path: str | os.PathLike) -> str:
    if any(character.isspace() for character in doc_id):
        raise InputError(f"passage id {doc_id!r} of {where} contains whitespace, which TREC qrels cannot hold", path)
    return doc_id


def _new_query(qid: str, seen: set[str], path: str | os.PathLike) -> str:
    """``qid``, recorded in ``seen``; a second record for the same turn is an error (its judgments would merge)."""
    if qid in seen:
        raise InputError(f"query id {qid!r} occurs in two records; each turn needs its own id", path)
    seen.add(qid)
    return qid


def _checked(gold: GoldQrels, path: str | os.PathLike) -> GoldQrels:
    """``gold``, if it judges at least one turn."""
    if not gold.judgments:
        raise InputError(f"none of the {gold.turns} turns has a gold passage; no qrels to write", path)
    return gold
