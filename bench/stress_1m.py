"""Stress run: index and search a synthetic corpus of 1M short documents; time and peak memory.

    python bench/stress_1m.py [--docs 1000000] [--queries 2000] [--threads 2] [--workdir bench/out/stress]

Vectors are generated directly (Zipf-distributed terms over a 30k vocabulary, ~30 terms per
document, integer impacts), so this measures our export format, validation, Anserini indexing and
search at scale, not the encoder. Exits non-zero on any failure.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def write_collection(directory: Path, docs: int, seed: int, per_file: int = 100_000) -> float:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"t{i}" for i in range(30_000)], dtype=object)
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for start in range(0, docs, per_file):
        with open(directory / f"part-000-{start // per_file:05d}.jsonl", "w", encoding="utf-8") as handle:
            for doc in range(start, min(start + per_file, docs)):
                ids = np.unique(np.minimum(rng.zipf(1.3, rng.integers(15, 45)), 30_000) - 1)
                weights = rng.integers(1, 300, len(ids))
                handle.write(json.dumps({"id": f"d{doc}", "contents": "",
                                         "vector": dict(zip(vocab[ids].tolist(), weights.tolist()))}) + "\n")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default="bench/out/stress")
    args = parser.parse_args()
    from disco_pyserini.index import build_index
    from disco_pyserini.search import ImpactSearcher

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    generate = write_collection(work / "vectors", args.docs, seed=0)
    size = sum(p.stat().st_size for p in (work / "vectors").glob("*.jsonl")) / 2**20
    print(f"generated {args.docs:,} docs ({size:.0f} MB JSONL) in {generate:.0f}s")

    stats = build_index(work / "vectors", work / "index", threads=args.threads)
    assert stats.documents == args.docs, stats
    index_mb = sum(p.stat().st_size for p in (work / "index").iterdir()) / 2**20
    print(f"indexed {stats.documents:,} docs in {stats.seconds:.0f}s ({stats.documents / stats.seconds:,.0f} docs/s, "
          f"validation included); index {index_mb:.0f} MB; peak RSS: java {peak_mb(resource.RUSAGE_CHILDREN):.0f} MB,"
          f" python {peak_mb(resource.RUSAGE_SELF):.0f} MB")

    rng = np.random.default_rng(1)
    queries = [{f"t{t}": int(w) for t, w in zip(np.unique(np.minimum(rng.zipf(1.3, 12), 30_000) - 1),
                                                 rng.integers(1, 300, 12))} for _ in range(args.queries)]
    searcher = ImpactSearcher(work / "index")
    started = time.perf_counter()
    for query in queries[:200]:
        assert len(searcher.search(query, 1000)) > 0
    single = (time.perf_counter() - started) / 200
    started = time.perf_counter()
    results = searcher.batch_search(queries, [f"q{i}" for i in range(len(queries))], 1000, args.threads)
    batch = time.perf_counter() - started
    assert len(results) == len(queries) and all(results.values())
    print(f"search k=1000: {single * 1e3:.1f} ms/query single-threaded; batch of {len(queries)} on {args.threads} "
          f"threads {len(queries) / batch:,.0f} queries/s; peak RSS python+JVM {peak_mb(resource.RUSAGE_SELF):.0f} MB")
    print("stress run OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
