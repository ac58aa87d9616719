"""Search engines on the same vectors: Lucene (exact; the baseline) vs BMP (exact, and pruned) vs Seismic (approximate).

Queries have DiSCo's length: conversations of 60-260 words (``conversation_text``) encoded by the tiny bench model
(random BERT, sparsity calibrated as in ``common.py``), 100-300 terms each, weights x12 to a real SPLADE's scale
(quantisation factor 1200 = 100 x 12, as ``bench_index.py`` does). Collections:

* ``small``: ``--small-docs`` synthetic passages (20-120 words) encoded by the same model (~100 terms/doc);
* ``large``: ``--large-docs`` generated vectors, the ``stress_1m.py`` corpus (Zipf terms over a 30k vocabulary,
  ~25 distinct terms/doc, impacts 1-300). Its queries keep the model queries' lengths and weights, on distinct
  terms drawn from the corpus's own Zipf distribution (the model's vocabulary is not the corpus's).

Each collection is indexed by all three engines (build seconds, index MB). Per engine and setting, on the same
queries, interleaved query by query: median and p95 latency of ``search(q, k)`` on one thread; batch throughput
(``batch_search`` over all queries, ``--threads``); recall@10/@100 against Lucene's exact top k, tie-aware (a hit
counts when its exact score reaches Lucene's n-th score: every engine returns exact scores); and for BMP's exact
setting, whether every query's score list equals Lucene's.

    python bench/bench_backends.py --small-docs 20000 --large-docs 1000000 --queries 100 --k 1000

``--real`` runs ``real_backends.py`` instead: real passages, a real SPLADE, real conversational queries, k=10 and 1000:

    python bench/bench_backends.py --real --docs 50000 100000 200000 --queries 100 --variants full --curve
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from common import (OUT, build_model, cached_builds, conversation_text, log, median, percentile, recall, table,
                    write_corpus)

FACTOR = 1200.0  # factor 100 on weights x12 (the tiny model's weights are ~12x smaller than a real SPLADE's)
BMP_SETTINGS = [(1.0, 1.0), (1.0, 0.5), (0.9, 1.0), (0.8, 0.5)]
# (index, query_cut, heap_factor): "seismic" has Seismic's default 3,500 postings per list, "seismic-8k" 8,000
SEISMIC_SETTINGS = [("seismic", 20, 0.8), ("seismic", 50, 0.8), ("seismic", 100, 0.8), ("seismic-8k", 20, 0.8),
                    ("seismic-8k", 15, 0.8)]


def model_queries(count: int) -> list[dict[str, int]]:
    from disco_pyserini.encode.splade import SpladeEncoder

    encoder = SpladeEncoder(str(build_model("tiny")), device="cpu", batch_size=16)
    words = np.linspace(60, 260, count).astype(int)
    texts = [conversation_text(int(w), seed=100 + i) for i, w in enumerate(words)]
    return [encoder.to_impacts(v, FACTOR) for v in encoder.encode_sparse(texts)]


def small_vectors(docs: int) -> Path:
    root = OUT / f"backends-small-{docs}"
    if (root / "vectors" / "encoding.json").exists():
        return root
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder

    model = build_model("tiny")
    corpus = write_corpus(OUT / f"corpus-{docs}-20-120.jsonl", docs, 20, 120, seed=3)
    tick = time.perf_counter()
    stats = export_corpus(SpladeEncoder(str(model), device="cpu", batch_size=64), corpus, root / "vectors",
                          factor=FACTOR, progress=True, metadata={"encoder": str(model)}, store_contents=False)
    log(f"exported {stats.documents} docs, {stats.postings / stats.documents:.0f} terms/doc "
        f"in {time.perf_counter() - tick:.0f}s")
    return root


def large_vectors(docs: int) -> Path:
    from stress_1m import write_collection

    root = OUT / f"backends-large-{docs}"
    if not (root / "vectors" / "done").exists():
        seconds = write_collection(root / "vectors", docs, seed=0)
        (root / "vectors" / "done").write_text(f"{seconds}\n")
        log(f"generated {docs:,} docs in {seconds:.0f}s")
    return root


def zipf_queries(queries: list[dict[str, int]], seed: int = 7) -> list[dict[str, int]]:
    """The model queries' lengths and weights on distinct terms drawn like stress_1m's documents' terms."""
    rng = np.random.default_rng(seed)
    out = []
    for query in queries:
        weights = list(query.values())
        terms: dict[int, None] = {}
        while len(terms) < len(weights):
            for t in np.minimum(rng.zipf(1.3, 4 * len(weights)), 30_000) - 1:
                terms.setdefault(int(t))
                if len(terms) == len(weights):
                    break
        out.append({f"t{t}": w for t, w in zip(terms, rng.permutation(weights).tolist())})
    return out


