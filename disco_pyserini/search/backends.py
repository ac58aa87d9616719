"""Open the searcher for an index folder, whatever engine built it (Lucene, BMP or Seismic).

Light to import (the CLIs read the knobs' defaults for ``--help``): engines load in ``open_searcher``.
"""
from __future__ import annotations

import dataclasses
import os

SEARCH_BACKENDS = ("lucene", "bmp", "seismic")


@dataclasses.dataclass
class EngineOptions:
    """Search-time knobs of the fast engines (ignored by the others).

    ``bmp_alpha``/``bmp_beta``: BMP's block-pruning threshold and the fraction of query terms kept;
    1 and 1 are exact. ``seismic_query_cut``/``seismic_heap_factor``: how many of the heaviest query
    terms Seismic visits, and how aggressively it skips blocks (approximate at any setting).
    """

    bmp_alpha: float = 1.0
    bmp_beta: float = 1.0
    seismic_query_cut: int = 50
    seismic_heap_factor: float = 0.8


def open_searcher(index_dir: str | os.PathLike, backend: str | None = None, options: EngineOptions | None = None):
    """A searcher with ``search(vector, k)``/``batch_search(...)``/``num_docs``/``close()`` for ``index_dir``.

    ``backend`` (``lucene``, ``bmp`` or ``seismic``) defaults to the one the index records; naming
    another is an error.
    """
    from disco_pyserini.index.layout import check_backend

    options = options or EngineOptions()
    backend = check_backend(index_dir, backend)
    if backend == "bmp":
        from disco_pyserini.search.bmp import BmpSearcher

        return BmpSearcher(index_dir, alpha=options.bmp_alpha, beta=options.bmp_beta)
    if backend == "seismic":
        from disco_pyserini.search.seismic import SeismicSearcher

        return SeismicSearcher(index_dir, query_cut=options.seismic_query_cut,
                               heap_factor=options.seismic_heap_factor)
    from disco_pyserini.search.searcher import ImpactSearcher

    return ImpactSearcher(index_dir)
