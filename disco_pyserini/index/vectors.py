"""Read a JsonVectorCollection once into numbered rows (CSR arrays) for the BMP and Seismic builders.

Streams the ``part-*.jsonl`` files with the same checks as Lucene indexing (integer weights >= 0,
unique ids), numbers documents by file order and terms by first appearance, and writes the doc id
mapping (and optionally the passage texts) into the index folder being built.
"""
from __future__ import annotations

import json
from array import array
from pathlib import Path
from typing import NamedTuple

import numpy as np

from disco_pyserini.index.build import _raise_duplicate, _records, collection_files, warn_empty
from disco_pyserini.index.layout import CONTENTS, DOCIDS, TERMS


class Vectors(NamedTuple):
    """A collection as rows: row ``i`` holds ``term_ids[indptr[i]:indptr[i+1]]`` (increasing) and their impacts."""

    terms: list[str]
    indptr: np.ndarray   # int64, [documents + 1]
    term_ids: np.ndarray  # uint32, [postings]
    impacts: np.ndarray   # uint32, [postings]

    @property
    def documents(self) -> int:
        return len(self.indptr) - 1


def read_vectors(input_dir: str | Path, output_dir: Path, *, store_raw: bool = False,
                 progress: bool = True) -> Vectors:
    """Read ``input_dir`` into rows; writes ``docids.txt``, ``terms.json`` (and ``contents.jsonl``) to ``output_dir``."""
    from tqdm import tqdm

    files = collection_files(Path(input_dir))
    vocabulary: dict[str, int] = {}
    indptr, term_ids, impacts, hashes = array("q", [0]), array("I"), array("I"), array("q")
    empty: list[str] = []
    contents = open(output_dir / CONTENTS, "w", encoding="utf-8") if store_raw else None
    try:
        with open(output_dir / DOCIDS, "w", encoding="utf-8") as docids, \
                tqdm(desc="read vectors", unit="doc", disable=not progress) as bar:
            for path, _, doc_id, vector, record in _records(files):
                if not vector:
                    empty.append(doc_id)
                for term, weight in vector.items():
                    term_id = vocabulary.get(term)
                    if term_id is None:
                        term_id = vocabulary[term] = len(vocabulary)
                    term_ids.append(term_id)
                    impacts.append(weight)
                indptr.append(len(term_ids))
                hashes.append(hash(doc_id))
                docids.write(doc_id + "\n")
                if contents is not None:
                    contents.write(json.dumps(record.get("contents") or "", ensure_ascii=False) + "\n")
                bar.update()
    finally:
        if contents is not None:
            contents.close()
    values, counts = np.unique(np.frombuffer(hashes, dtype=np.int64), return_counts=True)
    if (counts > 1).any():
        _raise_duplicate(files, set(values[counts > 1].tolist()))
    warn_empty(empty)
    (output_dir / TERMS).write_text(json.dumps(list(vocabulary), ensure_ascii=False), encoding="utf-8")
    pointers = np.frombuffer(indptr, dtype=np.int64).copy()
    ids = np.frombuffer(term_ids, dtype=np.uint32)
    weights = np.frombuffer(impacts, dtype=np.uint32)
    # Seismic wants increasing component ids within a row (and block scoring walks them in order).
    rows = np.repeat(np.arange(len(pointers) - 1), np.diff(pointers))
    order = np.lexsort((ids, rows))
    return Vectors(list(vocabulary), pointers, ids[order], weights[order])
