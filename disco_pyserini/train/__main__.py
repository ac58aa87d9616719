"""DiSCo training command line.

    python -m disco_pyserini.train --config disco.yaml [--set key=value ...] [--output-dir DIR] [--max-steps N]
    python -m disco_pyserini.train build --topics T --qrels Q --run R --corpus C --doc-encoder M
        [--teacher manual --teacher mistral] [--rewrites mistral=FILE] --output distill.jsonl
    python -m disco_pyserini.train sparsity --encoder M --topics T --corpus C [--doc-encoder M] [--query-topk K]
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Sequence

from disco_pyserini.cli import name_value, run


EPILOG = """other commands:
  python -m disco_pyserini.train build --help      write a distillation file (teacher scores per training turn)
  python -m disco_pyserini.train sparsity --help   average non-zero terms and FLOPS of queries and documents"""


def _train(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.train",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Train a DiSCo student (config keys: disco_pyserini.train.config).",
                                     epilog=EPILOG)
    parser.add_argument("--config", help="YAML or JSON config (keys: see disco_pyserini.train.config)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    parser.add_argument("--output-dir")
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--batch-size", type=int)
    args = parser.parse_args(argv)
    from disco_pyserini.train.config import load_config
    from disco_pyserini.train.trainer import train

    config = load_config(args.config, args.set, output_dir=args.output_dir, max_steps=args.max_steps,
                         learning_rate=args.learning_rate, batch_size=args.batch_size)
    output = train(config)
    if int(os.environ.get("RANK", "0")) == 0:  # one line, not one per torchrun process
        print(f"student saved to {output}")
    return 0


def _turns(args: argparse.Namespace) -> list:
    from disco_pyserini.topics.load import load_turns

    return load_turns(args.topics, args.topics_format, dict(args.rewrites))


def _build(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.train build",
                                     description="Write a distillation file (teacher scores per training turn).")
    parser.add_argument("--topics", required=True)
    parser.add_argument("--topics-format")
    parser.add_argument("--rewrites", action="append", default=[], metavar="NAME=FILE", type=name_value,
                        help="attach a rewrite file as teacher source NAME")
    parser.add_argument("--teacher", action="append", metavar="NAME",
                        help="teacher rewrite source (manual, automatic or a --rewrites name); repeat; default manual")
    parser.add_argument("--qrels", required=True, help="qrels file or dataset name (cast2019, topiocqa, ...)")
    parser.add_argument("--run", required=True, help="TREC run the negatives are sampled from (e.g. the teacher's)")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--doc-encoder", required=True, help="frozen SPLADE document encoder (hub name or path)")
    parser.add_argument("--teacher-encoder", help="SPLADE encoder for rewrites (default: the document encoder)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--negatives", type=int, default=16)
    parser.add_argument("--skip-top", type=int, default=10, help="negatives come after this rank (reference: 10)")
    parser.add_argument("--max-rank", type=int, default=960)
    parser.add_argument("--rel-threshold", type=int, default=1)
    parser.add_argument("--fusion", default="mean", choices=["mean", "max", "separate"])
    parser.add_argument("--input-policy", default="disco", help="student input formulation (topics policies)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.train.data import build_distillation, load_qrels, ranked_run

    qrels, ranked = load_qrels(args.qrels), ranked_run(args.run)
    turns = _turns(args)
    doc_encoder = SpladeEncoder(args.doc_encoder, device=args.device, max_length=args.max_length,
                                batch_size=args.batch_size)
    teacher_encoder = (SpladeEncoder(args.teacher_encoder, device=args.device, max_length=args.max_length,
                                     batch_size=args.batch_size) if args.teacher_encoder else doc_encoder)
    stats = build_distillation(turns, qrels, ranked, args.corpus, args.teacher or ["manual"], doc_encoder,
                               teacher_encoder, args.output, negatives=args.negatives, skip_top=args.skip_top,
                               max_rank=args.max_rank, rel_threshold=args.rel_threshold, seed=args.seed,
                               fusion=args.fusion, input_policy=args.input_policy, progress=not args.no_progress)
    print(f"{stats.examples} examples from {stats.turns} turns ({stats.no_positive} without a positive, "
          f"{stats.no_negatives} without negatives) -> {args.output}")
    return 0


def _sparsity(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.train sparsity",
                                     description="Average non-zero terms and FLOPS of encoded queries and documents.")
    parser.add_argument("--encoder", required=True, help="query encoder (student or SPLADE checkpoint)")
    parser.add_argument("--doc-encoder", help="document encoder (default: --encoder)")
    parser.add_argument("--topics", required=True)
    parser.add_argument("--topics-format")
    parser.add_argument("--rewrites", action="append", default=[], metavar="NAME=FILE", type=name_value)
    parser.add_argument("--policy", default="disco", help="query formulation (disco, raw, manual, rewrite:NAME...)")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--max-docs", type=int, default=10000, help="documents sampled from the corpus head")
    parser.add_argument("--query-topk", type=int, metavar="K",
                        help="keep the K largest query weights (default: as trained, else all; 0: all)")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--device")
    args = parser.parse_args(argv)
    from itertools import islice

    from disco_pyserini.analysis.sparsity import sparsity
    from disco_pyserini.encode.corpus import read_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.topics import formulate
    from disco_pyserini.encode.trained import trained_top_k

    queries = [formulate(turn, args.policy) for turn in _turns(args)]
    documents = [doc.text for doc in islice(read_corpus(args.corpus), args.max_docs)]
    query_encoder = SpladeEncoder(args.encoder, device=args.device, max_length=args.max_length)
    doc_encoder = (SpladeEncoder(args.doc_encoder, device=args.device, max_length=args.max_length)
                   if args.doc_encoder else query_encoder)
    topk = trained_top_k(args.encoder) if args.query_topk is None else (args.query_topk or None)
    stats = sparsity(query_encoder, doc_encoder, queries, documents, topk)
    print(json.dumps(stats.__dict__))
    return 0


SUBCOMMANDS = {"build": _build, "sparsity": _sparsity}


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    return _train(argv)


if __name__ == "__main__":
    raise SystemExit(run(main))
