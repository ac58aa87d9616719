"""BM25 baseline indexes: Anserini's default analyzer over passage text (Pyserini's JsonCollection)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.errors import InputError
from disco_pyserini.index.build import IndexStats, input_staging, run_index_collection
from disco_pyserini.index.layout import check_replaceable


def build_bm25_index(corpus: str | os.PathLike, index_dir: str | os.PathLike, *, threads: int = 1,
                     overwrite: bool = False, verbose: bool = False) -> IndexStats:
    """Index a corpus file (TSV or JSONL, checked line by line, ids unique) for BM25 search, storing raw text."""
    index_dir = Path(index_dir)
    check_replaceable(index_dir, overwrite, (Path(corpus),))
    with input_staging(index_dir) as staging:
        seen: set[str] = set()
        # JsonCollection reads {"id", "contents"} files from a directory: stage a normalised copy.
        with atomic_write(staging / "docs.jsonl") as handle:
            for doc in read_corpus(corpus):
                if doc.doc_id in seen:  # Anserini would index both, and a run would list the id twice
                    raise InputError(f"document id {doc.doc_id!r} appears twice; ids must be unique", corpus)
                seen.add(doc.doc_id)
                handle.write(json.dumps({"id": doc.doc_id, "contents": doc.text}, ensure_ascii=False) + "\n")
        args = ["-collection", "JsonCollection", "-storePositions", "-storeDocvectors", "-storeRaw"]
        return run_index_collection(staging, index_dir, args, threads=threads, expected=len(seen),
                                    overwrite=overwrite, verbose=verbose, inputs=(Path(corpus),),
                                    info={"backend": "lucene", "kind": "bm25", "documents": len(seen)})
