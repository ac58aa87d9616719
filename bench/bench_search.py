"""Search: per-query overhead of ImpactSearcher over raw Anserini SimpleImpactSearcher, batch search with threads,
and start-up costs.

Index: ``--docs`` synthetic passages encoded with our export (tiny random SPLADE model, sparsity calibrated to
~150 terms/doc: search cost depends on posting lists, not on the model) and indexed with our build_index.
Queries: short synthetic texts encoded by the same model (~20-60 terms), quantised with factor 100.

Rows (same query maps, same k, repetitions interleaved query by query):
* raw: ``SimpleImpactSearcher.search(HashMap, k)`` through pyjnius, map filled with ``put(term, Integer(w))``,
  hits read into Python as (docid, score) like ours;
* raw, hits left in Java (the floor);
* pyserini: ``LuceneImpactSearcher.search(dict)`` (idf filter + JHashMap + search; Java hits not read);
* ours: ``ImpactSearcher.search(dict, k)`` (Jackson-built map, Hit tuples).

    python bench/bench_search.py --docs 15000 --queries 200 --k 1000
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, REPO, build_model, log, median, percentile, synthetic_texts, table, write_corpus


def ensure_index(docs: int, min_words: int, max_words: int, factor: float = 100.0) -> Path:
    root = OUT / f"search-{docs}-f{int(factor)}"
    index = root / "index"
    if (index / "encoding.json").exists():
        return index
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.index import build_index

    model = build_model("tiny")
    corpus = write_corpus(OUT / f"corpus-{docs}-{min_words}-{max_words}.jsonl", docs, min_words, max_words, seed=3)
    encoder = SpladeEncoder(str(model), device="cpu", batch_size=64)
    tick = time.perf_counter()
    stats = export_corpus(encoder, corpus, root / "vectors", factor=factor, progress=False,
                          metadata={"encoder": str(model)}, store_contents=False)
    log(f"exported {stats.documents} docs, {stats.postings / stats.documents:.0f} terms/doc "
        f"in {time.perf_counter() - tick:.0f}s")
    built = build_index(root / "vectors", index, threads=2, overwrite=True)
    log(f"indexed in {built.seconds:.1f}s")
    return index


def query_vectors(count: int, factor: float = 100.0) -> list[dict[str, int]]:
    from disco_pyserini.encode.splade import SpladeEncoder

    encoder = SpladeEncoder(str(build_model("tiny")), device="cpu", batch_size=64)
    texts = synthetic_texts(count, 6, 30, seed=77)
    return [encoder.to_impacts(v, factor) for v in encoder.encode_sparse(texts)]


def startup(index: Path) -> list[list[object]]:
    """Wall time of fresh processes (median of 3): imports, JVM start, searcher open."""
    probes = {
        "python -c pass": "pass",
        "import disco_pyserini.search.searcher": "import disco_pyserini.search.searcher",
        "  + JVM start + ImpactSearcher(index)":
            f"from disco_pyserini.search.searcher import ImpactSearcher; ImpactSearcher({str(index)!r})",
        "pyserini: import pyserini.search.lucene + LuceneImpactSearcher(index) (idf scan)":
            "from disco_pyserini.jvm import import_pyserini; m = import_pyserini('pyserini.search.lucene'); "
            f"m.LuceneImpactSearcher({str(index)!r}, query_encoder=object())",
        "python -m disco_pyserini.search --help": None,
    }
    rows = []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for label, code in probes.items():
        times = []
        for _ in range(3):
            if code is None:
                cmd = [sys.executable, "-m", "disco_pyserini.search", "--help"]
            else:
                cmd = [sys.executable, "-c", code]
            tick = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True, cwd=REPO)
            times.append(time.perf_counter() - tick)
        rows.append([label, f"{median(times):.2f}", ""])
    return rows + help_checks()


def help_checks() -> list[list[object]]:
    """``--help`` of the search and eval commands must not import torch nor start a JVM."""
    check = ("import sys, runpy; sys.argv=['x','--help'];\n"
             "try: runpy.run_module('{mod}', run_name='__main__')\n"
             "except SystemExit: pass\n"
             "print('LOADED:', 'torch' if 'torch' in sys.modules else '', 'JVM' if 'jnius' in sys.modules else '')")
    rows = []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for mod in ("disco_pyserini.search", "disco_pyserini.eval"):
        times, loaded = [], ""
        for _ in range(3):
            tick = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", check.format(mod=mod)], capture_output=True, text=True,
                                 env=env, cwd=REPO)
            times.append(time.perf_counter() - tick)
            loaded = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED:")][-1][7:].strip()
        rows.append([f"python -m {mod} --help (in-process check)", f"{median(times):.2f}",
                     f"imports: {loaded or 'no torch, no JVM'}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=15000)
    parser.add_argument("--min-words", type=int, default=20)
    parser.add_argument("--max-words", type=int, default=120)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, nargs="+", default=[1000, 100])
    parser.add_argument("--reps", type=int, default=3, help="passes over the queries (after one warm-up pass)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-startup", action="store_true")
    args = parser.parse_args()

    index = ensure_index(args.docs, args.min_words, args.max_words)
    vectors = query_vectors(args.queries)
    qids = [f"q{i}" for i in range(len(vectors))]
    log(f"queries: {statistics.mean(len(v) for v in vectors):.1f} terms on average")

    from disco_pyserini.jvm import autoclass, import_pyserini
    from disco_pyserini.search.searcher import ImpactSearcher

    ours = ImpactSearcher(index)
    raw = autoclass("io.anserini.search.SimpleImpactSearcher")(str(index))
    JHashMap, JInteger, JArrayList = (autoclass("java.util.HashMap"), autoclass("java.lang.Integer"),
                                      autoclass("java.util.ArrayList"))
    lucene = import_pyserini("pyserini.search.lucene")

    class Passthrough:  # a dict query handed to encode() comes back unchanged
        def encode(self, query, **kwargs):
            return query

    pys = lucene.LuceneImpactSearcher(str(index), query_encoder=Passthrough())

    def plain_map(vector):
        jmap = JHashMap()
        for term, weight in vector.items():
            jmap.put(term, JInteger(weight))
        return jmap

    # identical hits
    for v in vectors[:20]:
        a = [(h.docid, h.score) for h in ours.search(v, 100)]
        b = [(h.docid, h.score) for h in raw.search(plain_map(v), 100)]
        assert a == b, "ours and raw Anserini disagree"

    print(f"\nSearch on {ours.num_docs} docs, {len(vectors)} queries "
          f"({statistics.mean(len(v) for v in vectors):.0f} terms/query), {args.reps} interleaved passes")
    for k in args.k:
        funcs = {
            "raw Anserini, HashMap.put, hits read": lambda v: [(h.docid, h.score) for h in raw.search(plain_map(v), k)],
            "raw Anserini, HashMap.put, hits in Java": lambda v: raw.search(plain_map(v), k),
            "pyserini LuceneImpactSearcher.search(dict)": lambda v: pys.search(v, k),
            "ours ImpactSearcher.search": lambda v: ours.search(v, k),
            "  map only: HashMap.put per term": plain_map,
            "  map only: ours (Jackson, one JSON string)": ours._query,
        }
        samples = {name: [] for name in funcs}
        for rep in range(args.reps + 1):
            for v in vectors:
                for name, fn in funcs.items():
                    tick = time.perf_counter()
                    fn(v)
                    if rep:
                        samples[name].append(time.perf_counter() - tick)
        base = median(samples["raw Anserini, HashMap.put, hits read"])
        rows = [[name, f"{1000 * median(s):.3f}", f"{1000 * percentile(s, 95):.3f}",
                 f"{median(s) / base:.2f}x"] for name, s in samples.items()]
        print(f"\nk={k}: per query, sequential")
        print(table(rows, ["path", "median ms", "p95 ms", "vs raw (hits read)"]))

        # batch search: the whole query set, threads, alternated with the raw batch call
        jq = JArrayList()
        jids = JArrayList()
        brows = []
        for threads in args.threads:
            t_raw, t_ours, t_loop = [], [], []
            for rep in range(args.reps + 1):
                tick = time.perf_counter()
                jq, jids = JArrayList(), JArrayList()
                for v, q in zip(vectors, qids):
                    jq.add(plain_map(v))
                    jids.add(q)
                res = raw.batch_search(jq, jids, k, threads)
                {q: [(h.docid, h.score) for h in res.get(q)] for q in qids}
                a = time.perf_counter() - tick
                tick = time.perf_counter()
                ours.batch_search(vectors, qids, k, threads)
                b = time.perf_counter() - tick
                tick = time.perf_counter()
                for v in vectors:
                    ours.search(v, k)
                c = time.perf_counter() - tick
                if rep:
                    t_raw.append(a), t_ours.append(b), t_loop.append(c)
            n = len(vectors)
            brows.append([threads, f"{n / median(t_raw):.0f}", f"{n / median(t_ours):.0f}",
                          f"{median(t_ours) / median(t_raw):.2f}x", f"{n / median(t_loop):.0f}",
                          f"{median(t_loop) / median(t_ours):.2f}x"])
        print(f"\nk={k}: batch_search over {len(vectors)} queries (hits read into Python in both)")
        print(table(brows, ["threads", "raw batch q/s", "ours batch q/s", "ours/raw time",
                            "ours sequential q/s", "batch speed-up vs sequential"]))

    if not args.no_startup:
        print("\nStart-up (fresh process wall time, median of 3)")
        print(table(startup(index), ["what", "seconds", "note"]))


if __name__ == "__main__":
    main()
