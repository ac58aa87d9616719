"""``bench_backends.py --real``: Lucene vs BMP vs Seismic on real text, a real SPLADE and real conversational queries.

* Collection: ``real_corpus.py`` (WordNet 3.0 glosses + GCIDE entries from Debian packages, shuffled), encoded by
  ``python -m disco_pyserini.encode docs`` with ``--encoder`` (splade-tiny) in part files of ``PART_DOCS`` passages,
  resumably; the sizes in ``--docs`` are prefixes of that one encoding (multiples of ``PART_DOCS``).
* Queries: every turn of the CAsT 2019-2022 and iKAT 2023/2025 topic files in ``tests/data``, formulated by
  ``--policy disco`` (256 tokens) and encoded by ``python -m disco_pyserini.encode queries``, once in full and once
  with ``--query-topk 64``; ``--queries`` evenly spaced turns of each set are searched.
* Per size: Lucene, the BMP variants of ``--bmp`` and the Seismic variants of ``--seismic`` are built (seconds,
  folder MB). Per k, every system searches all the queries in a pass, systems alternating in ABBA rounds, on one thread:
  median/p95 latency, recall@10/@100 against Lucene's exact top k (tie-aware: a hit counts when its exact score reaches
  Lucene's n-th), and for BMP whether each score list equals Lucene's. Then ``batch_search`` over the whole set with
  ``--threads`` threads (q/s), systems alternated.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import OUT, REPO, cached_builds, log, median, percentile, recall, table
from real_corpus import build_corpus

PART_DOCS = 25_000
TOPICS = {
    "CAsT 2019": "cast/2019/evaluation_topics_v1.0.json",
    "CAsT 2020": "cast/2020/2020_manual_evaluation_topics_v1.0.json",
    "CAsT 2021": "cast/2021/2021_manual_evaluation_topics_v1.0.json",
    "CAsT 2022": "cast/2022/2022_evaluation_topics_tree_v1.0.json",
    "iKAT 2023": "ikat/2023/2023_test_topics.json",
    "iKAT 2025": "ikat/2025/2025_test_topics.json",
}
SPLADE_PP_UNITS = 5900  # impact units per MS MARCO passage in Pyserini's prebuilt SPLADE++ ED index (issue 24)
SEISMIC_CURVE = [(cut, heap) for cut in (5, 10, 15, 20, 30, 50) for heap in (0.8, 0.9, 1.0)]  # (50, 0.8): defaults
KNN_CURVE = (5, 10, 20)  # neighbours scored per result, on an index with a k-NN graph
ROUNDS = 2  # passes over the queries per system; each query's latency is its best pass


def run(*args: str) -> None:
    """A project command in a subprocess, as a user would run it (this checkout's code first)."""
    import os

    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    subprocess.run([sys.executable, "-m", *args], check=True, env=env, cwd=REPO)


def encode_collection(corpus: Path, encoder: str, vectors: Path, encode: bool) -> int:
    """Encode ``corpus`` into ``vectors`` (resumes finished part files); returns the documents encoded so far."""
    if encode:
        tick = time.perf_counter()
        run("disco_pyserini.encode", "docs", "--encoder", encoder, "--corpus", str(corpus), "--output", str(vectors),
            "--docs-per-file", str(PART_DOCS), "--batch-size", "64", "--device", "cpu", "--no-contents")
        log(f"encode docs: {time.perf_counter() - tick:.0f}s (resumed parts not counted)")
    return PART_DOCS * len(list(vectors.glob("part-*.jsonl")))


def prefix(vectors: Path, docs: int) -> Path:
    """A folder holding the first ``docs // PART_DOCS`` part files of ``vectors`` (symbolic links)."""
    folder = vectors.parent / f"vectors-{docs}"
    if not folder.exists():
        folder.mkdir()
        (folder / "encoding.json").symlink_to(vectors / "encoding.json")
        for part in sorted(vectors.glob("part-*.jsonl"))[:docs // PART_DOCS]:
            (folder / part.name).symlink_to(part)
    return folder


def spaced(turns: list[tuple[str, dict[str, int]]], count: int) -> list[dict[str, int]]:
    """The vectors of ``count`` evenly spaced turns (all of them when there are fewer)."""
    return [turns[i][1] for i in np.linspace(0, len(turns) - 1, min(count, len(turns))).astype(int)]


def encode_queries(encoder: str, root: Path, variants: list[str]) -> dict[str, list[tuple[str, dict[str, int]]]]:
    """``{"full" | "top64": [(qid, vector)]}`` over every topic file (encoded once, cached)."""
    out: dict[str, list] = {variant: [] for variant in variants}
    for name, path in TOPICS.items():
        for variant, suffix, extra in (("full", "", ()), ("top64", "-top64", ("--query-topk", "64"))):
            if variant not in variants:
                continue
            target = root / f"{name.replace(' ', '').lower()}{suffix}.jsonl"
            if not target.exists():
                run("disco_pyserini.encode", "queries", "--encoder", encoder, "--device", "cpu", "--topics",
                    str(REPO / "tests" / "data" / path), "--policy", "disco", *extra, "--output", str(target))
            with open(target, encoding="utf-8") as handle:
                out[variant] += [(f"{name}/{r['qid']}", r["vector"]) for r in map(json.loads, handle)]
    return out


def describe(vectors: Path, queries: dict[str, list]) -> str:
    """Terms per document and impact distribution of the collection and the queries, beside SPLADE++'s."""
    from disco_pyserini.encode.export import iter_vectors

    terms, units, impacts = [], [], []
    for _, vector in iter_vectors(vectors):
        values = list(vector.values())
        terms.append(len(values))
        units.append(sum(values))
        impacts += values
    impacts = np.array(impacts)
    rows = [["documents (splade-tiny)", f"{len(terms):,}", f"{np.mean(terms):.1f}", f"{np.percentile(terms, 95):.0f}",
             f"{np.mean(units):,.0f}", f"{np.median(impacts):.0f}", f"{np.percentile(impacts, 99):.0f}",
             f"{impacts.max()}"],
            ["MS MARCO passages, SPLADE++ ED (Pyserini prebuilt)", "8,841,823", "", "", f"~{SPLADE_PP_UNITS:,}",
             "", "", ""]]
    for variant, label in (("full", "queries, --policy disco"), ("top64", "queries, --policy disco --query-topk 64")):
        if variant not in queries:
            continue
        lengths = [len(v) for _, v in queries[variant]]
        sums = [sum(v.values()) for _, v in queries[variant]]
        weights = np.array([w for _, v in queries[variant] for w in v.values()])
        rows.append([label, f"{len(lengths):,}", f"{np.mean(lengths):.1f}", f"{np.percentile(lengths, 95):.0f}",
                     f"{np.mean(sums):,.0f}", f"{np.median(weights):.0f}", f"{np.percentile(weights, 99):.0f}",
                     f"{weights.max()}"])
    return table(rows, ["vectors", "count", "terms (mean)", "terms (p95)", "impact units (mean sum)",
                        "impact median", "impact p99", "impact max"])


def bmp_label(reorder: str, block: int) -> str:
    """A BMP variant's name in the tables."""
    order = "collection order" if reorder == "none" else f"{reorder} order"
    return f"BMP exact, {order}" + ("" if block == 32 else f", block {block}")


def seismic_label(variant: tuple[int, float, float, int], cut: int, heap: float, n_knn: int = 0) -> str:
    """A Seismic setting's name in the tables (``variant``: postings, energy, centroid fraction, k-NN graph)."""
    postings, energy, centroids, graph = variant
    name = f"Seismic {postings} postings, energy {energy}, centroids {centroids}"
    return name + (f", graph {graph}, knn {n_knn}" if graph else "") + f", cut {cut}, heap {heap}"


def seismic_settings(variant: tuple[int, float, float, int]) -> list[tuple[int, float, int]]:
    """``(cut, heap, n_knn)`` measured on an index variant: the curve, and with a k-NN graph the curve per ``n_knn``
    (without it, such an index searches like the same variant built without a graph)."""
    graph = variant[3]
    neighbours = sorted({n for n in KNN_CURVE if n <= graph} | {graph}) if graph else [0]
    return [(cut, heap, n) for cut, heap in SEISMIC_CURVE for n in neighbours]


def build_all(vectors: Path, root: Path, bmp: list[tuple[str, int]], seismic: list[tuple[int, float, float, int]],
              threads: int) -> dict[str, dict]:
    """Each engine's index of ``vectors`` under ``root`` (cached with its build seconds in builds.json)."""
    from disco_pyserini.index import build_index
    from disco_pyserini.index.bmp import build_bmp_index
    from disco_pyserini.index.seismic import build_seismic_index

    builders = {"lucene": lambda out: build_index(vectors, out, threads=threads, overwrite=True)}
    for reorder, block in bmp:
        builders[bmp_folder(reorder, block)] = (
            lambda out, r=reorder, b=block: build_bmp_index(vectors, out, block_size=b, reorder=r, overwrite=True))
    for variant in seismic:
        postings, energy, centroids, graph = variant
        builders[seismic_folder(variant)] = (
            lambda out, p=postings, e=energy, c=centroids, g=graph: build_seismic_index(
                vectors, out, n_postings=p, summary_energy=e, centroid_fraction=c, knn=g, threads=threads,
                overwrite=True))
    return cached_builds(builders, root, vectors)


def bmp_folder(reorder: str, block: int) -> str:
    """A BMP variant's index folder (the names of earlier runs kept, so their builds stay cached)."""
    return ("bmp" if reorder == "none" else f"bmp-{reorder}") + ("" if block == 32 else f"-block{block}")


def seismic_folder(variant: tuple[int, float, float, int]) -> str:
    """A Seismic variant's index folder (the names of earlier runs kept, so their builds stay cached)."""
    postings, energy, centroids, graph = variant
    return (f"seismic-{postings}-{energy}" + ("" if centroids == 0.1 else f"-{centroids}")
            + (f"-knn{graph}" if graph else ""))


class Setting:
    """One query-time setting of a loaded Seismic index (the settings of a curve share one index in memory)."""

    def __init__(self, searcher, query_cut: int, heap_factor: float, n_knn: int):
        self.searcher, self.knobs = searcher, (query_cut, heap_factor, n_knn)

    def _tune(self):
        self.searcher.query_cut, self.searcher.heap_factor, self.searcher.n_knn = self.knobs
        return self.searcher

    def search(self, query: dict[str, int], k: int):
        return self._tune().search(query, k)

    def batch_search(self, queries, qids, k: int, threads: int):
        return self._tune().batch_search(queries, qids, k, threads)

    def close(self) -> None:
        """The shared index is closed by its owner."""


def measure(systems: dict, queries: list[dict[str, int]], k: int, threads: int, batch_systems: list[str],
            rounds: int = ROUNDS) -> dict:
    """Per system: per-query latencies (best of ``rounds``), hits and batch seconds.

    Each system searches all the queries in one pass before the next system starts, and the order of the systems is
    reversed every round (ABBA), so each engine runs with its own data in the caches, as in a service, and drifts in
    the machine's speed fall on every system alike. (Alternating systems query by query evicts every engine's data
    between its queries: that slowed the sub-millisecond Seismic searches by up to 40% and Lucene hardly at all.)
    """
    # warm-up: one untimed pass per system. After only 5 queries, Lucene's JIT was still settling: its 200k median
    # at k=10 came out 15.2 ms in a fresh process, 10.0 ms in one that had run the 50k and 100k sizes first
    for searcher in systems.values():
        for query in queries:
            searcher.search(query, k)
    samples = {s: [float("inf")] * len(queries) for s in systems}
    results = {s: [] for s in systems}
    order = list(systems)
    for round_ in range(rounds):
        for label in order if round_ % 2 == 0 else order[::-1]:
            searcher, times = systems[label], samples[label]
            for i, query in enumerate(queries):
                tick = time.perf_counter()
                hits = searcher.search(query, k)
                times[i] = min(times[i], time.perf_counter() - tick)
                if round_ == 0:
                    results[label].append(hits)
        log(f"  k={k}: round {round_ + 1}/{rounds}")
    qids = [f"q{i}" for i in range(len(queries))]
    batch = {s: [] for s in batch_systems}
    for _ in range(2):
        for label in batch_systems:
            tick = time.perf_counter()
            systems[label].batch_search(queries, qids, k, threads)
            batch[label].append(time.perf_counter() - tick)
    return {"samples": samples, "results": results, "batch": batch}


def report(measured: dict, queries: int, main_systems: list[str]) -> tuple[str, str]:
    """The main table (all columns) and the Seismic curve table."""
    samples, results, batch = measured["samples"], measured["results"], measured["batch"]
    exact = results["Lucene"]
    base, base_batch = median(samples["Lucene"]), min(batch["Lucene"])

    def quality(label: str) -> tuple[float, float, int]:
        # integer scores: Lucene's float sums can come out as 20.999998 for 21 (seen on sums of many terms)
        same = sum([round(h.score) for h in a] == [round(h.score) for h in b] for a, b in zip(exact, results[label]))
        return (statistics.mean(recall(a, b, 10) for a, b in zip(exact, results[label])),
                statistics.mean(recall(a, b, 100) for a, b in zip(exact, results[label])), same)

    rows = []
    for label in main_systems:
        r10, r100, same = quality(label)
        rows.append([label, f"{1000 * median(samples[label]):.2f}", f"{1000 * percentile(samples[label], 95):.2f}",
                     f"**{base / median(samples[label]):.1f}x**", f"{queries / min(batch[label]):,.0f}",
                     f"{base_batch / min(batch[label]):.1f}x", f"{r10:.3f}", f"{r100:.3f}",
                     f"{same}/{queries}" if label.startswith(("BMP", "Lucene")) else ""])
    main = table(rows, ["system", "median ms", "p95 ms", "vs Lucene (median)", "batch q/s", "batch vs Lucene",
                        "recall@10", "recall@100", "same scores"])
    curve = []
    for label in samples:
        if label.startswith("Seismic"):
            r10, r100, _ = quality(label)
            curve.append([label, f"{1000 * median(samples[label]):.2f}", f"{1000 * percentile(samples[label], 95):.2f}",
                          f"{base / median(samples[label]):.1f}x", f"{r10:.3f}", f"{r100:.3f}"])
    return main, table(curve, ["Seismic setting", "median ms", "p95 ms", "vs Lucene", "recall@10", "recall@100"])


def bench_real(args) -> None:
    from disco_pyserini.search import open_searcher

    root = OUT / "real"
    corpus = build_corpus(max(args.docs), root)
    vectors = root / f"vectors-{max(args.docs)}"
    available = encode_collection(corpus, args.encoder, vectors, args.encode)
    queries = encode_queries(args.encoder, root / "queries", args.variants)
    sizes = [d for d in args.docs if d <= available and d % PART_DOCS == 0]
    if not sizes:
        sys.exit(f"error: only {available:,} documents are encoded in {vectors}; run with --encode")
    if sizes != list(args.docs):
        log(f"only {available:,} documents encoded: measuring {sizes}")
    fields = [spec.split(",") for spec in args.seismic]
    seismic = [(int(f[0]), float(f[1]), float(f[2]) if len(f) > 2 else 0.1, int(f[3]) if len(f) > 3 else 0)
               for f in fields]
    if any(variant[3] < 0 for variant in seismic) or seismic[0][3]:
        sys.exit("error: --seismic: the 4th field (neighbours stored) must be >= 0, and 0 in the first variant "
                 "(Seismic's defaults, searched without the graph)")
    bmp = [(r, int(b)) for r, b in (s.split(",") for s in args.bmp)]
    print(f"## Real collection: {available:,} of {max(args.docs):,} passages encoded ({corpus.name})\n")
    print(describe(prefix(vectors, max(sizes)), queries) + "\n")
    for docs in sizes:
        index_root = root / f"indexes-{docs}"
        index_root.mkdir(exist_ok=True)
        builds = build_all(prefix(vectors, docs), index_root, bmp, seismic, args.threads)
        print(f"### {docs:,} passages: builds\n")
        print(table([[name, f"{b['seconds']:.1f}", f"{b['mb']:.1f}",
                      f"{b['seconds'] / builds['lucene']['seconds']:.2f}x",
                      f"{b['mb'] / builds['lucene']['mb']:.2f}x"] for name, b in builds.items()],
                    ["index", "build s", "MB", "time vs Lucene", "size vs Lucene"]) + "\n")
        for variant in args.variants:
            picked = spaced(queries[variant], args.queries)
            for k in args.k:
                systems = {"Lucene": open_searcher(index_root / "lucene")}
                systems |= {bmp_label(r, b): open_searcher(index_root / bmp_folder(r, b)) for r, b in bmp}
                engines = []  # one loaded Seismic index per variant, shared by its settings
                for index in seismic:
                    engines.append(open_searcher(index_root / seismic_folder(index)))
                    for cut, heap, n_knn in seismic_settings(index):
                        systems[seismic_label(index, cut, heap, n_knn)] = Setting(engines[-1], cut, heap, n_knn)
                main_systems = ["Lucene", *(bmp_label(r, b) for r, b in bmp), seismic_label(seismic[0], 50, 0.8)]
                log(f"{docs:,} passages, {variant} queries, k={k}: {len(systems)} systems")
                measured = measure(systems, picked, k, args.threads, main_systems, args.rounds)
                # the fastest Seismic setting with recall@10 >= 0.95 joins the main table
                exact = measured["results"]["Lucene"]
                good = [label for label in systems if label.startswith("Seismic") and statistics.mean(
                    recall(a, b, 10) for a, b in zip(exact, measured["results"][label])) >= 0.95]
                best = min(good, key=lambda label: median(measured["samples"][label])) if good else None
                if best and best not in main_systems:
                    tick = time.perf_counter()
                    systems[best].batch_search(picked, [f"q{i}" for i in range(len(picked))], k, args.threads)
                    measured["batch"][best] = [time.perf_counter() - tick]
                    main_systems.append(best)
                main, curve = report(measured, len(picked), main_systems)
                lengths = [len(q) for q in picked]
                print(f"### {docs:,} passages, {len(picked)} {variant} queries ({min(lengths)}-{max(lengths)} terms, "
                      f"mean {statistics.mean(lengths):.0f}), k={k}\n\n{main}\n")
                if args.curve:
                    print(f"Seismic curve ({docs:,} passages, {variant} queries, k={k}):\n\n{curve}\n")
                sys.stdout.flush()
                for searcher in [*systems.values(), *engines]:
                    searcher.close()
