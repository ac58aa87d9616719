"""The distillation file: for every training turn, its candidate pool and each teacher's scores.

Format (JSONL, version 2). The first line is a header, then one line per training turn::

    {"format": "disco-distillation", "version": 2, "teachers": ["manual", "mistral"],
     "source": "rewrites", "skip_top": 10, "max_rank": 960, "rel_threshold": 1, ...}
    {"qid": "c1_2", "query": "what is its diet? [SEP] ... [SEP] what is the natural habitat of the giraffe?",
     "positives": ["d0076"],                        # qrels relevance >= rel_threshold
     "pool": ["d0311", "d0042", ...],               # teacher ranks skip_top+1..max_rank, positives left out
     "teachers": {"manual": {"pool": [4.1, ...],    # the teacher's score of every pool document
                             "positives": [31.2],   # each positive's own score (null where unknown)
                             "clamped": [31.2],     # the reference's: own score if in ranks
                                                    # skip_top+1..max_rank, else the best score there
                             "range": [0.8, 35.0]}, # min and max over the teacher's run (for `norm`)
                  "mistral": {...}}}

``query`` is the student's input (the DiSCo formulation of the conversation by default). The trainer
draws one positive and the negatives from ``pool`` afresh every epoch (``disco_pyserini.train.data``).

Two ways to get the scores:

- rewrites (``source: rewrites``): teacher ``name`` scores document ``d`` with
  ``SPLADE_teacher(rewrite_name) . SPLADE_doc(d)`` (float dot product of frozen encoders, fp32 by
  default); the pool comes from one run (``--run``, e.g. the teacher's own), every teacher scores it.
- teacher runs (``source: teacher-run``): the scores are given, as in the released ``run.json`` files;
  several runs are fused into one teacher first (``teacher_runs.fuse_runs``).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch
from tqdm.auto import tqdm

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.corpus import read_corpus
from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.errors import InputError
from disco_pyserini.eval.runs import Run
from disco_pyserini.topics import Turn, formulate
from disco_pyserini.train.documents import FrozenDocumentEncoder, dense_vectors
from disco_pyserini.train.teacher_runs import align_to_turns, fuse_runs, ranked, read_scores

FORMAT, VERSION = "disco-distillation", 2
DOCS_PER_CHUNK = 4096
"""Documents encoded per scoring chunk of the rewrites path (memory stays flat whatever the pool size)."""


@dataclass
class BuildStats:
    """What the builder saw: topic turns, turns skipped (no positive, or no candidate in the teacher run), notes."""

    turns: int = 0
    no_positive: int = 0
    no_candidates: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """One training turn: its positives and its teacher ranking down to ``max_rank``."""

    turn: Turn
    positives: list[str]
    ranking: list[str]


def plan_turns(turns: Iterable[Turn], qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Mapping[str, float]],
               max_rank: int, skip_top: int, rel_threshold: int, stats: BuildStats) -> list[Plan]:
    """The turns that have a positive in ``qrels`` and a candidate past ``skip_top`` in ``run``."""
    plans = []
    for turn in turns:
        stats.turns += 1
        positives = sorted(doc for doc, rel in qrels.get(turn.query_id, {}).items() if rel >= rel_threshold)
        ranking = ranked(run.get(turn.query_id, {}))[:max_rank]
        if not positives:
            stats.no_positive += 1
        elif not [doc for doc in ranking[skip_top:] if doc not in positives]:
            stats.no_candidates += 1
        else:
            plans.append(Plan(turn, positives, ranking))
    if not plans:
        raise InputError("no training turn: none has a positive passage in the qrels (relevance >= "
                         f"{rel_threshold}) and candidates past rank {skip_top} in the run; check that the topics, "
                         "qrels and run name the same turns (--qids)")
    return plans


def turn_record(plan: Plan, scores: Mapping[str, Mapping[str, float]], ranges: Mapping[str, tuple[float, float]],
                skip_top: int, input_policy: str) -> dict[str, Any]:
    """The file line of one turn; ``scores[teacher]`` holds at least the ranking's and the positives' known scores."""
    kept = plan.ranking[skip_top:]
    pool = [doc for doc in kept if doc not in plan.positives]
    teachers = {}
    for name, score in scores.items():
        best = max(score[doc] for doc in kept)
        teachers[name] = {
            "pool": [_round(score[doc]) for doc in pool],
            "positives": [None if score.get(doc) is None else _round(score[doc]) for doc in plan.positives],
            "clamped": [_round(score[doc] if doc in kept else best) for doc in plan.positives],
            "range": [_round(value) for value in ranges[name]]}
    return {"qid": plan.turn.query_id, "query": formulate(plan.turn, input_policy), "positives": plan.positives,
            "pool": pool, "teachers": teachers}


def _round(value: float) -> float:
    return round(float(value), 5)


def header(teachers: Sequence[str], source: str, **settings: Any) -> dict[str, Any]:
    """The first line of a distillation file: format, version, teachers and how the file was built."""
    return {"format": FORMAT, "version": VERSION, "teachers": list(teachers), "source": source, **settings}


def teacher_run_records(plans: Sequence[Plan], run: Run, name: str, skip_top: int,
                        input_policy: str) -> Iterator[dict[str, Any]]:
    """Records whose scores are the teacher run's own (a positive the run lacks has no exact score)."""
    for plan in plans:
        scores = run[plan.turn.query_id]
        values = scores.values()
        yield turn_record(plan, {name: scores}, {name: (min(values), max(values))}, skip_top, input_policy)


