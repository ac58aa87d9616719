"""``encode docs --ray``: a corpus encoded by a pool of Ray actors, on one machine or a cluster.

How it runs (Ray Data, streaming; only this module imports ray):

1. The driver splits the shard's line range into chunks of ``--docs-per-file`` lines: the chunks
   and part file names of the single-process export (:mod:`.export`), so either can resume the
   other's output. For an uncompressed corpus it finds each chunk's byte offset in one scan.
2. A Ray Data datasource reads the chunks on the cluster, not on the driver, which ships no text:
   one read task per chunk seeks to its offset (a gzipped corpus cannot seek, so one task reads it
   sequentially). Records are parsed there, so a bad one fails with its file:line; a chunk whose
   part file is already complete (verified by its ids, as in the single-process export) passes on
   without its texts.
3. ``map_batches`` on an actor pool (``--ray-actors``, ``--ray-gpus-per-actor``) encodes one chunk
   per call with the single-process code (same batching, same quantisation, so the same vectors):
   each actor loads the model once and writes the chunk's part file atomically (temporary name,
   then rename), so the output holds only complete parts whatever fails.
4. The driver streams the per-chunk results into a progress bar counting documents. Ray schedules
   the tasks and restarts actors lost with a node, retrying their chunk. An error in a worker ends
   the run: a bad record becomes the usual one-line ``error: FILE:LINE: ...``.

The corpus and ``--output`` must be paths every node sees (a shared filesystem), and every node
needs disco-pyserini installed with the ``ray`` extra. Workers' own logs stay in Ray's session
directory (``/tmp/ray/session_latest/logs``) rather than on the driver's terminal.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import os
import platform
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import pyarrow as pa
import ray
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from disco_pyserini.encode.corpus import Doc, line_offsets, read_corpus, titled_header
from disco_pyserini.encode.export import (METADATA, ExportStats, chunk_done, chunk_path, corpus_range, encode_chunk,
                                          prepare_output, remove_stale_parts, remove_stale_temporaries, write_chunk)
from disco_pyserini.errors import InputError

# One row per chunk. Large lists and strings: a chunk's texts may exceed 32-bit Arrow offsets (2 GB).
CHUNK_SCHEMA = pa.schema([("chunk", pa.int64()), ("documents", pa.int64()), ("done", pa.bool_()),
                          ("ids", pa.large_list(pa.large_string())), ("texts", pa.large_list(pa.large_string())),
                          ("error", pa.string())])
RESULT_SCHEMA = pa.schema([("chunk", pa.int64()), ("documents", pa.int64()), ("done", pa.bool_()),
                           ("postings", pa.int64()), ("empty", pa.large_list(pa.large_string())),
                           ("error", pa.string())])


# A worker's InputError travels to the driver as data, in the chunk's row: raised, Ray would wrap it
# (UserCodeException, a dead actor for a constructor) and drop its fields, the file and line.
def _error_json(error: InputError) -> str:
    return json.dumps({"message": error.problem, "path": error.path, "line": error.line})


def _error_from_json(text: str) -> InputError:
    return InputError(**json.loads(text))


def _not_shared(path: str | os.PathLike, flag: str) -> InputError:
    return InputError(f"not found on Ray node {platform.node()}: {flag} must be on a filesystem every node sees, "
                      "at the same path", path)


class Chunk(NamedTuple):
    """Lines ``[start, stop)`` of the corpus, written to part file number ``index``."""

    index: int
    start: int
    stop: int
    offset: int | None  # byte offset of line ``start``; None for a gzipped corpus


def plan_chunks(corpus: str | os.PathLike, start: int, stop: int, docs_per_file: int) -> list[Chunk]:
    """The single-process export's chunks of lines ``[start, stop)``, with byte offsets where seekable.

    As there, a chunk is ``docs_per_file`` documents: a titled TSV's header (line 0) is in none.
    """
    if docs_per_file < 1:
        raise InputError(f"--docs-per-file must be positive (got {docs_per_file})")
    if start == 0 and stop > 0 and titled_header(corpus):
        start = 1
    bounds = list(range(start, stop, docs_per_file))
    offsets: list[int | None] = [None] * len(bounds)
    if Path(corpus).suffix != ".gz":
        offsets = list(line_offsets(corpus, bounds))
    return [Chunk(i, a, min(a + docs_per_file, stop), o) for i, (a, o) in enumerate(zip(bounds, offsets))]


def _read_chunks(corpus: str, chunks: Sequence[Chunk], output_dir: Path, shard_id: int) -> Iterator[pa.Table]:
    """One table row per chunk: its documents, only their count when its part file is complete, or an error."""
    docs_iter = read_corpus(corpus, chunks[0].start, chunks[-1].stop, chunks[0].offset)
    for chunk in chunks:
        row = {"chunk": [chunk.index], "documents": [chunk.stop - chunk.start], "done": [False], "ids": [[]],
               "texts": [[]], "error": [None]}
        try:
            docs = list(itertools.islice(docs_iter, chunk.stop - chunk.start))
        except FileNotFoundError:
            row["error"] = [_error_json(_not_shared(corpus, "--corpus"))]
            yield pa.table(row, schema=CHUNK_SCHEMA)
            return
        except InputError as error:
            row["error"] = [_error_json(error)]
            yield pa.table(row, schema=CHUNK_SCHEMA)
            return
        if chunk_done(chunk_path(output_dir, shard_id, chunk.index), docs):
            row["done"] = [True]
        else:
            row["ids"], row["texts"] = [[d.doc_id for d in docs]], [[d.text for d in docs]]
        yield pa.table(row, schema=CHUNK_SCHEMA)


class CorpusChunks(Datasource):
    """A corpus as a Ray Data datasource of chunk rows (see :data:`CHUNK_SCHEMA`), read where it runs."""

    def __init__(self, corpus: str | os.PathLike, chunks: Sequence[Chunk], output_dir: Path, shard_id: int):
        super().__init__()
        self.corpus, self.chunks = os.fspath(corpus), list(chunks)
        self.output_dir, self.shard_id = output_dir, shard_id

    def estimate_inmemory_data_size(self) -> int:
        return os.path.getsize(self.corpus)

    def groups(self) -> list[list[Chunk]]:
        """The chunks each read task reads: one task per chunk, seeking to its first line, or one for a gzipped
        corpus, which cannot seek."""
        if self.chunks and self.chunks[0].offset is None:
            return [self.chunks]
        return [[chunk] for chunk in self.chunks]

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context=None) -> list[ReadTask]:
        tasks = []
        for group in self.groups():
            read = functools.partial(_read_chunks, self.corpus, group, self.output_dir, self.shard_id)
            metadata = BlockMetadata(num_rows=len(group), size_bytes=None, exec_stats=None,
                                     input_files=(self.corpus,))
            tasks.append(ReadTask(read, metadata, schema=CHUNK_SCHEMA))
        return tasks


class ChunkEncoder:
    """The Ray Data UDF of each actor: loads the encoder once, then encodes and writes one chunk per call."""

    def __init__(self, encoder_options: dict, device: str, threads: int | None, output_dir: Path, shard_id: int,
                 factor: float, store_contents: bool):
        import torch

        from disco_pyserini.encode.splade import SpladeEncoder

        if threads:
            torch.set_num_threads(threads)
        self.output_dir, self.shard_id = output_dir, shard_id
        self.factor, self.store_contents = factor, store_contents
        self.error: str | None = None
        try:
            if not (output_dir / METADATA).is_file():  # written by the driver before the actors start
                raise _not_shared(output_dir, "--output")
            self.encoder = SpladeEncoder(device=device, **encoder_options)
        except InputError as error:  # reported with each chunk (a constructor that raises is retried)
            self.error = _error_json(error)

    def __call__(self, batch: pa.Table) -> pa.Table:
        (row,) = batch.to_pylist()  # batch_size=1: one chunk
        postings, empty = 0, []
        error = row["error"] or self.error
        if not row["done"] and error is None:
            docs = [Doc(doc_id, text) for doc_id, text in zip(row["ids"], row["texts"])]
            try:
                vectors = encode_chunk(self.encoder, docs, self.factor)
            except InputError as failure:
                error = _error_json(failure)
            else:
                write_chunk(chunk_path(self.output_dir, self.shard_id, row["chunk"]), docs, vectors,
                            self.store_contents)
                postings = sum(len(v) for v in vectors)
                empty = [doc.doc_id for doc, vector in zip(docs, vectors) if not vector]
        return pa.table({"chunk": [row["chunk"]], "documents": [row["documents"]], "done": [row["done"]],
                         "postings": [postings], "empty": [empty], "error": [error]}, schema=RESULT_SCHEMA)


class Pool(NamedTuple):
    """The actor pool's shape: how many actors and what each reserves."""

    actors: int
    gpus: float  # per actor; 0: encode on the CPU
    cpus: float  # per actor (torch threads on a CPU-only pool)


