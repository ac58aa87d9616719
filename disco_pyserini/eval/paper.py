"""The paper's table layout from a folder of runs: one row per method, columns per dataset and metric.

Run files follow ``runs/DATASET.RETRIEVER.INPUT.MODEL.trec`` (fields without dots), e.g.
``cast2020.splade.manual.splade-ed.trec``, ``cast2020.bm25.rewrite-mistral.bm25.trec`` or
``cast2020.disco.conversation.disco-human-mistral.trec``. DATASET names the qrels and convention
(``cast2020``, ``topiocqa``, ... or ``sample``); the other fields label the row.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple, Sequence

import pandas as pd

from disco_pyserini.errors import InputError
from disco_pyserini.eval.metrics import EvalResult, convention_line, evaluate, threshold_metrics
from disco_pyserini.eval.qrels import DATASETS, SAMPLE, Dataset, Qrels, dataset_named, read_qrels, resolve_qrels
from disco_pyserini.eval.significance import paired_tests
from disco_pyserini.eval.tables import BETTER, WORSE

PAPER_METRICS = ("MRR@10", "MRR", "nDCG@3", "R@10", "R@100")
"""The columns of the DiSCo paper's tables (and model cards): MRR, nDCG@3, R@10, R@100. Its MRR is the authors'
``mrr_10`` or ``mrr_1000`` (their configuration computes both, the released code does not say which the paper
prints), so both are shown: ``MRR@10`` and ``MRR`` over the whole (1000-hit) run."""
MRR_CHOICE = ("the paper's MRR column is one of MRR@10 and MRR (the authors' mrr_10 and mrr_1000): their released "
              "configuration computes both and does not say which was printed")


class RunName(NamedTuple):
    """The fields of a run file name."""

    dataset: str
    retriever: str
    input: str
    model: str

    @property
    def method(self) -> str:
        return f"{self.retriever} {self.input} ({self.model})"


def parse_run_name(path: str | os.PathLike) -> RunName:
    """Split ``DATASET.RETRIEVER.INPUT.MODEL.trec`` (or ``.txt``) into its fields."""
    name = Path(path).name
    for suffix in (".trec", ".txt"):
        name = name.removesuffix(suffix)
    fields = name.split(".")
    if len(fields) != 4 or not all(fields):
        raise InputError("run file names must be DATASET.RETRIEVER.INPUT.MODEL.trec (see runs/README.md)", path)
    return RunName(*fields)


class PaperTable(NamedTuple):
    """Values (method x (dataset, metric)), significance marks, and each dataset's convention."""

    values: pd.DataFrame
    marks: dict[tuple[str, str, str], str]
    conventions: dict[str, str]
    mrr_note: str
    baseline: str | None
    warnings: tuple[str, ...]


def _thresholds(rels: Sequence[int], judged: Qrels, known: Dataset | None) -> list[int]:
    """The relevance thresholds a dataset is shown at: the requested ones its grades can reach (a threshold above
    the highest grade judges nothing relevant), else its own convention."""
    top = max((grade for docs in judged.values() for grade in docs.values()), default=1)
    return [rel for rel in rels if rel <= top] or [known.rel if known else 1]


