"""Impact search over an Anserini index with ready ``{term: int}`` query vectors.

This is the lean path under Pyserini's ``LuceneImpactSearcher``: the same Anserini
``SimpleImpactSearcher``, without importing ``pyserini.search`` (seconds of torch/sklearn imports)
or scanning the whole vocabulary for idf at start-up. Hits are identical for the same query map.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

from disco_pyserini.encode.export import read_metadata
from disco_pyserini.errors import InputError
from disco_pyserini.jvm import autoclass


class Hit(NamedTuple):
    """One retrieved document."""

    docid: str
    score: float


class ImpactSearcher:
    """Search a Lucene impact index with integer query impacts."""

    def __init__(self, index_dir: str | os.PathLike):
        index_dir = Path(index_dir)
        if not (index_dir.is_dir() and any(index_dir.glob("segments_*"))):
            raise InputError("not a Lucene index (no segments_* file); build one with "
                             "'python -m disco_pyserini.index'", index_dir)
        self.index_dir = index_dir
        self.metadata = read_metadata(index_dir)
        self._searcher = autoclass("io.anserini.search.SimpleImpactSearcher")(str(index_dir))
        self._list = autoclass("java.util.ArrayList")
        # One JSON string per query parsed by Jackson (bundled with Anserini) costs one JNI call,
        # ~4x cheaper than a pyjnius HashMap.put per term; small JSON ints become Integers.
        self._json = autoclass("com.fasterxml.jackson.databind.ObjectMapper")()
        self._map_class = autoclass("java.util.HashMap")

    @property
    def num_docs(self) -> int:
        return int(self._searcher.get_total_num_docs())

    def _jmap(self, vector: Mapping[str, int]):
        return self._json.readValue(json.dumps({t: int(w) for t, w in vector.items()}), self._map_class)

    @staticmethod
    def _hits(scored) -> list[Hit]:
        return [Hit(doc.docid, float(doc.score)) for doc in scored]

    def search(self, vector: Mapping[str, int], k: int = 1000) -> list[Hit]:
        """Top ``k`` documents by ``sum(q[t] * d[t])``."""
        return self._hits(self._searcher.search(self._jmap(vector), int(k)))

    def batch_search(self, vectors: Sequence[Mapping[str, int]], qids: Sequence[str], k: int = 1000,
                     threads: int = 1) -> dict[str, list[Hit]]:
        """Search many queries on ``threads`` Java threads; ``{qid: hits}``."""
        jvectors, jqids = self._list(), self._list()
        for vector, qid in zip(vectors, qids, strict=True):
            jvectors.add(self._jmap(vector))
            jqids.add(qid)
        results = self._searcher.batch_search(jvectors, jqids, int(k), int(threads))
        return {qid: self._hits(results.get(qid)) for qid in qids}

    def doc_text(self, docid: str) -> str | None:
        """A document's passage text, when the index stored raw documents (``--store-raw``)."""
        raw = self._searcher.doc_raw(docid)
        return None if raw is None else json.loads(raw).get("contents")

    def close(self) -> None:
        self._searcher.close()
