"""Sharded search: 1, 2 and 4 shards against one index over the same documents, and Ray against local shards.

Collection: ``--docs`` generated vectors (the ``stress_1m.py`` corpus: Zipf terms over a 30k vocabulary, ~25
distinct terms/doc, impacts 1-300) in 4 part files, so ``index --shards 1|2|4`` cuts them into runs of files.
Queries: DiSCo-length vectors, 100-300 distinct Zipf-drawn terms with weights 1-1200 (a real SPLADE's scale at
quantisation factor 100).

Per searcher, on the same queries, interleaved query by query: median and p95 latency of ``search(q, k)``
(one thread), and batch throughput (``batch_search`` of all queries, ``--threads``). Every sharded run is checked
to give the single index's scores rank by rank. The baseline of each ratio is the single index, in the same run.
With ``--ray``: the same shards searched by one Ray actor per shard on a local cluster, against local shards.

    python bench/bench_shards.py --docs 200000 --queries 200 --k 1000 --threads 2 --ray
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import OUT, log, median, percentile, table

SHARDS = (1, 2, 4)


def collection(docs: int) -> Path:
    from stress_1m import write_collection

    root = OUT / f"shards-{docs}"
    if not (root / "vectors" / "done").exists():
        seconds = write_collection(root / "vectors", docs, seed=0, per_file=-(-docs // 4))
        (root / "vectors" / "encoding.json").write_text(json.dumps({"format": "disco-pyserini/impact-v1",
                                                                    "quantization_factor": 100.0}))
        (root / "vectors" / "done").write_text(f"{seconds}\n")
        log(f"generated {docs:,} docs in {seconds:.0f}s")
    return root


def queries(count: int, seed: int = 7) -> list[dict[str, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        terms: dict[int, None] = {}
        length = int(rng.integers(100, 301))
        while len(terms) < length:
            for t in np.minimum(rng.zipf(1.3, 4 * length), 30_000) - 1:
                terms.setdefault(int(t))
                if len(terms) == length:
                    break
        out.append({f"t{t}": int(w) for t, w in zip(terms, rng.integers(1, 1201, length))})
    return out


def build(root: Path, backend: str, threads: int) -> dict[str, dict]:
    """The single index and 1/2/4 shards of ``root/vectors``: build seconds and MB (cached in builds.json)."""
    from disco_pyserini.index.layout import folder_bytes
    from disco_pyserini.index.shards import build_backend, build_sharded_index

    cache = root / f"builds-{backend}.json"
    builds = json.loads(cache.read_text()) if cache.exists() else {}
    options = {"threads": threads} if backend != "bmp" else {}
    if "single" not in builds:
        stats = build_backend(backend, root / "vectors", root / f"{backend}-single", options)
        builds["single"] = {"seconds": stats.seconds}
    for n in SHARDS:
        if str(n) not in builds:
            _, seconds = build_sharded_index(root / "vectors", root / f"{backend}-{n}", n, backend=backend,
                                             threads=threads, progress=False)
            builds[str(n)] = {"seconds": seconds}
    for name in builds:
        folder = root / f"{backend}-{name}"
        builds[name]["mb"] = folder_bytes(folder) / 1e6
    cache.write_text(json.dumps(builds, indent=2))
    return builds


def measure(searchers: dict[str, object], qs: list[dict[str, int]], k: int, threads: int) -> dict[str, dict]:
    """Latency (interleaved query by query) and batch throughput per searcher; scores checked against 'single'."""
    latency: dict[str, list[float]] = {name: [] for name in searchers}
    for query in qs:
        expected = None
        for name, searcher in searchers.items():
            tick = time.perf_counter()
            hits = searcher.search(query, k)
            latency[name].append(time.perf_counter() - tick)
            scores = [h.score for h in hits]
            expected = scores if expected is None else expected
            assert scores == expected, f"{name} differs from the single index"
    qids = [str(i) for i in range(len(qs))]
    out = {}
    for name, searcher in searchers.items():
        tick = time.perf_counter()
        searcher.batch_search(qs, qids, k, threads)
        seconds = time.perf_counter() - tick
        out[name] = {"median_ms": median(latency[name]) * 1e3, "p95_ms": percentile(latency[name], 95) * 1e3,
                     "qps": len(qs) / seconds}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backend", default="lucene", choices=["lucene", "bmp"])
    parser.add_argument("--ray", action="store_true", help="also search the shards with one Ray actor per shard")
    parser.add_argument("--ray-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ray_child:
        return ray_child(args)

    from disco_pyserini.search import open_searcher

    root = collection(args.docs)
    builds = build(root, args.backend, args.threads)
    qs = queries(args.queries)
    searchers = {"single": open_searcher(root / f"{args.backend}-single")}
    searchers.update({f"{n} shard{'s' * (n > 1)}": open_searcher(root / f"{args.backend}-{n}") for n in SHARDS})
    for searcher in searchers.values():  # warm up: JIT, page cache
        for query in qs[:20]:
            searcher.search(query, args.k)
    results = measure(searchers, qs, args.k, args.threads)
    base = results["single"]
    rows = []
    for name, found in results.items():
        build_key = "single" if name == "single" else name.split()[0]
        rows.append([name, builds[build_key]["seconds"], builds[build_key]["mb"], found["median_ms"], found["p95_ms"],
                     found["qps"], found["median_ms"] / base["median_ms"], found["qps"] / base["qps"]])
    print(f"\n{args.docs:,} docs, {args.queries} queries of 100-300 terms, k={args.k}, {args.backend}, "
          f"batch threads {args.threads}\n")
    print(table(rows, ["searcher", "build s", "MB", "median ms", "p95 ms", "batch q/s", "median x single",
                       "q/s x single"]), flush=True)
    # per-query cost is a fixed part (query terms, JNI) plus a part growing with the documents: read the two from
    # runs at two --docs (one point cannot split them)
    print(f"\nsingle index: {base['median_ms']:.1f} ms median per query at {args.docs:,} documents; "
          f"{builds['single']['mb'] / args.docs * 1e6:.0f} MB per million documents", flush=True)
    if args.ray:
        # In a process of its own: Ray's native signal handlers in a process that also runs a JVM (the local
        # Lucene searchers above) can abort it (seen: SIGABRT in the JVM). search --ray's driver runs no JVM.
        command = [sys.executable, __file__, "--ray-child", "--docs", str(args.docs), "--queries", str(args.queries),
                   "--k", str(args.k), "--threads", str(args.threads), "--backend", args.backend]
        remote = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        rows = [[f"{name}, local", results[name]["median_ms"], results[name]["p95_ms"], results[name]["qps"], 1.0, 1.0]
                for name in ("2 shards", "4 shards")]
        rows += [[f"{name}, Ray", f["median_ms"], f["p95_ms"], f["qps"], f["median_ms"] / results[name]["median_ms"],
                  f["qps"] / results[name]["qps"]] for name, f in remote.items()]
        print("\nRay (local cluster, one actor per shard) against the same shards searched locally:\n")
        print(table(rows, ["searcher", "median ms", "p95 ms", "batch q/s", "median x local", "q/s x local"]),
              flush=True)


def ray_child(args: argparse.Namespace) -> None:
    """The Ray measurements (one actor per shard, 2 and 4 shards), as JSON on the last line of stdout."""
    import logging

    import ray

    from disco_pyserini.search import open_searcher

    root = collection(args.docs)
    qs = queries(args.queries)
    ray.init(address="local", num_cpus=args.threads, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    remote = {}
    for n in SHARDS[1:]:
        tick = time.perf_counter()
        remote[f"{n} shards"] = open_searcher(root / f"{args.backend}-{n}", ray=True)
        log(f"{n} Ray actors ready in {time.perf_counter() - tick:.1f}s")
    for searcher in remote.values():
        for query in qs[:20]:
            searcher.search(query, args.k)
    found = measure(remote, qs, args.k, args.threads)
    for searcher in remote.values():
        searcher.close()
    ray.shutdown()
    print(json.dumps(found))


if __name__ == "__main__":
    main()
