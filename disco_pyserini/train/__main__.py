"""DiSCo training command line.

    python -m disco_pyserini.train --config disco.yaml [--set key=value ...] [--output-dir DIR] [--max-steps N]
    python -m disco_pyserini.train build --topics T --qrels Q --teacher-run run.json --output distill.jsonl
    python -m disco_pyserini.train build --topics T --qrels Q --run R --corpus C --doc-encoder M
        [--teacher manual --teacher mistral] [--rewrites mistral=SOURCE] --output distill.jsonl
    python -m disco_pyserini.train sparsity --encoder M --topics T --corpus C [--doc-encoder M] [--query-topk K]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.cli import add_conversation_args, name_value, run
from disco_pyserini.errors import InputError
from disco_pyserini.train.teacher_runs import named_run


EPILOG = """other commands:
  python -m disco_pyserini.train build --help      write a distillation file (teacher scores per training turn)
  python -m disco_pyserini.train sparsity --help   average non-zero terms and FLOPS of queries and documents"""


def _train(argv: Sequence[str]) -> int:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.train",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Train a DiSCo student (config keys: disco_pyserini.train.config).",
                                     epilog=EPILOG)
    parser.add_argument("--config", help="YAML or JSON config (keys: see disco_pyserini.train.config)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    parser.add_argument("--output-dir")
    cli.add_overwrite(parser, "student folder (its old checkpoints go)")
    parser.add_argument("--max-steps", type=cli.COUNT)
    parser.add_argument("--learning-rate", type=cli.POSITIVE)
    parser.add_argument("--batch-size", type=cli.COUNT,
                        help="conversations per device and step; under torchrun the global batch is this times the "
                             "number of processes (released: 10 on one GPU)")
    args = parser.parse_args(argv)
    from disco_pyserini.train.config import load_config

    config = load_config(args.config, args.set, output_dir=args.output_dir, max_steps=args.max_steps,
                         learning_rate=args.learning_rate, batch_size=args.batch_size)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun the main process checks and writes the folder
        from disco_pyserini.train.trainer import train

        return _report(train(config))
    from disco_pyserini.hub import model_source

    cli.claim_outputs([cli.Output("--output-dir", config.output_dir, "students/disco", directory=True)],
                      {"--config": args.config, "model": config.model, "corpus": config.corpus,
                       "distillation": config.distillation, "teacher_run": config.teacher_run,
                       "topics": config.topics, "qrels": config.qrels, "responses_from": config.responses_from,
                       "doc_encoder": config.doc_encoder, "norm": config.norm}, args.overwrite)
    for name in {config.model, config.doc_encoder or config.model}:
        model_source(name)
    model_source(config.model, "tokenizer")
    cli.check_max_length(config.max_length, config.model, "max_length")
    from disco_pyserini.train.trainer import train

    output = Path(config.output_dir)
    if args.overwrite:
        _clear_student(output)
    created = not output.exists() or not any(output.iterdir())
    try:
        return _report(train(config))
    except BaseException:
        if created:  # a failed first run leaves no half-trained folder to block its rerun
            shutil.rmtree(output, ignore_errors=True)
        raise


def _clear_student(folder: Path) -> None:
    """Empty a student folder for ``--overwrite``: its old checkpoints must not sit beside the new ones. A
    folder that holds files but no model (no config.json) is not ours to empty."""
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not (folder / "config.json").is_file():
        raise InputError("this folder holds files but is not a student (no config.json); --overwrite only "
                         "replaces students, so give the student its own --output-dir", folder)
    for item in folder.iterdir():
        shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()


def _report(output) -> int:
    if int(os.environ.get("RANK", "0")) == 0:  # one line, not one per torchrun process
        print(f"student saved to {output}")
    return 0


def _conversations(args: argparse.Namespace, policy: str = "disco"):
    """The topics' turns as search reads them (responses fetched, reference cut resolved), already cut.

    Canonical responses named by id (CAsT 2020) come from ``--responses-from``, else from ``--corpus`` when given.
    """
    from disco_pyserini.encode.conversations import load_conversations

    responses = args.history_responses or "all"
    loaded = load_conversations(args.topics, args.topics_format, dict(args.rewrites), args.responses_from, policy,
                                args.history_cut, args.strict, history_responses=responses,
                                collection=getattr(args, "corpus", None))
    return loaded._replace(turns=loaded.cut_turns(responses))


BUILD_EPILOG = """Two sources of teacher scores:
  given:    --teacher-run run.json          the released runs ({qid: {docid: score}}) or TREC runs; no corpus or
                                            encoder needed; several runs are fused into one teacher (--run-fusion)
  computed: --run R --corpus C --doc-encoder M [--teacher NAME ...]
                                            SPLADE(rewrite) . SPLADE(passage) for every candidate of run R
