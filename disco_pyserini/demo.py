"""``python -m disco_pyserini.demo``: the whole pipeline on the bundled sample, offline.

Builds the tiny lexical SPLADE model, encodes the sample corpus, indexes it with Anserini (impact and
BM25), searches the sample conversations with several query formulations (the raw last utterance,
the concatenated conversation, DiSCo's newest-first conversation input, the human rewrite) and prints
the paper-style table against the sample qrels. Runs are named ``sample.RETRIEVER.INPUT.MODEL.trec``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

from disco_pyserini import cli

SPLADE_INPUTS = ("raw", "concat", "disco", "manual")
BM25_INPUTS = ("raw", "manual")
BASELINE = "splade raw (tiny-lexical)"
# R@1000 says nothing on 442 passages: the demo reports early precision and R@10/R@100.
METRICS = ("MRR@10", "nDCG@3", "R@10", "R@100")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="disco-demo", help="where the model, vectors, indexes and runs go")
    parser.add_argument("--threads", type=int, default=2, help="indexing and search threads")
    parser.add_argument("--device", default="cpu", help="encoder device")
    return parser.parse_args(argv)


def step(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.eval.paper import format_paper_table, paper_table
    from disco_pyserini.index import build_bm25_index, build_index
    from disco_pyserini.sample import CONVERSATIONS, CORPUS, build_tiny_splade
    from disco_pyserini.search.pipeline import SearchOptions, search_topics

    started = time.perf_counter()
    work = Path(args.workdir)
    step(f"building the tiny lexical SPLADE model in {work / 'model'}")
    model = build_tiny_splade(work / "model")
    step(f"encoding {CORPUS.name} -> {work / 'vectors'}")
    shutil.rmtree(work / "vectors", ignore_errors=True)
    encoder = SpladeEncoder(str(model), device=args.device, batch_size=64)
    export_corpus(encoder, CORPUS, work / "vectors", factor=100, metadata={"encoder": str(model)})
    step(f"indexing with Anserini -> {work / 'index'} (impact) and {work / 'bm25'} (BM25)")
    stats = build_index(work / "vectors", work / "index", threads=args.threads, store_raw=True, overwrite=True)
    build_bm25_index(CORPUS, work / "bm25", threads=args.threads, overwrite=True)
    print(f"    {stats.documents} documents indexed", file=sys.stderr)
    runs = []
    for bm25, inputs in ((False, SPLADE_INPUTS), (True, BM25_INPUTS)):
        for policy in inputs:
            name = f"sample.bm25.{policy}.bm25.trec" if bm25 else f"sample.splade.{policy}.tiny-lexical.trec"
            step(f"searching {CONVERSATIONS.name}: {name}")
            runs.append(work / "runs" / name)
            options = SearchOptions(encoder=None if bm25 else str(model), policy=policy, bm25=bm25, hits=100,
                                    threads=args.threads, device=args.device, progress=False)
            search_topics(work / ("bm25" if bm25 else "index"), CONVERSATIONS, runs[-1], options)
    step("evaluating against the sample qrels")
    print(format_paper_table(paper_table(runs, METRICS, baseline=BASELINE)))
    print(f"\nall done in {time.perf_counter() - started:.0f}s; runs in {work / 'runs'}; explore with:\n"
          f"  python -m disco_pyserini.chat --index {work / 'index'} --encoder {model}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
