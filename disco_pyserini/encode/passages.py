"""Passage texts by id, from a corpus file or from an index that stored its documents' texts."""
from __future__ import annotations

import json
import os
from pathlib import Path

from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.errors import InputError

# Names of the index layout (disco_pyserini.index.layout), read here without importing it: imports flow
# encode -> index, not back.
_INFO, _DOCIDS, _CONTENTS = "backend.json", "docids.txt", "contents.jsonl"
SOURCE_HINT = "give --responses-from a corpus file or an index built with --store-raw"


def stores_texts(index_dir: str | os.PathLike) -> bool | None:
    """Whether an index folder keeps its passages' texts, as its ``backend.json`` records: BM25 indexes always,
    impact indexes built with ``--store-raw``; ``None`` when it does not say (other tools' Lucene indexes, Pyserini
    prebuilt ones: try them)."""
    path = Path(index_dir) / _INFO
    try:
        info = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(info, dict):
        return None
    if info.get("backend") in ("bmp", "seismic"):
        return (Path(index_dir) / _CONTENTS).is_file()
    if info.get("kind") == "bm25":
        return True
    return bool(info["store_raw"]) if "store_raw" in info else None


def passage_texts(source: str | os.PathLike, ids: set[str], hint: str = SOURCE_HINT) -> dict[str, str]:
    """The texts of ``ids`` found in ``source`` (ids not found are simply absent).

    ``source`` is a corpus file (TSV or JSONL, optionally gzipped; read once, streaming) or an index that
    stored its texts: a Lucene index built with ``index --store-raw`` or ``index --bm25``, a Pyserini prebuilt
    index, or a BMP/Seismic index built with ``--store-raw``. An index without texts is an error ending in
    ``hint`` (what the user can give instead).
    """
    if not ids:
        return {}
    path = Path(source)
    if path.is_dir():
        if stores_texts(path) is False:
            raise InputError(f"this index stores no passage texts (built without --store-raw); {hint}", path)
        return _mapped_texts(path, ids) if (path / _DOCIDS).is_file() else _lucene_texts(path, ids, hint)
    if not path.is_file():
        raise InputError("no such corpus file or index folder; check --responses-from", path)
    return {doc.doc_id: doc.text for doc in read_corpus(path) if doc.doc_id in ids}


def _mapped_texts(index_dir: Path, ids: set[str]) -> dict[str, str]:
    # BMP/Seismic: line i of docids.txt names the document whose text is line i of contents.jsonl (a JSON string).
    texts = {}
    with open(index_dir / _DOCIDS, encoding="utf-8") as docids, \
            open(index_dir / _CONTENTS, encoding="utf-8") as contents:
        for doc_id, text in zip(docids, contents):
            doc_id = doc_id.rstrip("\n")
            if doc_id in ids:
                texts[doc_id] = json.loads(text)
                if len(texts) == len(ids):
                    break
    return texts


def _lucene_texts(index_dir: Path, ids: set[str], hint: str) -> dict[str, str]:
    from disco_pyserini.jvm import autoclass, check_index_readable

    if not any(index_dir.glob("segments_*")):
        raise InputError("not an index (no segments_* file, no docids.txt) nor a corpus file; check "
                         "--responses-from", index_dir)
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
                raise InputError(f"the index has document {doc_id} but not its text (built without --store-raw, or "
                                 f"encoded with --no-contents); {hint}", index_dir)
    finally:
        searcher.close()
    return texts
