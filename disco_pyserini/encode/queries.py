"""Pre-encoded queries for Pyserini's own search CLI.

``python -m pyserini.search.lucene --impact --encoder FILE.jsonl --topics FILE.tsv`` looks each
query's vector up by its exact text, so we write both files: the TSV topics (``qid<TAB>text``) and
the JSONL vectors (``{"qid", "contents": text, "vector": {term: int}}``) with identical texts.
"""
from __future__ import annotations

import json
import os
import re
from typing import Iterable, Sequence

from disco_pyserini.atomic import atomic_write


def one_line(text: str) -> str:
    """Collapse tabs/newlines: TSV topic readers split on them."""
    return re.sub(r"\s+", " ", text).strip()


def write_encoded_queries(qids: Sequence[str], texts: Sequence[str], vectors: Iterable[dict[str, int]],
                          output: str | os.PathLike, topics_output: str | os.PathLike | None = None) -> int:
    """Write pre-encoded queries (and, if asked, the matching TSV topics); returns the count."""
    count = 0
    with atomic_write(output) as handle:
        for qid, text, vector in zip(qids, texts, vectors, strict=True):
            record = {"qid": qid, "contents": one_line(text), "vector": vector}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    if topics_output is not None:
        with atomic_write(topics_output) as handle:
            handle.writelines(f"{qid}\t{one_line(text)}\n" for qid, text in zip(qids, texts))
    return count
