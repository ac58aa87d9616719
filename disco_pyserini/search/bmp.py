"""Search a BMP index (``python -m disco_pyserini.index --backend bmp``) with exact integer scores.

BMP scores 8-bit document impacts against query weights it re-quantises to at most 32 levels,
summing in 16 bits, so its own scores are neither Lucene's nor safe from overflow. With its exact
settings (``alpha = beta = 1``) it does return the true top documents *under those quantised
scores*, and this searcher turns that into Lucene's exact top k:

1. the query's integer weights ``q`` become ``q' = ceil(q * c)`` (``c <= 1``, at most 32 levels,
   lowered until no document can overflow 16 bits, from bounds stored at indexing) and are passed
   with a weight-32 term the index lacks, so BMP keeps ``q'`` as given;
2. since ``q' >= c q`` and the 8-bit impacts are ``d' >= r d`` (``r`` = the index's ``doc_scale``),
   BMP's score ``b`` of any document is at least ``c r`` times its exact score ``s``;
3. BMP's top ``K`` candidates are rescored exactly from the stored impacts. A document BMP did not
   return has ``b <= theta`` (the ``K``-th candidate's BMP score), so ``s <= theta / (c r)``: if the
   ``k``-th exact score among the candidates reaches that bound, no other document can beat it and
   the top ``k`` is exact (ties aside). Otherwise ``K`` grows fourfold and BMP searches again (and the
   next query starts from the ``K`` that sufficed: coarse re-quantisation of long queries tends to
   need several times ``k`` candidates).

BMP never scores the last block it visits; the index's sentinel document sits in that block (it
has the smallest possible upper bound, 1, and the highest block number). That needs the initial
threshold BMP seeds from per-term k-th impacts to be 0. BMP 0.2.8 seeds 0 only for ``k > 1000``;
for smaller k a positive seed would also drop documents scoring exactly the seed, or every block
(where BMP panics). Indexes built now have those per-term tables zeroed (``thresholds_cleared`` in
backend.json), so BMP is asked for ``overfetch * k`` candidates and its heap prunes with their real
k-th score: at k = 10 that is a few dozen candidates instead of 1,001. Older indexes keep the
1,001-candidate floor. With ``alpha < 1`` (block pruning) or ``beta < 1`` (query-term pruning) the
search is approximate: one BMP call, rescored. Ties are broken by the collection's order (as
Lucene does), also in an index built with ``--reorder``.
"""
from __future__ import annotations

import math
import os
import statistics
from collections import deque
from typing import Mapping

import numpy as np

from disco_pyserini.errors import InputError
from disco_pyserini.index.bmp import FORWARD, INDEX_FILE, ORIGINAL_ROWS, SENTINEL_TERM, TERM_MAX
from disco_pyserini.index.layout import import_engine
from disco_pyserini.search.mapped import MappedSearcher
from disco_pyserini.search.searcher import Hit, make_hits

QUERY_LEVELS = 32          # BMP's MAX_TERM_WEIGHT: queries are rescaled so the largest weight is 32
SCALE_TERM = "scale"       # absent from the index (terms are named by id): only pins BMP's rescaling
SCORE_LIMIT = 65535        # BMP sums scores in 16 bits
RECENT_SEARCHES = 15      # exact searches whose candidate needs set where the next one starts
THRESHOLD_FREE_K = 1001    # for k > 1000 BMP starts with threshold 0 (needed by indexes without cleared thresholds)


