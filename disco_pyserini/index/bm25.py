"""BM25 baseline indexes: Anserini's default analyzer over passage text (Pyserini's JsonCollection)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.index.build import IndexStats, run_index_collection


def build_bm25_index(corpus: str | os.PathLike, index_dir: str | os.PathLike, *, threads: int = 1,
                     overwrite: bool = False, verbose: bool = False) -> IndexStats:
    """Index a corpus file (TSV or JSONL, checked line by line) for BM25 search, storing raw text."""
    index_dir = Path(index_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.corpus-", dir=index_dir.parent.resolve()))
    try:
        count = 0
        # JsonCollection reads {"id", "contents"} files from a directory: stage a normalised copy.
        with atomic_write(staging / "docs.jsonl") as handle:
            for doc in read_corpus(corpus):
                handle.write(json.dumps({"id": doc.doc_id, "contents": doc.text}, ensure_ascii=False) + "\n")
                count += 1
        args = ["-collection", "JsonCollection", "-storePositions", "-storeDocvectors", "-storeRaw"]
        return run_index_collection(staging, index_dir, args, threads=threads, expected=count, overwrite=overwrite,
                                    verbose=verbose)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
