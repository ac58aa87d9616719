"""Dropping duplicate documents from a run before evaluation (TREC CAsT 2022), only when asked (``--duplicates``).

The organisers list duplicate documents of the collection, one original per line followed by its
duplicates (``d0:d1,d2,...``; the original is kept, the others are dropped). Every passage whose
document, the passage id without its ``-N`` passage suffix, is such a duplicate is dropped, then the top
1000 are kept. A file of bare ids, one per line, lists ids to drop directly.

The DiSCo authors' run merging for CAsT 2022 (first commit of SimonLupart/disco-conv-splade,
``merge_run_cast22.py``) meant to do the same, but it adds each line of its duplicates file with its
newline to the set it tests passage documents against, so as written it drops nothing. Their numbers
are therefore those of runs with duplicates, which is why dropping them is an option, not the default.
"""
from __future__ import annotations

import os

from disco_pyserini.errors import InputError
from disco_pyserini.eval.runs import Run
from disco_pyserini.textio import text_lines


def read_duplicates(path: str | os.PathLike) -> frozenset[str]:
    """The ids to drop: those after the colon on ``d0:d1,d2`` lines, or the whole line where there is no colon."""
    dropped: set[str] = set()
    for number, line in text_lines(path, "duplicates file"):
        line = line.strip()
        if not line:
            continue
        original, colon, duplicates = line.partition(":")
        ids = duplicates.split(",") if colon else [original]
        if any(not doc.strip() or len(doc.split()) != 1 for doc in ids) or (colon and not original.strip()):
            raise InputError("expected 'original:dup1,dup2,...' or one document id per line", path, number)
        dropped.update(doc.strip() for doc in ids)
    return frozenset(dropped)


def document_id(passage_id: str) -> str:
    """The document a CAsT 2022 passage belongs to: its id without the ``-N`` passage suffix."""
    document, dash, suffix = passage_id.rpartition("-")
    return document if dash and suffix.isdigit() else passage_id


def drop_duplicates(run: Run, duplicates: frozenset[str], depth: int = 1000) -> tuple[Run, int]:
    """``run`` without duplicate documents (by passage id or its document id), cut to ``depth`` per query
    in score order; also returns how many entries were dropped as duplicates."""
    kept: Run = {}
    dropped = 0
    for qid, docs in run.items():
        unique = {doc: score for doc, score in docs.items()
                  if doc not in duplicates and document_id(doc) not in duplicates}
        dropped += len(docs) - len(unique)
        top = sorted(unique.items(), key=lambda item: (item[1], item[0]), reverse=True)[:depth]
        kept[qid] = dict(top)
    return kept, dropped
