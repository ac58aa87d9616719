"""trec_eval-exact evaluation of one or more runs with ir_measures.

Ranking: every run is first put in trec_eval's order (score descending, ties broken by document id
descending, the rank column ignored) and re-scored ``n, n-1, ..., 1`` in that order
(:func:`~disco_pyserini.eval.runs.untie`) before any ir_measures provider sees it. Providers differ
in how they break ties (integer impact scores tie often), and a cutoff such as ``@10`` falls inside a
tie; with no ties left every provider sees trec_eval's ranking and cuts it where trec_eval does. So
``MRR@10`` is trec_eval's ``recip_rank`` over the run cut at 10 after trec_eval's ordering, and the
other measures (nDCG@k, R@k, P@k, AP, Success@k, ...) equal ``trec_eval``'s (tested against
pytrec_eval on random runs full of ties).

Two reciprocal ranks, named apart:

* ``MRR``: trec_eval's ``recip_rank`` over the whole run (1000 hits by default): the authors' ``mrr_1000``
  on 1000-hit runs.
* ``MRR@10``: the same over the first 10 documents: the authors' ``mrr_10``.

The authors' configuration computes both; which one the paper's and model cards' "MRR" column prints,
their released code does not say, so the paper table shows both.

Conventions (those of ``trec_eval -c``, which DiSCo's numbers follow): every query in the qrels
counts, including one without a relevant document at the threshold (it scores 0); a judged query
missing from a run scores 0; run queries without judgments are ignored (and reported). Binary
measures (RR/MRR, R, P, AP, ...) use the dataset's relevance threshold; nDCG uses the graded
judgments as gains. The thresholds (:data:`disco_pyserini.eval.qrels.DATASETS`) are TREC's, >= 2 on
CAsT 2020/2022 and iKAT; the authors' released evaluation calls pytrec_eval at its default, >= 1
(``splade/utils/metrics.py``), and which one the paper used is not in the released code: ``rel``
(``--rel``, repeatable with ``--table``) shows the other.
"""
from __future__ import annotations

import os
from typing import Mapping, NamedTuple, Sequence

import ir_measures
import pandas as pd

from disco_pyserini.errors import InputError
from disco_pyserini.eval.duplicates import drop_duplicates, read_duplicates
from disco_pyserini.eval.qrels import Dataset, Qrels, dataset_named, read_qrels, resolve_qrels
from disco_pyserini.eval.runs import Run, read_run, untie

DEFAULT_METRICS = ("MRR", "MRR@10", "nDCG@3", "R@100", "R@1000")
BINARY_MEASURES = {"RR", "R", "P", "AP", "Success", "Rprec", "Bpref", "SetP", "SetR", "SetF", "NumRelRet"}
RunSource = str | os.PathLike | Run


class EvalResult(NamedTuple):
    """Per-query scores (long format: run, query_id, metric, value), the mean table (run x metric),
    the dataset convention in force (one line), what the MRR columns mean (one line, empty when there
    are none) and warnings about id mismatches."""

    per_query: pd.DataFrame
    summary: pd.DataFrame
    convention: str
    mrr_note: str
    warnings: tuple[str, ...]


def parse_metrics(names: Sequence[str], rel: int) -> dict[str, ir_measures.Measure]:
    """``{label: measure}``; binary measures get ``rel`` unless the name sets it (``RR(rel=1)@10``)."""
    measures = {}
    for name in names:
        try:
            measure = ir_measures.parse_measure(name)
        except (ValueError, NameError, SyntaxError, TypeError, AttributeError):
            raise InputError(f"unknown metric {name!r}; use ir_measures names such as MRR, MRR@10, nDCG@3, "
                             "R@100, AP") from None
        if measure.NAME in BINARY_MEASURES and "rel" not in measure.params:
            measure = measure(rel=rel)
        measures[name] = measure
    return measures


def threshold_metrics(names: Sequence[str]) -> set[str]:
    """The metric names whose value depends on the relevance threshold (binary measures that do not set it)."""
    parse_metrics(names, 1)  # unknown names: one error
    return {name for name in names
            if (measure := ir_measures.parse_measure(name)).NAME in BINARY_MEASURES and "rel" not in measure.params}