class BmpSearcher(MappedSearcher):
    """BMP search with the ``ImpactSearcher`` interface; exact (ties aside) when ``alpha == beta == 1``."""

    backend = "bmp"

    def __init__(self, index_dir: str | os.PathLike, alpha: float = 1.0, beta: float = 1.0, overfetch: float = 2.0):
        """``overfetch``: candidates asked of BMP per wanted hit on the first try (more: fewer re-queries)."""
        super().__init__(index_dir)
        if not (0 < alpha <= 1 and 0 < beta <= 1):
            raise InputError(f"--bmp-alpha and --bmp-beta must be in (0, 1], got {alpha} and {beta}")
        bmp = import_engine("bmp")
        for name in (INDEX_FILE, TERM_MAX, *FORWARD):
            if not (self.index_dir / name).exists():
                raise InputError(f"missing {name}; the BMP index is incomplete, rebuild it", self.index_dir)
        self.alpha, self.beta, self.overfetch = float(alpha), float(beta), float(overfetch)
        # per k, candidates per hit that recent exact searches needed: the next one starts at their median, so one
        # hard query does not make every later query ask BMP for (and score) several times more candidates; the
        # need falls as k grows (8 at k = 10, 1-2 at k = 1000 on real DiSCo queries), so each k keeps its own
        self._needed: dict[int, deque[float]] = {}
        self._engine = bmp.Searcher(str(self.index_dir / INDEX_FILE))
        # plain ndarray views of the memory maps: np.memmap's per-call indexing overhead is not needed
        self._indptr, self._terms, self._impacts = (np.asarray(np.load(self.index_dir / name, mmap_mode="r"))
                                                    for name in FORWARD)
        self._term_max = np.load(self.index_dir / TERM_MAX).astype(np.float64)
        self._doc_scale = float(self.info["doc_scale"])
        self._max_doc_sum = float(self.info["max_doc_sum"])
        self._max_doc_norm = float(self.info["max_doc_norm"])
        self._names = [str(i) for i in range(len(self.vocabulary))]
        self._min_candidates = 1 if self.info.get("thresholds_cleared") else THRESHOLD_FREE_K
        rows_file = self.index_dir / ORIGINAL_ROWS
        self._original = np.load(rows_file) if rows_file.exists() else None  # tie order of reordered rows
        self._blocks_rows = -(-self.num_docs // int(self.info["block_size"])) * int(self.info["block_size"]) + 1

    @property
    def exact(self) -> bool:
        return self.alpha == 1.0 and self.beta == 1.0

    def _bmp_weights(self, ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
        """``(q', c)``: at most 32 levels, ``q' >= c q``, and no document's 16-bit score can overflow."""
        factor = min(1.0, QUERY_LEVELS / float(weights.max()))
        while True:
            levels = np.ceil(weights * factor) if factor < 1.0 else weights.astype(np.float64)
            bound = min(float(levels @ self._term_max[ids]), float(levels.max()) * self._max_doc_sum,
                        math.sqrt(float(levels @ levels)) * self._max_doc_norm)
            if bound <= SCORE_LIMIT or levels.max() <= 1:  # all-ones queries are bounded by max_doc_sum
                return levels, factor
            factor *= SCORE_LIMIT / bound * 0.999

    def _typical_need(self, k: int) -> float:
        """The median candidates per hit of the recent exact searches for ``k`` hits (0 before the first)."""
        recent = self._needed.get(k)
        return statistics.median_low(recent) if recent else 0.0

    def _exact_scores(self, rows: np.ndarray, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Exact integer dot products of the query with documents ``rows`` (from the stored impacts)."""
        if not len(rows):
            return np.empty(0, dtype=np.int64)
        dense = np.zeros(len(self.vocabulary), dtype=np.int64)
        dense[ids] = weights
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        firsts = np.cumsum(lengths) - lengths
        positions = np.arange(int(lengths.sum())) + np.repeat(starts - firsts, lengths)
        products = dense[self._terms[positions]] * self._impacts[positions]
        # every candidate has a term (BMP scored it above 0), so no segment of reduceat is empty
        return np.add.reduceat(products, firsts) if len(products) else np.zeros(len(rows), dtype=np.int64)

    def search(self, vector: Mapping[str, int], k: int = 1000) -> list[Hit]:
        """Top ``k`` documents for one ``{term: int}`` query."""
        ids, weights = self._term_ids(vector)
        if not len(ids) or k < 1:
            return []
        levels, factor = self._bmp_weights(ids, weights)
        query = {self._names[t]: float(w) for t, w in zip(ids.tolist(), levels.tolist())}
        query[SCALE_TERM] = float(QUERY_LEVELS)
        query[SENTINEL_TERM] = 1.0
        start = max(self.overfetch, self._typical_need(k))
        wanted = min(max(self._min_candidates, math.ceil(start * k)), self._blocks_rows)
        while True:
            names, bmp_scores = self._engine.search(query, wanted, self.alpha, self.beta)
            rows = self._parse_rows(names)
            rows = rows[rows >= 0]  # padding and sentinel documents are named -1 (never scored, but be safe)
            scores = self._exact_scores(rows, ids, weights)
            order = np.lexsort((rows if self._original is None else self._original[rows], -scores))
            if not self.exact or len(names) < wanted or wanted >= self._blocks_rows:
                break  # approximate, or every document BMP scores above 0 was returned
            kth = scores[order[min(k, len(order)) - 1]]
            if bmp_scores[-1] <= factor * self._doc_scale * kth * (1 + 1e-9):
                break  # no unreturned document can score above the k-th (see the module docstring)
            wanted = min(wanted * 4, self._blocks_rows)
        if self.exact:
            self._needed.setdefault(k, deque(maxlen=RECENT_SEARCHES)).append(wanted / k)
        top = order[:k]
        return make_hits(self.docids.take(rows[top]), scores[top].astype(np.float64).tolist())

    def close(self) -> None:
        self._engine = None
        super().close()
