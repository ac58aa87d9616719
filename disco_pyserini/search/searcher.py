"""Anserini searchers: impact search with ready ``{term: int}`` vectors, and BM25 for baselines.

``ImpactSearcher`` is the lean path under Pyserini's ``LuceneImpactSearcher``: the same Anserini
``SimpleImpactSearcher``, without importing ``pyserini.search`` (seconds of torch/sklearn imports)
or scanning the whole vocabulary for idf at start-up. Hits are identical for the same query map.
"""
from __future__ import annotations

import json
import os
from itertools import repeat
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from disco_pyserini.encode.export import read_metadata
from disco_pyserini.errors import InputError, damaged_index
from disco_pyserini.index.layout import read_info
from disco_pyserini.jvm import autoclass, check_index_readable


class Hit(NamedTuple):
    """One retrieved document."""

    docid: str
    score: float


def make_hits(docids: Iterable[str], scores: Iterable[float]) -> list[Hit]:
    """``[Hit(docid, score), ...]`` for the native engines' long hit lists.

    ``tuple.__new__`` builds each hit in C; ``Hit(docid, score)`` runs the NamedTuple's Python-level ``__new__``
    and takes twice as long (191 against 95 µs for 1,000 hits).
    """
    return list(map(tuple.__new__, repeat(Hit), zip(docids, scores)))


def index_kind(index_dir: Path) -> str | None:
    """``impact`` or ``bm25`` for a Lucene index, as its ``backend.json`` records (an older index of ours is
    told by its ``encoding.json``, which only impact indexes have); ``None`` when unknown (other tools')."""
    info = read_info(index_dir) or {}
    if info.get("kind"):
        return info["kind"]
    return "impact" if read_metadata(index_dir) is not None else None


class _AnseriniSearcher:
    """Shared plumbing: open the index, convert queries, run (batch) searches, fetch raw documents."""

    java_class = ""
    kind = ""

    def __init__(self, index_dir: str | os.PathLike):
        index_dir = Path(index_dir)
        if not (index_dir.is_dir() and any(index_dir.glob("segments_*"))):
            raise InputError("not a Lucene index (no segments_* file); build one with "
                             "'python -m disco_pyserini.index'", index_dir)
        kind = index_kind(index_dir)
        if kind is not None and kind != self.kind:
            # Impact queries on a BM25 index (or the reverse) would return meaningless scores, not an error.
            hint = "search it with --bm25" if kind == "bm25" else "drop --bm25 and give --encoder"
            names = {"impact": "an impact", "bm25": "a BM25"}
            raise InputError(f"this is {names.get(kind, kind)} index, not {names[self.kind]} one; {hint}, or build "
                             "the other kind with 'python -m disco_pyserini.index'", index_dir)
        check_index_readable(index_dir)
        self.index_dir = index_dir
        self.metadata = read_metadata(index_dir)
        try:
            self._searcher = autoclass(self.java_class)(str(index_dir))
        except Exception as error:
            raise damaged_index(error, "Lucene", index_dir) from None
        self._list = autoclass("java.util.ArrayList")

    def _query(self, query: Any) -> Any:
        raise NotImplementedError

    @property
    def num_docs(self) -> int:
        return int(self._searcher.get_total_num_docs())

    @staticmethod
    def _hits(scored) -> list[Hit]:
        return [Hit(doc.docid, float(doc.score)) for doc in scored]

    def search(self, query: Any, k: int = 1000) -> list[Hit]:
        """Top ``k`` documents for one query."""
        return self._hits(self._searcher.search(self._query(query), int(k)))

    def batch_search(self, queries: Sequence[Any], qids: Sequence[str], k: int = 1000,
                     threads: int = 1) -> dict[str, list[Hit]]:
        """Search many queries on ``threads`` Java threads; ``{qid: hits}``."""
        jqueries, jqids = self._list(), self._list()
        for query, qid in zip(queries, qids, strict=True):
            jqueries.add(self._query(query))
            jqids.add(qid)
        results = self._searcher.batch_search(jqueries, jqids, int(k), int(threads))
        return {qid: self._hits(results.get(qid)) for qid in qids}

    def doc_text(self, docid: str) -> str | None:
        """A document's passage text, when the index stored raw documents (``--store-raw``)."""
        raw = self._searcher.doc_raw(docid)
        return None if raw is None else json.loads(raw).get("contents")

    def close(self) -> None:
        self._searcher.close()


class ImpactSearcher(_AnseriniSearcher):
    """Search a Lucene impact index with integer query impacts: score = ``sum(q[t] * d[t])``."""

    java_class = "io.anserini.search.SimpleImpactSearcher"
    kind = "impact"

    def __init__(self, index_dir: str | os.PathLike):
        super().__init__(index_dir)
        # One JSON string per query parsed by Jackson (bundled with Anserini) costs one JNI call,
        # ~4x cheaper than a pyjnius HashMap.put per term; small JSON ints become Integers.
        self._json = autoclass("com.fasterxml.jackson.databind.ObjectMapper")()
        self._map_class = autoclass("java.util.HashMap")

    def _query(self, vector: Mapping[str, int]):
        return self._json.readValue(json.dumps({t: int(w) for t, w in vector.items()}), self._map_class)

    @staticmethod
    def _hits(scored) -> list[Hit]:
        # Integer queries on integer impacts: every true score is an integer, but Lucene's float sums are sometimes
        # one ulp below it (19.999998 for 20), depending on how the index is segmented. Rounded, a document scores
        # the same in any index (one, or a shard of a sharded one) and ties stay ties for trec_eval.
        return [Hit(doc.docid, float(round(doc.score))) for doc in scored]


class Bm25Searcher(_AnseriniSearcher):
    """BM25 over a passage-text index (``python -m disco_pyserini.index --bm25``), for baseline runs."""

    java_class = "io.anserini.search.SimpleSearcher"
    kind = "bm25"

    def __init__(self, index_dir: str | os.PathLike, k1: float = 0.9, b: float = 0.4):
        super().__init__(index_dir)
        self._searcher.set_bm25(float(k1), float(b))

    def _query(self, text: str) -> str:
        return text