def build_all(root: Path, threads: int, rebuild: bool) -> dict[str, dict]:
    """Index ``root/vectors`` with each engine once; build seconds and folder MB (cached in builds.json)."""
    from disco_pyserini.index import build_index
    from disco_pyserini.index.bmp import build_bmp_index
    from disco_pyserini.index.seismic import build_seismic_index

    vectors = root / "vectors"
    builders = {
        "lucene": lambda out: build_index(vectors, out, threads=threads, overwrite=True),
        "bmp": lambda out: build_bmp_index(vectors, out, overwrite=True),
        "seismic": lambda out: build_seismic_index(vectors, out, threads=threads, overwrite=True),
        "seismic-8k": lambda out: build_seismic_index(vectors, out, n_postings=8000, threads=threads,
                                                      overwrite=True),
    }
    return cached_builds(builders, root, vectors, rebuild)


def bench_collection(name: str, root: Path, queries: list[dict[str, int]], args) -> tuple[str, list[list]]:
    from disco_pyserini.search import EngineOptions, open_searcher

    builds = build_all(root, args.threads, args.rebuild)
    systems = {"Lucene (exact)": open_searcher(root / "lucene")}
    for alpha, beta in BMP_SETTINGS:
        label = "BMP exact (alpha 1, beta 1)" if (alpha, beta) == (1, 1) else f"BMP alpha {alpha}, beta {beta}"
        systems[label] = open_searcher(root / "bmp", options=EngineOptions(bmp_alpha=alpha, bmp_beta=beta))
    for index, cut, heap in SEISMIC_SETTINGS:
        postings = 8000 if index == "seismic-8k" else 3500
        systems[f"Seismic n_postings {postings}, query_cut {cut}, heap {heap}"] = open_searcher(
            root / index, options=EngineOptions(seismic_query_cut=cut, seismic_heap_factor=heap))
    qids = [f"q{i}" for i in range(len(queries))]
    lengths = [len(q) for q in queries]
    header = (f"### {name}: {systems['Lucene (exact)'].num_docs:,} documents, {len(queries)} queries of "
              f"{min(lengths)}-{max(lengths)} terms (mean {statistics.mean(lengths):.0f}), k={args.k}\n\n")
    build_rows = [[b, f"{s['seconds']:.1f}", f"{s['documents'] / s['seconds']:,.0f}", f"{s['mb']:.1f}",
                   f"{s['seconds'] / builds['lucene']['seconds']:.2f}x", f"{s['mb'] / builds['lucene']['mb']:.2f}x"]
                  for b, s in builds.items()]
    header += table(build_rows, ["index", "build s", "docs/s", "MB", "build time vs Lucene", "size vs Lucene"])

    # latency: every system on a query before the next query, after a warm-up pass over 10 queries
    samples: dict[str, list[float]] = {s: [] for s in systems}
    results: dict[str, list] = {s: [] for s in systems}
    for query in queries[:10]:
        for searcher in systems.values():
            searcher.search(query, args.k)
    for i, query in enumerate(queries):
        for label, searcher in systems.items():
            tick = time.perf_counter()
            hits = searcher.search(query, args.k)
            samples[label].append(time.perf_counter() - tick)
            results[label].append(hits)
        if i % 10 == 9:
            log(f"{name}: {i + 1}/{len(queries)} queries")
    # batch: the whole query set per system, systems alternated over the rounds
    batch: dict[str, list[float]] = {s: [] for s in systems}
    for _ in range(args.rounds):
        for label, searcher in systems.items():
            tick = time.perf_counter()
            searcher.batch_search(queries, qids, args.k, args.threads)
            batch[label].append(time.perf_counter() - tick)
    exact = results["Lucene (exact)"]
    base_median, base_batch = median(samples["Lucene (exact)"]), min(batch["Lucene (exact)"])
    rows = []
    for label in systems:
        same = sum([h.score for h in a] == [h.score for h in b] for a, b in zip(exact, results[label]))
        rows.append([label, f"{1000 * median(samples[label]):.1f}", f"{1000 * percentile(samples[label], 95):.1f}",
                     f"{base_median / median(samples[label]):.1f}x", f"{len(queries) / min(batch[label]):,.1f}",
                     f"{base_batch / min(batch[label]):.1f}x",
                     f"{statistics.mean(recall(a, b, 10) for a, b in zip(exact, results[label])):.3f}",
                     f"{statistics.mean(recall(a, b, 100) for a, b in zip(exact, results[label])):.3f}",
                     f"{same}/{len(queries)}"])
    for searcher in systems.values():
        searcher.close()
    return header, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-docs", type=int, default=20_000, help="model-encoded passages (0: skip)")
    parser.add_argument("--large-docs", type=int, default=1_000_000, help="stress_1m-style vectors (0: skip)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=1000, help="hits per query (a TREC run's depth)")
    parser.add_argument("--threads", type=int, default=2, help="indexing and batch-search threads")
    parser.add_argument("--rounds", type=int, default=2,
                        help="passes per system, ABBA (each query's best latency and the best batch are kept)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached indexes (to re-time the builds)")
    real = parser.add_argument_group(
        "--real: WordNet + GCIDE passages, splade-tiny, CAsT/iKAT turns (real_backends.py)")
    real.add_argument("--real", action="store_true", help="run the real-collection benchmark instead")
    real.add_argument("--encoder", default="splade-tiny", help="SPLADE model for documents and queries")
    real.add_argument("--docs", type=int, nargs="+", default=[50_000, 100_000, 200_000],
                      help="collection sizes (prefixes of one shuffled corpus, multiples of 25,000)")
    real.add_argument("--no-encode", dest="encode", action="store_false",
                      help="measure only the sizes already encoded (the encoding resumes otherwise)")
    real.add_argument("--variants", nargs="+", default=["full", "top64"], choices=["full", "top64"],
                      help="query sets: full DiSCo queries, and the same with --query-topk 64")
    real.add_argument("--seismic", nargs="+", default=["3500,0.4,0.1", "1000,0.5,0.3"],
                      metavar="POSTINGS,ENERGY[,CENTROIDS[,KNN]]",
                      help="Seismic index variants: postings per list, summary energy, centroid fraction (default "
                           "0.1), neighbours stored per document (default 0: no k-NN graph); the first should be "
                           "Seismic's defaults, the second is tuned for DiSCo queries")
    real.add_argument("--bmp", nargs="+", default=["none,32", "bisection,32", "bisection,8"], metavar="REORDER,BLOCK",
                      help="BMP index variants: document order (none or bisection) and block size (index's default: "
                           "32)")
    real.add_argument("--curve", action="store_true", help="also print every Seismic setting measured")
    args = parser.parse_args()
    if args.real:
        from real_backends import bench_real

        args.k = [10, 1000] if args.k == 1000 else [args.k]
        bench_real(args)
        return

    queries = model_queries(args.queries)
    collections = []
    if args.small_docs:
        collections.append(("small", small_vectors(args.small_docs), queries))
    if args.large_docs:
        collections.append(("large", large_vectors(args.large_docs), zipf_queries(queries)))
    for name, root, collection_queries in collections:
        header, rows = bench_collection(name, root, collection_queries, args)
        print("\n" + header + "\n")
        print(table(rows, ["system", "median ms", "p95 ms", "speed-up (median)", f"batch q/s ({args.threads} thr)",
                           "batch vs Lucene", "recall@10", "recall@100", "same scores as Lucene"]))


if __name__ == "__main__":
    main()
