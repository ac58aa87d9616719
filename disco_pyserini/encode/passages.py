"""Passage texts by id, from a corpus file or from a Lucene index that stored its documents."""
from __future__ import annotations

import json
import os
from pathlib import Path

from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.errors import InputError


def passage_texts(source: str | os.PathLike, ids: set[str]) -> dict[str, str]:
    """The texts of ``ids`` found in ``source`` (ids not found are simply absent).

    ``source`` is a corpus file (TSV or JSONL, optionally gzipped; read once, streaming) or an
    Anserini index built with stored raw documents or contents (``index --store-raw``, ``index --bm25``
    or a Pyserini prebuilt index).
    """
    if not ids:
        return {}
    path = Path(source)
    if path.is_dir():
        return _index_texts(path, ids)
    if not path.is_file():
        raise InputError("no such corpus file or index folder; check --responses-from", path)
    return {doc.doc_id: doc.text for doc in read_corpus(path) if doc.doc_id in ids}


def _index_texts(index_dir: Path, ids: set[str]) -> dict[str, str]:
    from disco_pyserini.jvm import autoclass, check_index_readable

    if not any(index_dir.glob("segments_*")):
        raise InputError("not a Lucene index (no segments_* file) nor a corpus file; check --responses-from",
                         index_dir)
    check_index_readable(index_dir)
    searcher = autoclass("io.anserini.search.SimpleSearcher")(str(index_dir))
    texts = {}
    try:
        for doc_id in sorted(ids):
            # Raw documents are JSON ({"id", "contents", ...}) in JsonCollection-style indexes, else plain text.
            text = searcher.doc_raw(doc_id) or searcher.doc_contents(doc_id)
            if text and text.lstrip().startswith("{"):
                text = json.loads(text).get("contents", text)
            if text:
                texts[doc_id] = text
            elif searcher.doc(doc_id) is not None:
                raise InputError(f"the index has document {doc_id} but not its text; rebuild it with --store-raw "
                                 "or give the corpus file", index_dir)
    finally:
        searcher.close()
    return texts
