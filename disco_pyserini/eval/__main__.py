"""``python -m disco_pyserini.eval``: evaluate TREC runs against qrels, trec_eval-exact.

    python -m disco_pyserini.eval --run RUN ... --qrels NAME_OR_FILE [--metrics ...]
    python -m disco_pyserini.eval qrels --dataset {topiocqa,qrecc} --input FILE [--output FILE]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError

# Mirror metrics.DEFAULT_METRICS and paper.PAPER_METRICS without importing pandas/ir_measures: --help stays light.
DEFAULT_METRICS = ["MRR", "MRR@10", "nDCG@3", "R@100", "R@1000"]
PAPER_METRICS = ["MRR@10", "MRR", "nDCG@3", "R@10", "R@100"]
EPILOG = """other commands:
  python -m disco_pyserini.eval qrels --help   TopiOCQA/QReCC qrels from the dataset files"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(
        prog="python -m disco_pyserini.eval", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Evaluate runs with ir_measures (trec_eval -c conventions: judged queries missing from a run "
                    "score 0). Prints one table, runs as rows.")
    parser.add_argument("--run", nargs="+", required=True, help="TREC run file(s); names in the table are file stems")
    parser.add_argument("--qrels", nargs="+", default=None,
                        help="qrels file or dataset name (cast2019, cast2020, cast2022, ikat2023, ikat2024, "
                             "topiocqa, qrecc, sample); with --table, optional DATASET=FILE overrides")
    parser.add_argument("--table", action="store_true",
                        help="paper layout: runs named DATASET.RETRIEVER.INPUT.MODEL.trec become rows per method "
                             "and columns per dataset, each dataset scored with its own qrels and convention")
    parser.add_argument("--dataset", default=None, help="apply this dataset's convention to a qrels file")
    parser.add_argument("--metrics", nargs="+", default=None,
                        help=f"ir_measures names; MRR is trec_eval's recip_rank over the whole run (the authors' "
                             f"mrr_1000), MRR@10 the same within the top 10 (their mrr_10; which one the paper prints "
                             f"is not in their code) (default: {' '.join(DEFAULT_METRICS)}; with --table the paper's "
                             f"{' '.join(PAPER_METRICS)})")
    parser.add_argument("--duplicates", nargs="+", default=None, metavar="FILE",
                        help="drop duplicate documents from the runs first (the CAsT 2022 organisers' "
                             "'original:dup1,dup2' list, or one id per line; not done by default: the authors' "
                             "merge_run_cast22.py, as written, matched no id); with --table, DATASET=FILE")
    parser.add_argument("--rel", type=cli.CUTOFF, action="append", default=None,
                        help="relevance threshold for binary measures (default: the dataset's, else 1; TREC's >= 2 "
                             "on CAsT 2020/2022 and iKAT, where the authors' released evaluation used >= 1); with "
                             "--table repeat it (--rel 1 --rel 2) to show binary columns at each threshold")
    parser.add_argument("--baseline", default=None,
                        help="run (or, with --table, method label) to test the others against (default: the first "
                             "run; none with --table)")
    parser.add_argument("--format", choices=["markdown", "latex", "csv"], default="markdown")
    parser.add_argument("--digits", type=cli.number(int, minimum=0, maximum=15), default=3)
    parser.add_argument("--per-query", action="store_true", help="print per-query scores (CSV) instead of the table")
    parser.add_argument("--output", default=None, help="also write the table here (format from .md/.tex/.csv)")
    cli.add_overwrite(parser, "output file")
    return parser.parse_args(argv)


def _named_files(values: Sequence[str] | None, flag: str) -> dict[str, str]:
    try:
        return dict(cli.name_value(item) for item in values or [])
    except argparse.ArgumentTypeError as error:
        raise InputError(f"{flag} with --table: {error}") from None


def paper_main(args: argparse.Namespace) -> int:
    from disco_pyserini.eval.paper import format_paper_table, paper_table

    overrides = _named_files(args.qrels, "--qrels")
    duplicates = _named_files(args.duplicates, "--duplicates")
    layout = paper_table(args.run, args.metrics or PAPER_METRICS, overrides, args.baseline, duplicates=duplicates,
                         rels=args.rel or ())
    for warning in layout.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    table = format_paper_table(layout, args.format, args.digits)
    print(table)
    if args.output:
        with atomic_write(args.output) as handle:
            handle.write(table + "\n")
    return 0


