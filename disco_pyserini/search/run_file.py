"""TREC run files (``qid Q0 docid rank score tag``), written atomically, with their metadata beside them."""
from __future__ import annotations

import json
import os
from typing import Any, Iterable, Sequence

from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError
from disco_pyserini.search.searcher import Hit


def check_token(value: str, what: str) -> str:
    """``value`` if it can be one field of a TREC line (non-empty, no whitespace), else a one-line error."""
    if not value or len(value.split()) != 1 or value != value.strip():
        raise InputError(f"{what} {value!r} is empty or contains whitespace; TREC runs split fields on whitespace")
    return value


def trec_lines(qid: str, hits: Sequence[Hit], tag: str) -> Iterable[str]:
    check_token(qid, "query id")
    for rank, hit in enumerate(hits, 1):
        yield f"{qid} Q0 {check_token(hit.docid, 'document id')} {rank} {hit.score:.6f} {tag}\n"


def write_run(results: Iterable[tuple[str, Sequence[Hit]]], path: str | os.PathLike, tag: str = "disco") -> int:
    """Write ``(qid, hits)`` pairs in TREC format; returns the number of lines."""
    check_token(tag, "run tag")
    lines = 0
    with atomic_write(path) as handle:
        for qid, hits in results:
            for line in trec_lines(qid, hits, tag):
                handle.write(line)
                lines += 1
    return lines


def metadata_path(run: str | os.PathLike) -> str:
    """Where a run's metadata goes: ``RUN.meta.json`` beside it."""
    return f"{os.fspath(run)}.meta.json"


def write_run_metadata(run: str | os.PathLike, metadata: dict[str, Any]) -> None:
    """Record what ``run`` was made from (topics, formulation, history cut, encoder, index...)."""
    with atomic_write(metadata_path(run)) as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
