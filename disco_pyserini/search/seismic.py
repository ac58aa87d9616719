"""Search a Seismic index (``python -m disco_pyserini.index --backend seismic``): approximate and fast.

``query_cut`` is how many of the query's heaviest terms select posting lists to visit (DiSCo queries
carry hundreds of terms, far more than the ~10 Seismic's authors tune for on short SPLADE queries);
``heap_factor`` (<= 1) skips a block when its summary scores below that fraction of the current k-th
score; ``n_knn`` (with an index built with a k-NN graph) also scores that many stored neighbours of each
result. The documents found are scored with the whole query, so their scores are exact.
"""
from __future__ import annotations

import os
from operator import itemgetter
from typing import Mapping, Sequence

import numpy as np

from disco_pyserini.cli import stdout_to_stderr
from disco_pyserini.errors import InputError
from disco_pyserini.index.layout import import_engine
from disco_pyserini.index.seismic import INDEX_FILE
from disco_pyserini.search.options import EngineOptions
from disco_pyserini.search.mapped import MappedSearcher
from disco_pyserini.search.searcher import Hit, make_hits


class SeismicSearcher(MappedSearcher):
    """Seismic search with the ``ImpactSearcher`` interface (approximate top k, exact scores)."""

    backend = "seismic"

    def __init__(self, index_dir: str | os.PathLike, query_cut: int = EngineOptions.seismic_query_cut,
                 heap_factor: float = EngineOptions.seismic_heap_factor, n_knn: int = EngineOptions.seismic_knn):
        super().__init__(index_dir)
        if query_cut < 1 or not 0 < heap_factor <= 1 or n_knn < 0:
            raise InputError(f"--seismic-query-cut must be >= 1, --seismic-heap-factor in (0, 1] and --seismic-knn "
                             f">= 0, got {query_cut}, {heap_factor} and {n_knn}")
        # Seismic silently uses fewer neighbours than asked (or none) when the index stores fewer
        stored = int(self.info.get("knn", 0))
        if n_knn > stored:
            raise InputError(f"--seismic-knn {n_knn} needs an index built with 'index --seismic-knn {n_knn}' or more; "
                             f"this one stores {stored} neighbours per document", self.index_dir)
        seismic = import_engine("seismic")
        path = self.index_dir / INDEX_FILE
        if not path.exists():
            raise InputError(f"missing {INDEX_FILE}; the Seismic index is incomplete, rebuild it", self.index_dir)
        self.query_cut, self.heap_factor, self.n_knn = int(query_cut), float(heap_factor), int(n_knn)
        index_class = seismic.SeismicIndexLV if self.info.get("large_vocabulary") else seismic.SeismicIndex
        with stdout_to_stderr():
            self._engine = index_class.load(str(path))
        self._string = seismic.get_seismic_string()
        self._names = np.array([str(i) for i in range(len(self.vocabulary))], dtype=self._string)

    def _arrays(self, vector: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
        ids, weights = self._term_ids(vector)
        return self._names[ids], weights.astype(np.float32)

    def _hits(self, results) -> list[Hit]:
        rows = self._parse_rows(map(itemgetter(2), results))
        return make_hits(self.docids.take(rows), map(itemgetter(1), results))

    def search(self, vector: Mapping[str, int], k: int = 1000) -> list[Hit]:
        """Approximate top ``k`` documents for one ``{term: int}`` query."""
        components, values = self._arrays(vector)
        if not len(components) or k < 1:
            return []
        found = self._engine.search("q", components, values, int(k), self.query_cut, self.heap_factor, self.n_knn)
        return self._hits(found)

    def batch_search(self, queries: Sequence[Mapping[str, int]], qids: Sequence[str], k: int = 1000,
                     threads: int = 1) -> dict[str, list[Hit]]:
        """Search many queries on ``threads`` Rust threads; ``{qid: hits}``."""
        found: dict[str, list[Hit]] = {qid: [] for qid in qids}
        arrays = [(qid, *self._arrays(query)) for query, qid in zip(queries, qids, strict=True)]
        arrays = [a for a in arrays if len(a[1])]
        if arrays and k >= 1:
            # queries are named by position (qids may exceed Seismic's 30 characters); with several threads the
            # result lists come back in any order, each tagged with its query's name
            results = self._engine.batch_search(np.array([str(i) for i in range(len(arrays))], dtype=self._string),
                                                [a[1] for a in arrays], [a[2] for a in arrays], int(k),
                                                self.query_cut, self.heap_factor, self.n_knn,
                                                num_threads=int(threads))
            for hits in results:
                if hits:
                    found[arrays[int(hits[0][0])][0]] = self._hits(hits)
        return found

    def close(self) -> None:
        self._engine = None
        super().close()