def qrels_main(argv: Sequence[str]) -> int:
    """``eval qrels``: write a dataset's qrels from its files, where ``--qrels NAME`` finds them by default."""
    from disco_pyserini.eval.qrels import DATASETS, qrels_dir

    parser = cli.ArgumentParser(
        prog="python -m disco_pyserini.eval qrels",
        description="Write TREC qrels (qid 0 docid 1) from TopiOCQA or QReCC dataset files, with the topic loaders' "
                    "query ids and the passage collections' ids (the ids encode docs writes).")
    parser.add_argument("--dataset", required=True, choices=["topiocqa", "qrecc"])
    parser.add_argument("--input", required=True,
                        help="TopiOCQA: a DPR retriever file (data/retriever/*/dev.json, positive_ctxs) or the "
                             "dataset JSON (topiocqa_dev.json, Gold_passage); QReCC: a SCAI-QReCC file "
                             "(Truth_passages)")
    parser.add_argument("--output", default=None,
                        help="qrels file (default: DATASET.qrels.txt in the qrels folder, so that --qrels DATASET "
                             "finds it; name training qrels yourself)")
    parser.add_argument("--query-ids", choices=["turn", "row"], default="turn",
                        help="turn: <conversation>_<turn>, the topic loaders' and the runs' ids (default); row: the "
                             "DiSCo reference's 0-based row numbers, to compare with its files")
    cli.add_overwrite(parser, "output file")
    args = parser.parse_args(argv)
    from disco_pyserini.eval.dataset_qrels import BUILDERS, write_qrels

    if args.query_ids == "row" and args.output is None:
        raise InputError("--query-ids row needs --output: the qrels folder's file, which --qrels "
                         f"{args.dataset} reads, keeps the runs' <conversation>_<turn> ids")
    default = qrels_dir() / DATASETS[args.dataset].filename
    output = args.output or default
    cli.claim_outputs([cli.Output("--output", output, f"{args.dataset}.qrels.txt")], {"--input": args.input},
                      args.overwrite)
    gold = BUILDERS[args.dataset](args.input, args.query_ids)
    write_qrels(gold.judgments, output, overwrite=args.overwrite)
    if args.dataset == "topiocqa":
        counts = (f"unanswerable turns, kept with their gold passage as in the reference: {gold.unanswerable}; "
                  f"turns without a gold passage, not judged: {gold.without_gold}")
    else:
        counts = (f"turns without gold passages, not judged as in the reference and the SCAI-QReCC evaluation: "
                  f"{gold.without_gold}")
    print(f"{args.dataset}: {len(gold.judgments)} judgments for {gold.judged} of {gold.turns} turns; {counts} "
          f"-> {output}")
    if args.output is None or os.path.abspath(output) == os.path.abspath(default):
        print(f"evaluate with: python -m disco_pyserini.eval --run RUN --qrels {args.dataset}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "qrels":
        return qrels_main(argv[1:])
    args = parse_args(argv)
    cli.claim_outputs([cli.Output("--output", args.output, "table.md")],
                      {"--run": args.run, "--qrels": args.qrels, "--duplicates": args.duplicates,
                       "--baseline": args.baseline}, args.overwrite)
    if args.table:
        return paper_main(args)
    if not args.qrels or len(args.qrels) != 1:
        raise InputError("give one --qrels file or dataset name (several only with --table, as DATASET=FILE)")
    args.qrels = args.qrels[0]
    if args.rel and len(args.rel) != 1:
        raise InputError("give one --rel (several only with --table, side by side)")
    if args.duplicates and len(args.duplicates) != 1:
        raise InputError("give one --duplicates file (several only with --table, as DATASET=FILE)")
    from disco_pyserini.eval.metrics import evaluate
    from disco_pyserini.eval.tables import format_table

    names = [Path(run).stem for run in args.run]
    if len(set(names)) != len(names):
        names = [str(run) for run in args.run]  # same stems in different folders: use the paths
    result = evaluate(dict(zip(names, args.run)), args.qrels, args.metrics or DEFAULT_METRICS,
                      rel=args.rel[0] if args.rel else None,
                      dataset=args.dataset, duplicates=args.duplicates[0] if args.duplicates else None)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.per_query:
        print(result.per_query.to_csv(index=False), end="")
        return 0
    fmt = args.format
    if args.output:
        fmt = {".md": "markdown", ".tex": "latex", ".csv": "csv"}.get(Path(args.output).suffix, fmt)
    baseline = Path(args.baseline).stem if args.baseline and args.baseline not in names else args.baseline
    table = format_table(result, fmt, baseline=baseline, digits=args.digits)
    print(table)
    if args.output:
        with atomic_write(args.output) as handle:
            handle.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