def rewrite_records(plans: Sequence[Plan], corpus: str | os.PathLike, teachers: Sequence[str],
                    doc_encoder: SpladeEncoder, teacher_encoder: SpladeEncoder, skip_top: int, input_policy: str,
                    progress: bool = True) -> Iterator[dict[str, Any]]:
    """Records scored by dot products of teacher rewrites with every ranked document and positive."""
    for plan in plans:
        for name in teachers:
            if not (plan.turn.rewrite(name) or "").strip():
                raise InputError(f"turn {plan.turn.query_id} has no rewrite from teacher {name!r}; attach a rewrite "
                                 "source covering every training turn (--rewrites NAME=SOURCE) or drop the teacher")
    texts = load_texts(corpus, {doc for plan in plans for doc in plan.ranking + plan.positives})
    chunks = list(_chunks(plans))
    # Pools of a conversation's turns overlap, and a small corpus is in every chunk: each document is encoded once.
    documents = FrozenDocumentEncoder(doc_encoder, texts)
    for chunk in tqdm(chunks, desc="teacher scores", unit="chunk", disable=not progress):
        for plan, scores in zip(chunk, _dot_products(chunk, teachers, documents, teacher_encoder)):
            ranges = {name: (min(values.values()), max(values.values())) for name, values in scores.items()}
            yield turn_record(plan, scores, ranges, skip_top, input_policy)


def _chunks(plans: Sequence[Plan]) -> Iterator[list[Plan]]:
    chunk: list[Plan] = []
    size = 0
    for plan in plans:
        chunk.append(plan)
        size += len(plan.ranking) + len(plan.positives)
        if size >= DOCS_PER_CHUNK:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _dot_products(plans: Sequence[Plan], teachers: Sequence[str], documents: FrozenDocumentEncoder,
                  teacher_encoder: SpladeEncoder) -> list[dict[str, dict[str, float]]]:
    """Per plan, ``{teacher: {doc: score}}`` for its ranking and positives."""
    docs = sorted({doc for plan in plans for doc in plan.ranking + plan.positives})
    column = {doc: i for i, doc in enumerate(docs)}
    queries = dense_vectors(teacher_encoder, [plan.turn.rewrite(name).strip() for plan in plans for name in teachers])
    scores = torch.empty(len(queries), len(docs))
    step = documents.encoder.batch_size
    for start in range(0, len(docs), step):
        scores[:, start:start + step] = queries @ documents.dense(docs[start:start + step]).T
    scores = scores.reshape(len(plans), len(teachers), len(docs))
    out = []
    for plan, rows in zip(plans, scores):
        wanted = list(dict.fromkeys(plan.ranking + plan.positives))
        columns = [column[doc] for doc in wanted]
        out.append({name: dict(zip(wanted, row[columns].tolist())) for name, row in zip(teachers, rows)})
    return out


def load_texts(corpus: str | os.PathLike, wanted: set[str]) -> dict[str, str]:
    """Texts of the ``wanted`` doc ids, streaming the corpus once; a missing id is an error."""
    texts = {doc.doc_id: doc.text for doc in read_corpus(corpus) if doc.doc_id in wanted}
    missing = wanted - texts.keys()
    if missing:
        raise InputError(f"{len(missing)} document id(s) not in the corpus (e.g. {sorted(missing)[0]!r}); "
                         "use the corpus the qrels and run were made with", corpus)
    return texts