Run and qrels query ids may be the topics' ids or 0-based row numbers of the topics file (the DiSCo authors'
TopiOCQA files): --qids auto tells them apart and says which it used."""


def _build(argv: Sequence[str]) -> int:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.train build", epilog=BUILD_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Write a distillation file: each training turn's candidate pool "
                                                 "and teacher scores (format: disco_pyserini.train.build).")
    parser.add_argument("--topics", required=True)
    parser.add_argument("--topics-format")
    parser.add_argument("--qrels", required=True,
                        help="TREC qrels, JSON {qid: {docid: rel}} or a dataset name (cast2019, topiocqa, ...)")
    parser.add_argument("--output", required=True)
    cli.add_overwrite(parser, "distillation file")
    given = parser.add_argument_group("teacher scores given by runs")
    given.add_argument("--teacher-run", action="append", default=[], type=named_run, metavar="[NAME=]FILE",
                       help="teacher run (run.json or TREC); repeat to fuse several into one teacher")
    given.add_argument("--run-fusion", default="merge", choices=["merge", "mean", "max"],
                       help="merge (the run merger of the authors' first commit: union, the last-listed run wins, "
                            "top 1000), mean (the reproduction study's) or max over the "
                            "runs that retrieved the document (default: merge)")
    given.add_argument("--score-scale", type=cli.POSITIVE, default=1.0,
                       help="multiply run scores (1e-4 for runs of this toolkit's impact indexes, factor 100)")
    computed = parser.add_argument_group("teacher scores computed from rewrites")
    computed.add_argument("--run", help="run whose ranking gives the candidate pool (e.g. the teacher's)")
    computed.add_argument("--corpus")
    computed.add_argument("--doc-encoder", help="frozen SPLADE document encoder (hub name or path)")
    computed.add_argument("--teacher-encoder", help="SPLADE encoder for rewrites (default: the document encoder)")
    computed.add_argument("--rewrites", action="append", default=[], metavar="NAME=SOURCE", type=name_value,
                          help="attach rewrites (TSV, JSONL, Parquet, hub dataset OWNER/NAME[:SPLIT]) as NAME")
    computed.add_argument("--teacher", action="append", metavar="NAME",
                          help="teacher rewrite source (manual, automatic or a --rewrites name); repeat; "
                               "default manual")
    computed.add_argument("--dtype", default="fp32", choices=["fp32", "fp16", "bf16"],
                          help="precision of the teacher scores (default fp32, as the trainer's documents)")
    computed.add_argument("--max-length", type=cli.COUNT, default=256)
    computed.add_argument("--batch-size", type=cli.COUNT, default=32)
    computed.add_argument("--device", type=cli.device)
    parser.add_argument("--skip-top", type=cli.CUTOFF, default=10,
                        help="the pool starts after this rank (reference: 10)")
    parser.add_argument("--max-rank", type=cli.COUNT, default=960, help="the pool ends at this rank (reference: 960)")
    parser.add_argument("--rel-threshold", type=cli.CUTOFF, default=1)
    parser.add_argument("--qids", default="auto", choices=["auto", "topic", "row"],
                        help="how run and qrels query ids name turns: topic ids, or row numbers of the topics file "
                             "(auto: row numbers are recognised for TopiOCQA topics, the authors' convention)")
    parser.add_argument("--input-policy", default="disco", help="student input formulation (topics policies)")
    add_conversation_args(parser)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from disco_pyserini.train import build
    from disco_pyserini.train.teacher_runs import read_training_qrels

    if bool(args.teacher_run) == bool(args.run):
        raise InputError("give --teacher-run (scores given) or --run with --corpus and --doc-encoder (scores "
                         "computed from rewrites), not both")
    if args.skip_top < 0 or args.max_rank <= args.skip_top:
        raise InputError("need 0 <= --skip-top < --max-rank")
    missing = [flag for flag, value in (("--corpus", args.corpus), ("--doc-encoder", args.doc_encoder)) if not value]
    if args.run and missing:
        raise InputError(f"scores computed from rewrites need {' and '.join(missing)}")
    cli.check_precision(args.device, args.dtype)
    cli.check_max_length(args.max_length, args.doc_encoder)
    cli.check_max_length(args.max_length, args.teacher_encoder)
    cli.claim_outputs([cli.Output("--output", args.output, "distill.jsonl")],
                      {"--topics": args.topics, "--qrels": args.qrels, "--teacher-run": args.teacher_run,
                       "--run": args.run, "--corpus": args.corpus, "--doc-encoder": args.doc_encoder,
                       "--teacher-encoder": args.teacher_encoder, "--rewrites": args.rewrites,
                       "--responses-from": args.responses_from}, args.overwrite)
    qrels, conversations = read_training_qrels(args.qrels), _conversations(args)
    turns = conversations.turns
    from disco_pyserini.topics import detect_format

    rows_expected = (args.topics_format or detect_format(args.topics)) == "topiocqa"
    options = dict(skip_top=args.skip_top, max_rank=args.max_rank, rel_threshold=args.rel_threshold,
                   qids=args.qids, input_policy=args.input_policy, rows_expected=rows_expected)
    if args.teacher_run:
        head, records, stats = build.teacher_run_distillation(turns, qrels, args.teacher_run, args.run_fusion,
                                                              score_scale=args.score_scale, **options)
    else:
        from disco_pyserini.encode.splade import SpladeEncoder

        encoders = [SpladeEncoder(name, device=args.device, max_length=args.max_length, batch_size=args.batch_size,
                                  dtype=args.dtype) for name in dict.fromkeys(
                                      [args.doc_encoder, args.teacher_encoder or args.doc_encoder])]
        head, records, stats = build.rewrite_distillation(turns, qrels, args.run, args.corpus,
                                                          args.teacher or ["manual"], encoders[0], encoders[-1],
                                                          progress=not args.no_progress, **options)
        head.update(doc_encoder=args.doc_encoder, teacher_encoder=args.teacher_encoder or args.doc_encoder)
    # The student's inputs were read this way: the trained model records it and reads conversations the same way.
    head.update(history_cut=conversations.history_cut, history_responses=args.history_responses or "all")
    for note in stats.notes:
        print(note, file=sys.stderr)
    written = build.write_distillation(args.output, head, records)
    print(f"{written} training turns of {stats.turns} ({stats.no_positive} without a positive, "
          f"{stats.no_candidates} without candidates past rank {args.skip_top}) -> {args.output}")
    return 0


def _sparsity(argv: Sequence[str]) -> int:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.train sparsity",
                                     description="Average non-zero terms and FLOPS of encoded queries and documents.")
    parser.add_argument("--encoder", required=True, help="query encoder (student or SPLADE checkpoint)")
    parser.add_argument("--doc-encoder", help="document encoder (default: --encoder)")
    parser.add_argument("--topics", required=True)
    parser.add_argument("--topics-format")
    parser.add_argument("--rewrites", action="append", default=[], metavar="NAME=SOURCE", type=name_value)
    parser.add_argument("--policy", default="disco", help="query formulation (disco, raw, manual, rewrite:NAME...)")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--max-docs", type=cli.COUNT, default=10000, help="documents sampled from the corpus head")
    parser.add_argument("--query-topk", type=cli.CUTOFF, metavar="K",
                        help="keep the K largest query weights (default: as trained, else all; 0: all)")
    parser.add_argument("--max-length", type=cli.COUNT, default=256)
    parser.add_argument("--device", type=cli.device)
    add_conversation_args(parser)
    args = parser.parse_args(argv)
    cli.check_max_length(args.max_length, args.encoder)
    cli.check_max_length(args.max_length, args.doc_encoder)
    from itertools import islice

    from disco_pyserini.analysis.sparsity import sparsity
    from disco_pyserini.encode.corpus import read_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.topics import formulate
    from disco_pyserini.encode.trained import trained_top_k

    queries = [formulate(turn, args.policy, fallback=True) for turn in _conversations(args, args.policy).turns]
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    return _train(argv)


if __name__ == "__main__":
    raise SystemExit(run(main))
