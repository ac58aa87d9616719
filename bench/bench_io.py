"""Cost of exactness on two hot paths, each against the plain approach it replaced, in the same run.

* **Evaluation:** ``evaluate`` ranks every run as trec_eval does and unties it before ir_measures sees it
  (:func:`disco_pyserini.eval.runs.untie`). Baseline: the same ``evaluate`` with the untie step left out
  (what the toolkit did before, and wrong under ties). Runs: 1000 hits for every judged turn of the real
  CAsT 2020 qrels, integer scores (many ties).
* **Corpus reading:** ``read_corpus`` splits lines on ``\\n`` only and decodes each line on its own (so a
  stray ``\\r`` stays in its document and a bad byte is reported on its own line). Baseline: Python's
  text-mode iteration (universal newlines, block decoding), what the reader did before.

    python bench/bench_io.py [--docs 200000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import random
import time

from common import OUT, REPO, log, median, table, write_corpus


def bench_eval(rounds: int) -> list[list[object]]:
    from disco_pyserini.eval import metrics
    from disco_pyserini.eval.qrels import read_qrels

    qrels_path = REPO / "qrels" / "cast2020.qrels.txt"
    qrels = read_qrels(qrels_path)
    docs = sorted({doc for judged in qrels.values() for doc in judged})
    rng = random.Random(0)
    run = {qid: {doc: float(rng.randint(1, 40)) for doc in rng.sample(docs, 1000)} for qid in qrels}
    names = ["MRR", "MRR@10", "nDCG@3", "R@100", "R@1000"]
    untie = metrics.untie

    def plain() -> None:
        metrics.untie = lambda ranked: ranked
        try:
            metrics.evaluate({"run": run}, qrels, names, rel=2)
        finally:
            metrics.untie = untie

    def ours() -> None:
        metrics.evaluate({"run": run}, qrels, names, rel=2)

    times = {"plain": [], "ours": []}
    for _ in range(rounds):
        for name, fn in (("plain", plain), ("ours", ours)):
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    base, mine = median(times["plain"]), median(times["ours"])
    return [[f"evaluate, CAsT 2020 qrels, {len(qrels)} x 1000 hits", "evaluate without the untie step", f"{base:.2f} s",
             f"{mine:.2f} s", f"{mine / base:.2f}x time"]]


def bench_reader(docs: int, rounds: int) -> list[list[object]]:
    from disco_pyserini.encode.corpus import read_corpus

    import json

    corpus = write_corpus(OUT / f"io_corpus_{docs}.jsonl", docs)

    def text_mode() -> int:
        count = 0
        with open(corpus, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                count += bool(record["id"] and record["contents"])
        return count

    def ours() -> int:
        return sum(1 for _ in read_corpus(corpus))

    times = {"text": [], "ours": []}
    for _ in range(rounds):
        for name, fn in (("text", text_mode), ("ours", ours)):
            started = time.perf_counter()
            assert fn() == docs
            times[name].append(time.perf_counter() - started)
    base, mine = median(times["text"]), median(times["ours"])
    return [[f"read_corpus, {docs:,} JSONL documents", "text-mode lines + json.loads", f"{docs / base:,.0f} docs/s",
             f"{docs / mine:,.0f} docs/s", f"{mine / base:.2f}x time"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = bench_eval(args.rounds)
    log("evaluation done")
    rows += bench_reader(args.docs, args.rounds)
    print(table(rows, ["path", "baseline", "baseline speed", "ours", "ratio"]))


if __name__ == "__main__":
    main()
