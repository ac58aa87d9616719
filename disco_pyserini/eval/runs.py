"""TREC run files read for evaluation."""
from __future__ import annotations

import os

from disco_pyserini.errors import InputError

Run = dict[str, dict[str, float]]


def read_run(path: str | os.PathLike) -> Run:
    """A TREC run ``qid Q0 docid rank score tag`` as ``{qid: {docid: score}}``."""
    run: Run = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
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
    return run
