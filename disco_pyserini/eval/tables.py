"""Result tables as Markdown, LaTeX or CSV: best value per column highlighted, significance marked."""
from __future__ import annotations

import pandas as pd

from disco_pyserini.errors import InputError
from disco_pyserini.eval.metrics import EvalResult
from disco_pyserini.eval.significance import paired_tests

FORMATS = ("markdown", "latex", "csv")
BETTER, WORSE = "†", "‡"


def _marks(result: EvalResult, baseline: str | None, alpha: float) -> dict[tuple[str, str], str]:
    if baseline is None:
        return {}
    tests = paired_tests(result.per_query, baseline, alpha)
    return {(row.run, row.metric): (BETTER if row.delta > 0 else WORSE)
            for row in tests.itertuples() if row.significant}


def default_baseline(result: EvalResult) -> str | None:
    """The first run, when there is more than one to compare with it."""
    return result.summary.index[0] if len(result.summary) > 1 else None


def format_table(result: EvalResult, fmt: str = "markdown", baseline: str | None = None, digits: int = 3,
                 alpha: float = 0.05) -> str:
    """The summary table; ``baseline`` (default: the first of several runs) is tested against every other run."""
    if fmt not in FORMATS:
        raise InputError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    summary = result.summary
    baseline = default_baseline(result) if baseline is None else baseline
    if baseline is not None and baseline not in summary.index:
        raise InputError(f"baseline {baseline!r} is not one of the runs: {', '.join(summary.index)}")
    marks = _marks(result, baseline, alpha)
    if fmt == "csv":
        out = summary.round(digits + 3)
        for (run, metric), mark in marks.items():
            out.loc[run, f"{metric} sig"] = mark
        return out.to_csv()
    best = summary.max()
    bold = (lambda s: f"**{s}**") if fmt == "markdown" else (lambda s: f"\\textbf{{{s}}}")
    cells = pd.DataFrame(index=summary.index, columns=summary.columns, dtype=object)
    for run in summary.index:
        for metric in summary.columns:
            value = summary.loc[run, metric]
            text = f"{value:.{digits}f}"
            text = bold(text) if len(summary) > 1 and value == best[metric] else text
            mark = marks.get((run, metric), "")
            cells.loc[run, metric] = text + (mark if fmt == "markdown" else (f"$^{{{mark}}}$" if mark else ""))
    notes = [result.convention, *filter(None, [result.mrr_note])]
    if baseline is not None:
        notes.append(f"{BETTER}/{WORSE}: significantly better/worse than {baseline} "
                     f"(paired t-test, Holm-corrected, p < {alpha})")
    if fmt == "markdown":
        header = "| run | " + " | ".join(summary.columns) + " |"
        rule = "| --- | " + " | ".join("---:" for _ in summary.columns) + " |"
        body = ["| " + " | ".join([run, *cells.loc[run]]) + " |" for run in summary.index]
        return "\n".join([header, rule, *body, "", *notes])
    latex = ["\\begin{tabular}{l" + "r" * len(summary.columns) + "}", "\\toprule",
             " & ".join(["Run", *summary.columns]) + " \\\\", "\\midrule"]
    latex += [" & ".join([run.replace("_", "\\_"), *cells.loc[run]]) + " \\\\" for run in summary.index]
    latex += ["\\bottomrule", "\\end{tabular}", *(f"% {note}" for note in notes)]
    return "\n".join(latex)
