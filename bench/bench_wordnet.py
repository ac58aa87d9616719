"""Effectiveness on real text: splade-tiny against BM25 on the WordNet judged task, through the toolkit's CLIs.

Builds the task with ``wordnet_task.py`` (Debian's wordnet-base, fetched with apt-get download), then runs
``encode docs`` -> ``index`` -> ``search`` -> ``eval`` for splade-tiny and ``index --bm25`` -> ``search --bm25`` for
the baseline, as a user would, and prints the eval table (BM25 is the named baseline of the significance marks).

    python bench/bench_wordnet.py --docs 5000 --queries 500     # the issue's first measurement
    python bench/bench_wordnet.py                                # all 82,115 glosses, 500 queries
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import OUT, log

import wordnet_task


def cli(*args: str) -> float:
    """Run ``python -m disco_pyserini.ARGS``; its wall time."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", *args], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=None, help="glosses sampled (default: all)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    name = f"wordnet-{args.docs or 'all'}-{args.queries}"
    data, work = OUT / name, OUT / f"{name}-work"
    synsets = wordnet_task.read_synsets(wordnet_task.fetch_data_noun(OUT / "debian"))
    wordnet_task.write(data, *wordnet_task.build(synsets, args.docs, args.queries))
    corpus, topics, qrels = data / "corpus.jsonl", data / "topics.jsonl", data / "qrels.txt"
    times = {
        "encode docs": cli("disco_pyserini.encode", "docs", "--encoder", "splade-tiny", "--corpus", str(corpus),
                           "--output", str(work / "vectors"), "--batch-size", str(args.batch_size), "--overwrite"),
        "index (impact)": cli("disco_pyserini.index", "--input", str(work / "vectors"), "--index",
                              str(work / "index"), "--overwrite"),
        "index (BM25)": cli("disco_pyserini.index", "--input", str(corpus), "--index", str(work / "bm25"), "--bm25",
                            "--overwrite"),
    }
    runs = {"splade-tiny": work / "splade-tiny.trec", "bm25": work / "bm25.trec"}
    for run in runs.values():
        run.unlink(missing_ok=True)
    times["search (splade-tiny)"] = cli("disco_pyserini.search", "--index", str(work / "index"), "--topics",
                                        str(topics), "--encoder", "splade-tiny", "--policy", "raw", "--hits", "100",
                                        "--output", str(runs["splade-tiny"]))
    times["search (BM25)"] = cli("disco_pyserini.search", "--index", str(work / "bm25"), "--bm25", "--topics",
                                 str(topics), "--policy", "raw", "--hits", "100", "--output", str(runs["bm25"]))
    for step, seconds in times.items():
        log(f"{step}: {seconds:.1f}s")
    print(f"\nWordNet judged task ({name}): {sum(1 for _ in open(corpus))} glosses, "
          f"{sum(1 for _ in open(topics))} lemma queries", flush=True)
    subprocess.run([sys.executable, "-m", "disco_pyserini.eval", "--qrels", str(qrels), "--run", str(runs["bm25"]),
                    str(runs["splade-tiny"]), "--metrics", "MRR@10", "nDCG@10", "R@100"], check=True)


if __name__ == "__main__":
    main()
