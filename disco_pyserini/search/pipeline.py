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


def search_topics(index: str | os.PathLike, topics: str | os.PathLike, encoder: str, output: str | os.PathLike, *,
                  topics_format: str | None = None, tokenizer: str | None = None, policy: str = "disco",
                  policy_options: dict | None = None, hits: int = 1000, batch_size: int = 32, threads: int = 1,
                  device: str | None = None, dtype: str = "auto", max_length: int = 256,
                  quantization_factor: float | None = None, run_tag: str | None = None, progress: bool = True) -> SearchStats:
    """Search every turn of ``topics`` and write the run; batches encoding and Java-side search."""
    from tqdm import tqdm

    from disco_pyserini.encode.query import DiscoQueryEncoder
    from disco_pyserini.search.run_file import write_run
    from disco_pyserini.search.searcher import ImpactSearcher
    from disco_pyserini.topics import load_topics

    turns = list(load_topics(topics, topics_format))  # parse fully first: bad topics fail before model loading
    if not turns:
        raise InputError("no turns found", topics)
    searcher = ImpactSearcher(index)
    factor = index_factor(searcher.metadata, quantization_factor, index)
    query_encoder = DiscoQueryEncoder(encoder, tokenizer, device=device, max_length=max_length,
                                      quantization_factor=factor, policy=policy, dtype=dtype, batch_size=batch_size,
                                      policy_options=policy_options)
    results = []
    encode_seconds = search_seconds = 0.0
    with tqdm(total=len(turns), desc="search", unit="turn", disable=not progress) as bar:
        for start in range(0, len(turns), batch_size):
            batch = turns[start:start + batch_size]
            tick = time.perf_counter()
            vectors = query_encoder.encode_batch(batch)
            tock = time.perf_counter()
            found = searcher.batch_search(vectors, [t.query_id for t in batch], hits, threads)
            search_seconds += time.perf_counter() - tock
            encode_seconds += tock - tick
            results.extend((t.query_id, found[t.query_id]) for t in batch)
            bar.update(len(batch))
    write_run(results, output, run_tag or ("disco" if policy == "disco" else f"disco-{policy}"))
    return SearchStats(len(turns), encode_seconds, search_seconds)
