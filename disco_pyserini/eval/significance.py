"""Paired significance tests between runs over the same judged queries."""
from __future__ import annotations

import pandas as pd


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone), in the input order."""
    order = sorted(range(len(p_values)), key=p_values.__getitem__)
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def paired_tests(per_query: pd.DataFrame, baseline: str, alpha: float = 0.05) -> pd.DataFrame:
    """Two-sided paired t-tests of every run against ``baseline``, per metric, Holm-corrected across the
    compared runs. Columns: run, metric, delta (mean difference), p_value, p_adjusted, significant."""
    from scipy.stats import ttest_rel

    table = per_query.pivot_table(index="query_id", columns=["metric", "run"], values="value", sort=False)
    rows = []
    for metric in per_query["metric"].unique():
        others = [run for run in per_query["run"].unique() if run != baseline]
        tests = []
        for run in others:
            a, b = table[(metric, run)], table[(metric, baseline)]
            p = float(ttest_rel(a, b).pvalue) if (a - b).abs().sum() > 0 else 1.0
            tests.append((run, float((a - b).mean()), p))
        for (run, delta, p), adjusted in zip(tests, holm([p for _, _, p in tests])):
            rows.append((run, metric, delta, p, adjusted, adjusted < alpha))
    return pd.DataFrame(rows, columns=["run", "metric", "delta", "p_value", "p_adjusted", "significant"])
