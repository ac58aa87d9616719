"""TREC run files (``qid Q0 docid rank score tag``), written atomically."""
from __future__ import annotations

import os
from typing import Iterable, Sequence

from disco_pyserini.atomic import atomic_write
from disco_pyserini.search.searcher import Hit


def trec_lines(qid: str, hits: Sequence[Hit], tag: str) -> Iterable[str]:
    for rank, hit in enumerate(hits, 1):
        yield f"{qid} Q0 {hit.docid} {rank} {hit.score:.6f} {tag}\n"


def write_run(results: Iterable[tuple[str, Sequence[Hit]]], path: str | os.PathLike, tag: str = "disco") -> int:
    """Write ``(qid, hits)`` pairs in TREC format; returns the number of lines."""
    lines = 0
    with atomic_write(path) as handle:
        for qid, hits in results:
            for line in trec_lines(qid, hits, tag):
                handle.write(line)
                lines += 1
    return lines