def paper_table(runs: Sequence[str | os.PathLike], metrics: Sequence[str] = PAPER_METRICS,
                qrels: dict[str, str] | None = None, baseline: str | None = None, alpha: float = 0.05,
                duplicates: dict[str, str | os.PathLike] | None = None, rels: Sequence[int] = ()) -> PaperTable:
    """Evaluate every run against its dataset's qrels (``qrels`` maps dataset -> file to override) and lay
    the means out as the paper does. ``baseline`` is a method label tested against the others per dataset;
    ``duplicates`` maps a dataset to its duplicates file (CAsT 2022). ``rels`` are relevance thresholds for the
    binary measures (default: each dataset's own); with several (``[1, 2]``: the authors' released evaluation
    and TREC's), each binary column is shown once per threshold, ``MRR rel>=1``, ``MRR rel>=2``, on datasets
    whose graded judgments reach them."""
    by_dataset: dict[str, dict[str, str]] = {}
    methods: dict[str, None] = {}  # first-seen order of the rows
    for path in runs:
        name = parse_run_name(path)
        by_dataset.setdefault(name.dataset, {})[name.method] = str(path)
        methods[name.method] = None
    binary = threshold_metrics(metrics)
    columns, marks, conventions, warnings, note = {}, {}, {}, [], ""
    for dataset, named in by_dataset.items():
        path, known = resolve_qrels((qrels or {}).get(dataset, dataset))
        # a dataset name we know brings its convention; others are scored with the qrels' defaults
        if dataset in DATASETS or dataset == SAMPLE.name:
            known = dataset_named(dataset)
        judged = read_qrels(path)
        thresholds = _thresholds(rels, judged, known)
        for i, rel in enumerate(thresholds):
            result: EvalResult = evaluate(named, judged, metrics, rel=rel, dataset=known.name if known else None,
                                          duplicates=(duplicates or {}).get(dataset))
            note = result.mrr_note
            if i == 0:
                warnings += [f"{dataset}: {warning}" for warning in result.warnings]
            # one column per metric, and per threshold for the binary ones when there are several
            labels = {metric: f"{metric} rel>={rel}" if len(thresholds) > 1 and metric in binary else metric
                      for metric in result.summary.columns if i == 0 or metric in binary}
            for metric, label in labels.items():
                columns[(dataset, label)] = result.summary[metric]
            if baseline is not None and baseline in named and len(named) > 1:
                per_query = result.per_query[result.per_query["metric"].isin(labels)]
                for row in paired_tests(per_query, baseline, alpha).itertuples():
                    if row.significant:
                        marks[(row.run, dataset, labels[row.metric])] = BETTER if row.delta > 0 else WORSE
        default = known.rel if known else 1
        remark = f" (the dataset's convention: >= {default})" if thresholds != [default] else ""
        conventions[dataset] = convention_line(known.name if known else "custom qrels", len(judged), thresholds,
                                               remark)
    if {"MRR", "MRR@10"} <= set(metrics):
        note = f"{note}; {MRR_CHOICE}"
    values = pd.DataFrame(columns)
    order = sorted(values.columns, key=lambda column: (list(by_dataset).index(column[0]),
                                                       _metric_position(column[1], metrics)))
    values = values[order].reindex(list(methods))
    values.columns = pd.MultiIndex.from_tuples(values.columns, names=["dataset", "metric"])
    return PaperTable(values, marks, conventions, note, baseline, tuple(warnings))


def _metric_position(label: str, metrics: Sequence[str]) -> tuple[int, str]:
    # "MRR rel>=2" sits with MRR, after "MRR rel>=1"
    return list(metrics).index(label.split(" rel>=")[0]), label


def format_paper_table(table: PaperTable, fmt: str = "markdown", digits: int = 3) -> str:
    """Markdown, LaTeX or CSV; the best value of each column in bold, significance marks beside values."""
    values = table.values
    if fmt == "csv":
        return values.round(digits + 3).to_csv()
    best = values.max()
    bold = (lambda s: f"**{s}**") if fmt == "markdown" else (lambda s: f"\\textbf{{{s}}}")
    rows = []
    for method in values.index:
        cells = []
        for dataset, metric in values.columns:
            value = values.loc[method, (dataset, metric)]
            if pd.isna(value):
                cells.append("–")
                continue
            text = f"{value:.{digits}f}"
            text = bold(text) if value == best[(dataset, metric)] else text
            mark = table.marks.get((method, dataset, metric), "")
            cells.append(text + (mark if fmt == "markdown" or not mark else f"$^{{{mark}}}$"))
        rows.append((method, cells))
    notes = [*table.conventions.values(), *filter(None, [table.mrr_note])]
    if table.baseline:
        notes.append(f"{BETTER}/{WORSE}: significantly better/worse than {table.baseline} (paired t-test, "
                     "Holm-corrected, p < 0.05)")
    headers = [f"{dataset} {metric}" for dataset, metric in values.columns]
    if fmt == "markdown":
        lines = ["| method | " + " | ".join(headers) + " |", "| --- | " + " | ".join("---:" for _ in headers) + " |"]
        lines += ["| " + " | ".join([method, *cells]) + " |" for method, cells in rows]
        return "\n".join([*lines, "", *notes])
    if fmt != "latex":
        raise InputError(f"unknown table format {fmt!r}; choose markdown, latex or csv")
    datasets = list(dict.fromkeys(values.columns.get_level_values(0)))
    spans = " & ".join(f"\\multicolumn{{{sum(1 for d, _ in values.columns if d == ds)}}}{{c}}{{{ds}}}"
                       for ds in datasets)
    lines = ["\\begin{tabular}{l" + "r" * len(headers) + "}", "\\toprule", f"Method & {spans} \\\\",
             " & ".join(["", *values.columns.get_level_values(1)]) + " \\\\", "\\midrule"]
    lines += [" & ".join([method, *cells]) + " \\\\" for method, cells in rows]
    return "\n".join([*lines, "\\bottomrule", "\\end{tabular}", *(f"% {note}" for note in notes)])
