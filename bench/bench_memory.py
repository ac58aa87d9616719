"""Peak RSS of ``python -m disco_pyserini.encode docs`` as the corpus grows (1x, 10x, 100x).

Each run is a fresh subprocess measured with ``/usr/bin/time -v`` (maximum resident set size). A tiny
model and short passages keep the 100x run to a couple of minutes; memory of the streaming path depends
on the batch/window and on ``--docs-per-file`` (one output chunk is held before its atomic write), not on
the model. Pyserini's JsonlCollectionIterator, by contrast, loads the whole corpus up front.

    python bench/bench_memory.py --base 100 --multipliers 1 10 100 --small-chunks 1000
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

from common import OUT, REPO, build_model, log, table, write_corpus


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    tick = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    seconds = time.perf_counter() - tick
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return kb / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=int, default=100, help="1x corpus size (documents)")
    parser.add_argument("--multipliers", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--docs-per-file", type=int, default=100_000, help="as the CLI's default")
    parser.add_argument("--small-chunks", type=int, default=1000,
                        help="also run the largest corpus with this --docs-per-file (0: skip)")
    parser.add_argument("--min-words", type=int, default=10)
    parser.add_argument("--max-words", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    model = build_model("tiny")
    rows = []
    runs = [(m, args.docs_per_file) for m in args.multipliers]
    if args.small_chunks:
        runs.append((max(args.multipliers), args.small_chunks))
    for mult, per_file in runs:
            n = args.base * mult
            corpus = write_corpus(OUT / f"corpus-{n}-{args.min_words}-{args.max_words}.jsonl", n, args.min_words,
                                  args.max_words, seed=5)
            out_dir = OUT / "memory-run"
            shutil.rmtree(out_dir, ignore_errors=True)
            cmd = [sys.executable, "-m", "disco_pyserini.encode", "docs", "--encoder", str(model), "--corpus",
                   str(corpus), "--output", str(out_dir), "--device", "cpu", "--batch-size", str(args.batch_size),
                   "--docs-per-file", str(per_file)]
            rss, seconds = peak_rss_mb(cmd)
            log(f"{n} docs, docs-per-file {per_file}: peak RSS {rss:.0f} MB, {seconds:.0f}s")
            rows.append([f"{mult}x", n, per_file, f"{rss:.0f}", f"{n / seconds:.0f}"])
    print(f"\nPeak RSS of python -m disco_pyserini.encode docs (tiny model, {args.min_words}-{args.max_words} words, "
          f"batch {args.batch_size})")
    print(table(rows, ["corpus", "docs", "--docs-per-file", "peak RSS MB", "docs/s (incl. start-up)"]))


if __name__ == "__main__":
    main()
