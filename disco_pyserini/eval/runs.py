"""TREC run files read for evaluation, and trec_eval's ranking of a run's documents."""
from __future__ import annotations

import os

from disco_pyserini.errors import InputError
from disco_pyserini.textio import text_lines

Run = dict[str, dict[str, float]]


def read_run(path: str | os.PathLike) -> Run:
    """A TREC run ``qid Q0 docid rank score tag`` as ``{qid: {docid: score}}`` (the rank column is ignored,
    as trec_eval ignores it)."""
    run: Run = {}
    for number, line in text_lines(path, "run file"):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 6:
            raise InputError(f"expected 'qid Q0 docid rank score tag', got {len(fields)} fields", path, number)
        try:
            score = float(fields[4])
        except ValueError:
            raise InputError(f"score {fields[4]!r} is not a number", path, number) from None
        docs = run.setdefault(fields[0], {})
        if fields[2] in docs:
            raise InputError(f"document {fields[2]} appears twice for query {fields[0]}", path, number)
        docs[fields[2]] = score
    if not run:  # trec_eval stops on a run without results; an empty file is a search that wrote nothing
        raise InputError("empty run (no 'qid Q0 docid rank score tag' line); check the command that wrote it", path)
    return run


def trec_eval_order(docs: dict[str, float]) -> list[str]:
    """Document ids as trec_eval ranks them: score descending, ties by document id descending.

    trec_eval compares ids with ``strcmp``; Python compares code points, which orders UTF-8 text the same.
    """
    return [doc for doc, _ in sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def untie(run: Run) -> Run:
    """``run`` with each query's scores replaced by ``n, n-1, ..., 1`` in trec_eval's order.

    The ranking is unchanged for trec_eval, and no two documents tie any more, so every ir_measures
    provider (whatever its own tie-breaking) sees trec_eval's ranking and cuts it at the same place.
    """
    return {qid: {doc: float(len(docs) - rank) for rank, doc in enumerate(trec_eval_order(docs))}
            for qid, docs in run.items()}
