"""``python -m disco_pyserini.reproduce``: DiSCo's table rows as runnable conditions, in the style of Pyserini's 2CR.

    python -m disco_pyserini.reproduce --list [--dataset cast2020]
    python -m disco_pyserini.reproduce --condition cast2020.disco-human-mistral.disco --display-commands
    python -m disco_pyserini.reproduce --all --dataset sample --dry-run      # what would run, what is done
    python -m disco_pyserini.reproduce --all --dataset sample                # run, score, compare
    python -m disco_pyserini.reproduce --all --only-eval                     # score the runs already there
    python -m disco_pyserini.reproduce --generate-report matrix.html         # the page (Markdown for .md)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError

WORK_DIR = "disco-reproduce"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(
        prog="python -m disco_pyserini.reproduce", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Reproduce DiSCo's tables (paper, model cards, reproducibility study) and the sample world: "
                    "each condition DATASET.MODEL.POLICY downloads, encodes, indexes, searches and is scored "
                    "against its expected numbers.", epilog=__doc__.split("\n", 1)[1])
    parser.add_argument("--list", action="store_true", help="list the conditions (of --dataset)")
    parser.add_argument("--condition", action="append", default=[], metavar="NAME",
                        help="a condition to work on (repeatable)")
    parser.add_argument("--all", action="store_true", help="every condition (of --dataset)")
    parser.add_argument("--dataset", default=None, help="only this dataset's conditions (with --list, --all)")
    parser.add_argument("--display-commands", action="store_true", help="print the commands; run nothing")
    parser.add_argument("--dry-run", action="store_true",
                        help="check every command against its CLI's argument parser and show what is done and "
                             "what would run; run nothing")
    parser.add_argument("--only-eval", action="store_true", help="score the runs already in the work folder")
    parser.add_argument("--generate-report", default=None, metavar="FILE",
                        help="write the matrix page (HTML for .html, else Markdown) with the scores measured so far")
    cli.add_overwrite(parser, "--generate-report file")
    parser.add_argument("--work-dir", default=WORK_DIR,
                        help=f"where vectors, indexes, runs and results go; shared by all conditions "
                             f"(default {WORK_DIR})")
    parser.add_argument("--data-dir", default=None, help="where downloads go (default: WORK_DIR/data)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=cli.name_value,
                        help="override a catalogue variable (threads, device, encode_batch_size, ...)")
    parser.add_argument("--catalogue", action="append", default=None, metavar="YAML",
                        help="catalogue file(s) to read instead of the package's conditions.yaml and sample.yaml")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def list_conditions(conditions) -> str:
    width = max(len(c.name) for c in conditions)
    lines = []
    for c in conditions:
        expected = ", ".join(f"{m} {v:.3f}" for m, v in c.expected.scores.items()) or "no expected score"
        lines.append(f"{c.name:<{width}}  {c.display}  [{expected}]")
    return "\n".join(lines)


def display_commands(conditions) -> str:
    from disco_pyserini.reproduce.report import commands

    return "\n\n".join(f"# {c.name}: {c.display}\n" + "\n".join(commands(c)) for c in conditions)


def dry_run(conditions, work: str) -> str:
    """Each condition's steps with their state; every toolkit command parsed by its CLI's parser."""
    from disco_pyserini.reproduce.steps import StepState, parse_command, toolkit_command

    state, seen, lines = StepState(work), set(), []
    for condition in conditions:
        lines.append(f"# {condition.name}: {condition.display}")
        for step in condition.steps:
            if toolkit_command(step.command):
                parse_command(step.command)
            shared = " (shared, listed above)" if step in seen else ""
            seen.add(step)
            what = f"{step.output}: {step.manual}" if step.manual else step.command
            lines.append(f"[{state.status(step)}]{shared} {what}")
        parse_command(condition.eval_command)
        lines.append(f"[score] {condition.eval_command}")
    return "\n".join(lines)


def run_conditions(conditions, work: str, only_eval: bool) -> int:
    """Run (unless ``only_eval``), score and compare each condition; a summary on stdout; 1 if any is off."""
    from disco_pyserini.reproduce import scores
    from disco_pyserini.reproduce.steps import StepState, ensure

    state, lines, counts = StepState(work), [], {"OK": 0, "OFF": 0, "--": 0}
    for condition in conditions:
        log(condition.name)
        if not only_eval:
            for _ in ensure(state, condition.steps, log):
                pass
        verdict = scores.compare(scores.score(condition), condition.expected)
        scores.save(work, condition, verdict)
        measured = ", ".join(f"{metric} {value:.4f}" + (f" ({verdict.checks[metric]})" if metric in verdict.checks
                                                          else "") for metric, value in verdict.scores.items())
        # "--": nothing to compare with (the catalogue entry says why)
        status = "--" if not condition.expected.scores else "OK" if verdict.ok else "OFF"
        counts[status] += 1
        lines.append(f"{status:<3} {condition.name}: {measured}")
    print("\n".join(lines))
    print(f"{counts['OK']} condition(s) OK, {counts['OFF']} off their expected scores, {counts['--']} without an "
          f"expected score", file=sys.stderr)
    return 1 if counts["OFF"] else 0


def generate_report(conditions, work: str, output: str) -> None:
    from disco_pyserini.reproduce import report, scores

    verdicts = {c.name: v for c in conditions if (v := scores.load(work, c)) is not None}
    page = report.to_html(conditions, verdicts) if output.endswith(".html") else report.markdown(conditions,
                                                                                                  verdicts)
    with atomic_write(output) as handle:
        handle.write(page)
    print(f"matrix of {len(conditions)} conditions ({len(verdicts)} measured) written to {output}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from disco_pyserini.reproduce.catalogue import CATALOGUE_FILES, build_conditions, read_catalogue, select

    work = args.work_dir
    catalogue = read_catalogue(args.catalogue or CATALOGUE_FILES)
    conditions = build_conditions(catalogue, work, args.data_dir or str(Path(work) / "data"), dict(args.set))
    if args.list:
        print(list_conditions(select(conditions, dataset=args.dataset, everything=True)))
        return 0
    chosen = select(conditions, args.condition, args.dataset, args.all or (bool(args.generate_report) and
                                                                          not args.condition))
    if not chosen:
        raise InputError("choose conditions: --condition NAME (see --list) or --all [--dataset NAME]")
    if args.generate_report:
        # the work folder is the command's own (its runs and scores), so the page may go there
        cli.claim_outputs([cli.Output("--generate-report", args.generate_report, "matrix.html")],
                          {"--catalogue": args.catalogue}, args.overwrite)
        generate_report(chosen, work, args.generate_report)
        return 0
    if args.display_commands:
        print(display_commands(chosen))
        return 0
    if args.dry_run:
        print(dry_run(chosen, work))
        return 0
    return run_conditions(chosen, work, args.only_eval)


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
