"""Topics -> DiSCo query vectors -> impact search -> TREC run."""
from __future__ import annotations

import os
import time
from typing import NamedTuple

from disco_pyserini.errors import InputError
from disco_pyserini.quantize import DEFAULT_FACTOR


class SearchStats(NamedTuple):
    queries: int
    encode_seconds: float
    search_seconds: float


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


def load_turns(topics: str | os.PathLike, topics_format: str | None = None,
               rewrites: dict[str, str | os.PathLike] | None = None) -> list:
    """All turns of a topics file, with named LLM rewrite files attached (``{name: path}``)."""
    from disco_pyserini.topics import attach_rewrites, load_topics

    turns = load_topics(topics, topics_format)
    for name, path in (rewrites or {}).items():
        turns = attach_rewrites(turns, path, name)
    turns = list(turns)
    if not turns:
        raise InputError("no turns found", topics)
    seen: set[str] = set()
    for turn in turns:
        if turn.query_id in seen:
            raise InputError(f"query id {turn.query_id!r} occurs twice; each turn needs its own id for the run "
                             "and the qrels", topics)
        seen.add(turn.query_id)
    return turns


def bm25_text(text: str) -> str:
    """A formulated query as BM25 bag-of-words text (``[SEP]`` would become the token "sep")."""
    return " ".join(text.replace("[SEP]", " ").split())


def search_topics(index: str | os.PathLike, topics: str | os.PathLike, encoder: str | None,
                  output: str | os.PathLike, *, topics_format: str | None = None, tokenizer: str | None = None,
                  policy: str = "disco", policy_options: dict | None = None, hits: int = 1000, batch_size: int = 32,
                  threads: int = 1, device: str | None = None, dtype: str = "auto", max_length: int = 256,
                  quantization_factor: float | None = None, bm25: bool = False, k1: float = 0.9, b: float = 0.4,
                  rewrites: dict[str, str | os.PathLike] | None = None, run_tag: str | None = None,
                  query_topk: int | None = None, backend: str = "torch", progress: bool = True) -> SearchStats:
    """Search every turn of ``topics`` and write the run; batches encoding and Java-side search.

    With ``bm25`` the formulated text is searched with BM25 over a passage-text index (baseline rows);
    otherwise ``encoder`` turns each formulated turn into integer impacts for an impact index.
    """
    from tqdm import tqdm

    from disco_pyserini.encode.batching import length_sorted_batches
    from disco_pyserini.search.run_file import write_run
    from disco_pyserini.search.searcher import Bm25Searcher, ImpactSearcher
    from disco_pyserini.topics import formulate

    turns = load_turns(topics, topics_format, rewrites)  # parsed fully first: bad topics fail before model loading
    options = policy_options or {}
    if bm25:
        searcher = Bm25Searcher(index, k1, b)

        def queries(batch):
            return [bm25_text(formulate(turn, policy, **options)) for turn in batch]
    else:
        from disco_pyserini.encode.query import DiscoQueryEncoder

        if encoder is None:
            raise InputError("an impact search needs --encoder (or pass --bm25 with a BM25 index)")
        searcher = ImpactSearcher(index)
        query_encoder = DiscoQueryEncoder(encoder, tokenizer, device=device, max_length=max_length,
                                          quantization_factor=index_factor(searcher.metadata, quantization_factor,
                                                                           index),
                                          policy=policy, dtype=dtype, batch_size=batch_size,
                                          policy_options=policy_options, top_k=query_topk,
                                          backend=backend)
        queries = query_encoder.encode_batch
    # Batches of similar length pad less: DiSCo inputs run from a few tokens (first turns) to 256. The run file
    # still lists turns in topic order.
    lengths = [len(formulate(turn, policy, **options)) for turn in turns]
    found: dict[str, list] = {}
    encode_seconds = search_seconds = 0.0
    with tqdm(total=len(turns), desc="search", unit="turn", disable=not progress) as bar:
        for indices in length_sorted_batches(lengths, batch_size):
            batch = [turns[i] for i in indices]
            tick = time.perf_counter()
            batch_queries = queries(batch)
            tock = time.perf_counter()
            found.update(searcher.batch_search(batch_queries, [t.query_id for t in batch], hits, threads))
            search_seconds += time.perf_counter() - tock
            encode_seconds += tock - tick
            bar.update(len(batch))
    method = "bm25" if bm25 else "disco"
    write_run(((t.query_id, found[t.query_id]) for t in turns), output,
              run_tag or (method if policy == "disco" else f"{method}-{policy}"))
    return SearchStats(len(turns), encode_seconds, search_seconds)