def convention_line(label: str, judged: int, thresholds: Sequence[int], remark: str = "") -> str:
    """The one-line evaluation convention printed under a table (``remark`` follows the thresholds)."""
    levels = " and ".join(f">= {threshold}" for threshold in thresholds)
    return (f"{label}: {judged} judged queries (missing ones score 0); binary measures at relevance {levels}"
            f"{remark}; nDCG on graded judgments; ties ranked as trec_eval does (docid descending)")


def mrr_note(measures: Mapping[str, ir_measures.Measure]) -> str:
    """What the table's reciprocal-rank columns mean (empty when it has none)."""
    parts = []
    for label, measure in measures.items():
        if measure.NAME != "RR":
            continue
        cutoff = measure.params.get("cutoff")
        parts.append(f"{label} = reciprocal rank over the whole run (trec_eval recip_rank; the authors' mrr_1000 "
                     "on 1000-hit runs)" if cutoff is None else
                     f"{label} = reciprocal rank within the top {cutoff}" + (" (the authors' mrr_10)"
                                                                             if cutoff == 10 else ""))
    return "; ".join(parts)


def _load_run(source: RunSource) -> Run:
    return source if isinstance(source, Mapping) else read_run(source)


def _named_runs(runs: RunSource | Mapping[str, RunSource]) -> dict[str, Run]:
    if isinstance(runs, (str, os.PathLike)):
        return {os.path.splitext(os.path.basename(runs))[0]: read_run(runs)}
    return {name: _load_run(source) for name, source in runs.items()}


def evaluate(runs: RunSource | Mapping[str, RunSource], qrels: str | os.PathLike | Qrels,
             metrics: Sequence[str] | None = None, rel: int | None = None,
             dataset: str | None = None, duplicates: str | os.PathLike | frozenset[str] | None = None
             ) -> EvalResult:
    """Evaluate runs (a path, or ``{name: path | {qid: {doc: score}}}``) against qrels (a path, a dataset name
    such as ``cast2020``, or a dict). ``rel`` overrides the dataset's binary relevance threshold;
    ``duplicates`` (a file or a set of ids) drops duplicate documents from every run first (CAsT 2022)."""
    known: Dataset | None = None
    if isinstance(qrels, Mapping):
        judged = qrels
    else:
        path, known = resolve_qrels(qrels)
        judged = read_qrels(path)
    if dataset is not None:
        known = dataset_named(dataset)
    if isinstance(duplicates, (str, os.PathLike)):
        duplicates = read_duplicates(duplicates)
    threshold = rel if rel is not None else (known.rel if known else 1)
    measures = parse_metrics(metrics or DEFAULT_METRICS, threshold)
    qrel_rows = [ir_measures.Qrel(q, d, r) for q, docs in judged.items() for d, r in docs.items()]
    rows, warnings = [], []
    for name, run in _named_runs(runs).items():
        if duplicates:
            run, dropped = drop_duplicates(run, duplicates)
            warnings.append(f"{name}: {dropped} duplicate document(s) dropped before evaluation")
        unjudged = sorted(set(run) - set(judged))
        missing = sorted(set(judged) - set(run))
        if unjudged:
            warnings.append(f"{name}: {len(unjudged)} of {len(run)} run queries have no judgments and are ignored")
        if missing:
            warnings.append(f"{name}: {len(missing)} of {len(judged)} judged queries are missing and score 0")
        ranked = untie({qid: docs for qid, docs in run.items() if qid in judged})
        scored = [ir_measures.ScoredDoc(q, d, s) for q, docs in ranked.items() for d, s in docs.items()]
        values = {(m.query_id, m.measure): m.value
                  for m in ir_measures.iter_calc(list(measures.values()), qrel_rows, scored)}
        for qid in judged:
            for label, measure in measures.items():
                rows.append((name, qid, label, float(values.get((qid, measure), 0.0))))
    per_query = pd.DataFrame(rows, columns=["run", "query_id", "metric", "value"])
    summary = per_query.pivot_table(index="run", columns="metric", values="value", aggfunc="mean", sort=False)
    summary = summary[list(measures)]
    summary.columns.name = None
    label = known.name if known else "custom qrels"
    convention = convention_line(label, len(judged), [threshold], " (override)" if rel is not None else "")
    return EvalResult(per_query, summary, convention, mrr_note(measures), tuple(warnings))
