"""Open the searcher for an index folder, whatever engine built it (Lucene, BMP or Seismic).

Engines load in ``open_searcher``, not at import.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from disco_pyserini.errors import damaged_index
from disco_pyserini.search.options import EngineOptions


def open_searcher(index_dir: str | os.PathLike, backend: str | None = None, options: EngineOptions | None = None,
                  ray: bool = False, ray_address: str | None = None):
    """A searcher with ``search(vector, k)``/``batch_search(...)``/``num_docs``/``close()`` for ``index_dir``.

    ``backend`` (``lucene``, ``bmp`` or ``seismic``) defaults to the one the index records; naming
    another is an error. A folder of shards (``index --shards``) is searched as one index, here or,
    with ``ray``, by one Ray actor per shard on the cluster at ``ray_address``.
    """
    from disco_pyserini.errors import InputError, import_ray_module
    from disco_pyserini.index.layout import check_backend, is_sharded

    options = options or EngineOptions()
    if is_sharded(index_dir):
        if ray:
            ray_shards = import_ray_module("disco_pyserini.search.ray_shards")
            return ray_shards.RayShardedSearcher(index_dir, backend, options, ray_address)
        from disco_pyserini.search.sharded import ShardedSearcher

        return ShardedSearcher(index_dir, backend, options)
    if ray:
        raise InputError("--ray searches a sharded index, one Ray actor per shard; build one with "
                         "'python -m disco_pyserini.index --shards N', or drop --ray", index_dir)
    backend = check_backend(index_dir, backend)
    try:
        with engine_messages_kept_on_success():
            return _open(index_dir, backend, options)
    except InputError:
        raise
    except BaseException as error:
        raise damaged_index(error, backend, index_dir) from None


@contextlib.contextmanager
def engine_messages_kept_on_success():
    """Hold what the engines write to file descriptor 2 while an index opens: a Rust panic prints its own
    multi-line report there before Python sees the error. Passed on if the index opens, dropped if not."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        held.seek(0)
        sys.stderr.write(held.read().decode("utf-8", "replace"))


def _open(index_dir: str | os.PathLike, backend: str, options: EngineOptions):
    if backend == "bmp":
        from disco_pyserini.search.bmp import BmpSearcher

        return BmpSearcher(index_dir, alpha=options.bmp_alpha, beta=options.bmp_beta)
    if backend == "seismic":
        from disco_pyserini.search.seismic import SeismicSearcher

        return SeismicSearcher(index_dir, query_cut=options.seismic_query_cut,
                               heap_factor=options.seismic_heap_factor, n_knn=options.seismic_knn)
    from disco_pyserini.search.searcher import ImpactSearcher

    return ImpactSearcher(index_dir)