def plan_pool(actors: int | None, gpus_per_actor: float | None, chunks: int) -> Pool:
    """The pool for ``chunks`` chunks on the connected cluster.

    Defaults: one actor per GPU, else one per node sharing the CPUs evenly; never more actors than chunks.
    """
    resources = ray.cluster_resources()
    gpus, cpus = resources.get("GPU", 0.0), resources.get("CPU", 1.0)
    if actors is not None and actors < 1:
        raise InputError(f"--ray-actors must be positive (got {actors})")
    if gpus_per_actor is None:
        gpus_per_actor = 1.0 if gpus else 0.0
    if gpus_per_actor < 0:
        raise InputError(f"--ray-gpus-per-actor must be >= 0 (got {gpus_per_actor:g})")
    if gpus_per_actor > 0:
        actors = actors or max(int(gpus // gpus_per_actor), 1)
        if actors * gpus_per_actor > gpus:
            raise InputError(f"{actors} actors x {gpus_per_actor:g} GPUs need more than the Ray cluster's {gpus:g} "
                             "GPUs; lower --ray-actors, or pass --ray-gpus-per-actor 0 to encode on CPUs")
        return Pool(min(actors, chunks), gpus_per_actor, 1.0)
    actors = actors or sum(1 for node in ray.nodes() if node.get("Alive"))
    if actors > cpus:
        raise InputError(f"--ray-actors {actors} is more than the Ray cluster's {cpus:g} CPUs")
    actors = min(actors, chunks)
    return Pool(actors, 0.0, float(max(int(cpus // actors), 1)))


@contextlib.contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """Our progress bar instead of Ray Data's; its console log (plans, tracebacks) only in its log file."""
    context = ray.data.DataContext.get_current()
    saved = context.enable_progress_bars, context.enable_auto_log_stats
    context.enable_progress_bars = context.enable_auto_log_stats = False
    handlers = [h for h in logging.getLogger("ray.data").handlers if not isinstance(h, logging.FileHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        context.enable_progress_bars, context.enable_auto_log_stats = saved
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)


def export_corpus_ray(encoder_options: dict, corpus: str | os.PathLike, output_dir: str | os.PathLike, *,
                      factor: float, shard_id: int = 0, shard_num: int = 1, docs_per_file: int = 100_000,
                      store_contents: bool = True, progress: bool = True, metadata: dict | None = None,
                      actors: int | None = None, gpus_per_actor: float | None = None,
                      overwrite: bool = False) -> ExportStats:
    """:func:`.export.export_corpus` on the connected Ray cluster's actors (see :func:`connect`).

    ``encoder_options`` are :class:`SpladeEncoder`'s arguments but ``device``: each actor uses its GPU
    when ``gpus_per_actor`` > 0, the CPU otherwise.
    """
    from tqdm import tqdm

    output_dir = Path(output_dir).absolute()  # workers may run in another directory
    corpus = Path(corpus).absolute()
    start, stop = corpus_range(corpus, shard_id, shard_num, docs_per_file)
    prepare_output(output_dir, factor, metadata, shard_id, overwrite)
    chunks = plan_chunks(corpus, start, stop, docs_per_file)
    if not chunks:  # an empty shard (more shards than documents): nothing to write or replace
        return ExportStats(0, 0, 0, 0)
    pool = plan_pool(actors, gpus_per_actor, len(chunks))
    device = "cuda" if pool.gpus else "cpu"
    threads = int(pool.cpus) if not pool.gpus else None
    written = skipped = postings = 0
    empty: list[str] = []
    try:
        with _quiet_ray_data(), tqdm(total=sum(c.stop - c.start for c in chunks), unit="doc", disable=not progress,
                                     desc=f"encode shard {shard_id} on {pool.actors} Ray actors") as bar:
            # Reading takes a sliver of the encoding time: no CPU reserved (actors may hold them all), and as
            # many readers as actors, which Ray Data's backpressure keeps a few chunks ahead of them. One
            # block per read task: Ray Data would otherwise split blocks to reach its default parallelism.
            source = CorpusChunks(corpus, chunks, output_dir, shard_id)
            tasks = len(source.groups())
            dataset = ray.data.read_datasource(source, num_cpus=0, concurrency=min(pool.actors, tasks),
                                               override_num_blocks=tasks)
            dataset = dataset.map_batches(
                ChunkEncoder, batch_size=1, batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=pool.actors), num_gpus=pool.gpus, num_cpus=pool.cpus,
                fn_constructor_args=(encoder_options, device, threads, output_dir, shard_id, factor,
                                     store_contents))
            rows = iter(dataset.iter_rows())
            try:
                for row in rows:
                    if row["error"] is not None:
                        raise _error_from_json(row["error"])
                    if row["done"]:
                        skipped += row["documents"]
                    else:
                        written += row["documents"]
                        postings += row["postings"]
                        empty += row["empty"]
                    bar.update(row["documents"])
            finally:
                rows.close()  # stops the execution and its actors now, not when garbage-collected
    except BaseException:
        remove_stale_temporaries(output_dir, shard_id)  # of actors killed mid-write when the run was aborted
        raise
    remove_stale_parts(output_dir, shard_id, len(chunks))
    return ExportStats(written, skipped, len(chunks), postings, tuple(empty))


def vocabulary_size(model: str, tokenizer: str | None = None) -> int:
    """:class:`SpladeEncoder`'s vocabulary size (its ``terms``) from config and tokenizer, without the weights."""
    from transformers import AutoConfig, AutoTokenizer

    from disco_pyserini.hub import model_source

    model = model_source(model, "encoder")  # a wrong name is one line here, before any actor starts
    tokenizer = model_source(tokenizer, "tokenizer") if tokenizer else model
    return max(len(AutoTokenizer.from_pretrained(tokenizer).get_vocab()), AutoConfig.from_pretrained(model).vocab_size)


@contextlib.contextmanager
def connect(address: str | None = None) -> Iterator[None]:
    """Connect to the Ray cluster at ``address`` (else ``RAY_ADDRESS``), or start a local one; shut down after.

    Where this process is already connected, that connection is used (and kept).
    """
    if ray.is_initialized():  # e.g. a notebook's or a test's own cluster
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    local = {"include_dashboard": False} if address == "local" else {}
    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, **local)
    try:
        yield
    finally:
        ray.shutdown()