def _aligned(mapping: Run, turns: Sequence[Turn], qids: str, source: str | os.PathLike, what: str,
             stats: BuildStats, rows_expected: bool) -> Run:
    aligned, style = align_to_turns(mapping, turns, qids, source, rows_expected)
    if style == "row":
        stats.notes.append(f"{what} {source}: query ids are 0-based row numbers of the topics file (row i = turn i), "
                           "the reference's TopiOCQA convention")
    return aligned


def teacher_run_distillation(turns: Sequence[Turn], qrels: Mapping[str, Mapping[str, int]],
                             runs: Sequence[tuple[str, str | os.PathLike]], run_fusion: str = "merge",
                             skip_top: int = 10, max_rank: int = 960, rel_threshold: int = 1, qids: str = "auto",
                             input_policy: str = "disco", score_scale: float = 1.0, rows_expected: bool = False,
                             ) -> tuple[dict[str, Any], Iterator[dict[str, Any]], BuildStats]:
    """Header, records and stats of a distillation file whose scores come from teacher runs ``[(name, path)]``.

    Run and qrels query ids are topic ids or row numbers of ``turns`` (``qids``: ``auto`` detects
    which, row numbers only where ``rows_expected``: TopiOCQA topics); scores are multiplied by
    ``score_scale`` (e.g. 1e-4 for runs of integer impact indexes quantised with factor 100); several
    runs are fused into one teacher by ``run_fusion``.
    """
    if not runs:
        raise InputError("give at least one teacher run")
    stats = BuildStats()
    qrels = _aligned(dict(qrels), turns, qids, "qrels", "qrels", stats, rows_expected)
    loaded = []
    for name, path in runs:
        run = _aligned(read_scores(path), turns, qids, path, f"teacher run {name}", stats, rows_expected)
        loaded.append({qid: {doc: score * score_scale for doc, score in docs.items()} for qid, docs in run.items()}
                      if score_scale != 1 else run)
    run = fuse_runs(loaded, run_fusion)
    name = "+".join(name for name, _ in runs)
    plans = plan_turns(turns, qrels, run, max_rank, skip_top, rel_threshold, stats)
    head = header([name], "teacher-run", runs=[os.fspath(path) for _, path in runs],
                  run_fusion=run_fusion if len(runs) > 1 else None, score_scale=score_scale, skip_top=skip_top,
                  max_rank=max_rank, rel_threshold=rel_threshold, input_policy=input_policy)
    return head, teacher_run_records(plans, run, name, skip_top, input_policy), stats


def rewrite_distillation(turns: Sequence[Turn], qrels: Mapping[str, Mapping[str, int]], run_path: str | os.PathLike,
                         corpus: str | os.PathLike, teachers: Sequence[str], doc_encoder: SpladeEncoder,
                         teacher_encoder: SpladeEncoder, skip_top: int = 10, max_rank: int = 960,
                         rel_threshold: int = 1, qids: str = "auto", input_policy: str = "disco",
                         rows_expected: bool = False, progress: bool = True,
                         ) -> tuple[dict[str, Any], Iterator[dict[str, Any]], BuildStats]:
    """Header, records and stats of a distillation file scored with teacher rewrites (pools from ``run_path``)."""
    if not teachers:
        raise InputError("give at least one teacher rewrite source (e.g. --teacher manual)")
    stats = BuildStats()
    qrels = _aligned(dict(qrels), turns, qids, "qrels", "qrels", stats, rows_expected)
    run = _aligned(read_scores(run_path), turns, qids, run_path, "run", stats, rows_expected)
    plans = plan_turns(turns, qrels, run, max_rank, skip_top, rel_threshold, stats)
    head = header(teachers, "rewrites", run=os.fspath(run_path), dtype=str(doc_encoder.dtype).removeprefix("torch."),
                  skip_top=skip_top, max_rank=max_rank, rel_threshold=rel_threshold, input_policy=input_policy)
    return head, rewrite_records(plans, corpus, teachers, doc_encoder, teacher_encoder, skip_top, input_policy,
                                 progress), stats


def write_distillation(output: str | os.PathLike, head: Mapping[str, Any],
                       records: Iterable[Mapping[str, Any]]) -> int:
    """Write ``head`` then ``records`` to ``output`` atomically (nothing is left behind on error); the record count."""
    count = 0
    with atomic_write(output) as handle:
        handle.write(json.dumps(head) + "\n")
        for record in records:
            handle.write(json.dumps(record) + "\n")
            count += 1
    return count
