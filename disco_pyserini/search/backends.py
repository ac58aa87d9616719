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


def open_searcher(index_dir: str | os.PathLike, backend: str | None = None, options: EngineOptions | None = None,
                  ray: bool = False, ray_address: str | None = None):
    """A searcher with ``search(vector, k)``/``batch_search(...)``/``num_docs``/``close()`` for ``index_dir``.

    ``backend`` (``lucene``, ``bmp`` or ``seismic``) defaults to the one the index records; naming
    another is an error. A folder of shards (``index --shards``) is searched as one index, here or,
    with ``ray``, by one Ray actor per shard on the cluster at ``ray_address``.
    """
    from disco_pyserini.errors import InputError
    from disco_pyserini.index.layout import check_backend, is_sharded

    options = options or EngineOptions()
    if is_sharded(index_dir):
        if ray:
            try:
                from disco_pyserini.search.ray_shards import RayShardedSearcher
            except ModuleNotFoundError as error:
                if error.name is None or error.name.split(".")[0] not in ("ray", "pyarrow"):
                    raise
                raise InputError('--ray needs Ray: pip install "disco-pyserini[ray]" (on every node of the '
                                 'cluster)') from None
            return RayShardedSearcher(index_dir, backend, options, ray_address)
        from disco_pyserini.search.sharded import ShardedSearcher

        return ShardedSearcher(index_dir, backend, options)
    if ray:
        raise InputError("--ray searches a sharded index, one Ray actor per shard; build one with "
                         "'python -m disco_pyserini.index --shards N', or drop --ray", index_dir)
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
