"""Topics -> DiSCo query vectors -> impact search -> TREC run."""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, NamedTuple

from disco_pyserini.errors import InputError
from disco_pyserini.quantize import DEFAULT_FACTOR
from disco_pyserini.search.options import EngineOptions


class SearchStats(NamedTuple):
    queries: int
    encode_seconds: float
    search_seconds: float


@dataclasses.dataclass
class SearchOptions:
    """How ``search_topics`` formulates, encodes and searches each turn (the search CLI fills one).

    ``encoder`` is required for impact search; ``bm25`` searches the formulated text with BM25
    instead (baseline rows over an index built with ``index --bm25``). ``backend`` is the search
    engine (``lucene``, ``bmp``, ``seismic``; None: the one the index records), with its knobs in
    ``engine``; ``encoder_backend`` runs the query encoder on ``torch`` or ``onnx``. ``ray`` searches a
    sharded index with one Ray actor per shard (on the cluster at ``ray_address``).
    """

    encoder: str | None = None
    tokenizer: str | None = None
    topics_format: str | None = None
    policy: str = "disco"
    policy_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    rewrites: dict[str, str | os.PathLike] = dataclasses.field(default_factory=dict)
    history_cut: str = "auto"
    history_responses: str | None = None
    responses_from: str | os.PathLike | None = None
    strict: bool = False
    hits: int = 1000
    batch_size: int = 32
    threads: int = 1
    device: str | None = None
    dtype: str = "auto"
    encoder_backend: str = "torch"
    backend: str | None = None
    engine: EngineOptions = dataclasses.field(default_factory=EngineOptions)
    max_length: int = 256
    quantization_factor: float | None = None
    query_topk: int | None = None
    bm25: bool = False
    k1: float = 0.9
    b: float = 0.4
    run_tag: str | None = None
    progress: bool = True
    ray: bool = False
    ray_address: str | None = None

    @property
    def tag(self) -> str:
        """The run tag: ``--run-tag``, else ``disco``/``bm25`` with ``-<policy>`` unless the policy is disco."""
        method = "bm25" if self.bm25 else "disco"
        return self.run_tag or (method if self.policy == "disco" else f"{method}-{self.policy}")


def index_factor(metadata: dict | None, requested: float | None, index_dir: str | os.PathLike) -> float:
    """The query quantisation factor: the index's, unless the user asked for another explicitly."""
    indexed = None if metadata is None else metadata.get("quantization_factor")
    if requested is None:
        return float(indexed) if indexed is not None else DEFAULT_FACTOR
    if indexed is not None and float(indexed) != float(requested):
        raise InputError(f"index was built with --quantization-factor {float(indexed):g} but queries would use "
                         f"{float(requested):g}; "
                         "scores would not be comparable. Drop the flag or re-encode", index_dir)
    return float(requested)


def bm25_text(text: str) -> str:
    """A formulated query as BM25 bag-of-words text (``[SEP]`` would become the token "sep")."""
    return " ".join(text.replace("[SEP]", " ").split())


def run_metadata(index: str | os.PathLike, topics: str | os.PathLike, options: SearchOptions,
                 conversations: Any, responses: str) -> dict[str, Any]:
    """What a run was made from, written beside it as ``RUN.meta.json``."""
    fields = ("encoder", "policy", "policy_options", "rewrites", "hits", "query_topk", "max_length", "bm25")
    return {"index": str(index), "topics": str(topics), "topics_format": conversations.topics_format,
            "history_cut": conversations.history_cut, "history_responses": responses,
            "responses_from": None if conversations.responses_from is None else str(conversations.responses_from),
            "turns": len(conversations.turns),
            "turns_without_rewrite": list(conversations.without_rewrite),
            **{name: getattr(options, name) for name in fields}}


def search_topics(index: str | os.PathLike, topics: str | os.PathLike, output: str | os.PathLike,
                  options: SearchOptions | None = None) -> SearchStats:
    """Search every turn of ``topics`` and write the run, with what it was made from in ``RUN.meta.json``;
    batches encoding and Java-side search."""
    from tqdm import tqdm

    from disco_pyserini.encode.batching import length_sorted_batches
    from disco_pyserini.encode.conversations import load_conversations
    from disco_pyserini.encode.trained import training_config
    from disco_pyserini.search.backends import open_searcher
    from disco_pyserini.search.run_file import write_run, write_run_metadata
    from disco_pyserini.search.searcher import Bm25Searcher
    from disco_pyserini.topics import formulate

    options = options or SearchOptions()
    # parsed fully first: bad topics fail before model loading
    trained = {} if options.bm25 or options.encoder is None else training_config(options.encoder)
    responses = options.history_responses or trained.get("history_responses") or "all"
    # CAsT 2020's answers come from --responses-from, else from the searched index's stored texts
    conversations = load_conversations(topics, options.topics_format, options.rewrites, options.responses_from,
                                       options.policy, options.history_cut, options.strict, trained.get("history_cut"),
                                       history_responses=responses, collection=index)
    turns = conversations.turns
    policy = options.policy
    # fallback: turns without the policy's rewrite were warned about (or refused with --strict) above
    policy_options = dict(options.policy_options, cut=conversations.history_cut, responses=responses,
                          fallback=True)
    # Each turn is formulated once, here: the texts give the batches' lengths and are what the encoder (or BM25)
    # reads.
    texts = [formulate(turn, policy, **policy_options) for turn in turns]
    if options.bm25:
        if options.backend not in (None, "lucene"):
            raise InputError("--bm25 searches a Lucene BM25 index; drop --backend")
        if options.ray:
            raise InputError("--ray searches sharded impact indexes; drop it for a --bm25 run")
        searcher = Bm25Searcher(index, options.k1, options.b)

        def queries(batch: list[str]) -> list[str]:
            return [bm25_text(text) for text in batch]
    else:
        from disco_pyserini.encode.query import DiscoQueryEncoder

        if options.encoder is None:
            raise InputError("an impact search needs --encoder (or pass --bm25 with a BM25 index)")
        searcher = open_searcher(index, options.backend, options.engine, options.ray, options.ray_address)
        query_encoder = DiscoQueryEncoder(
            options.encoder, options.tokenizer, device=options.device, max_length=options.max_length,
            quantization_factor=index_factor(searcher.metadata, options.quantization_factor, index),
            dtype=options.dtype, batch_size=options.batch_size, top_k=options.query_topk,
            backend=options.encoder_backend)
        queries = query_encoder.encode_batch
    # Batches of similar length pad less: DiSCo inputs run from a few tokens (first turns) to 256. The run file
    # still lists turns in topic order.
    found: dict[str, list] = {}
    encode_seconds = search_seconds = 0.0
    try:
        with tqdm(total=len(turns), desc="search", unit="turn", disable=not options.progress) as bar:
            for indices in length_sorted_batches([len(text) for text in texts], options.batch_size):
                tick = time.perf_counter()
                batch_queries = queries([texts[i] for i in indices])
                tock = time.perf_counter()
                found.update(searcher.batch_search(batch_queries, [turns[i].query_id for i in indices],
                                                   options.hits, options.threads))
                search_seconds += time.perf_counter() - tock
                encode_seconds += tock - tick
                bar.update(len(indices))
    finally:
        searcher.close()  # Ray shards: their actors stop (and a cluster started for this search)
    write_run(((t.query_id, found[t.query_id]) for t in turns), output, options.tag)
    write_run_metadata(output, run_metadata(index, topics, options, conversations, responses))
    return SearchStats(len(turns), encode_seconds, search_seconds)
