"""Score a condition's run with its own eval command and compare with the expected numbers."""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError
from disco_pyserini.reproduce.catalogue import Condition, Expected
from disco_pyserini.reproduce.steps import parse_command


class Verdict(NamedTuple):
    """Measured scores, and per expected metric ``OK`` or ``off by +0.012``; ``ok`` is False if any is off."""

    scores: dict[str, float]
    checks: dict[str, str]
    ok: bool


def score(condition: Condition) -> dict[str, float]:
    """The condition's run scored as its eval command says (its qrels, convention, relevance level and
    metrics, read by the eval CLI's own parser), through the same evaluation code."""
    from disco_pyserini.eval.metrics import evaluate

    args = parse_command(condition.eval_command)
    if len(args.run) != 1 or not args.qrels or len(args.qrels) != 1 or len(args.rel or []) > 1:
        raise InputError(f"{condition.name}: the eval command must name one run, one qrels and at most one --rel: "
                         f"{condition.eval_command}")
    if not Path(args.run[0]).is_file():
        raise InputError(f"{condition.name}: no run yet at {args.run[0]}; run the condition first "
                         f"(--condition {condition.name})")
    result = evaluate({condition.name: args.run[0]}, args.qrels[0], args.metrics, rel=args.rel[0] if args.rel else None,
                      dataset=args.dataset, duplicates=args.duplicates[0] if args.duplicates else None)
    row = result.summary.loc[condition.name]
    return {metric: float(row[metric]) for metric in result.summary.columns}


def compare(scores: dict[str, float], expected: Expected, digits: int = 3) -> Verdict:
    """Each expected metric checked: within the tolerance is ``OK``, else ``off by`` the signed difference."""
    checks = {}
    for metric, value in expected.scores.items():
        if metric not in scores:
            checks[metric] = "not measured"
            continue
        delta = scores[metric] - value
        # 1e-9: a difference of exactly the tolerance (0.531 vs 0.536) is within it despite float rounding.
        checks[metric] = "OK" if abs(delta) <= expected.tolerance + 1e-9 else f"off by {delta:+.{digits}f}"
    return Verdict(scores, checks, all(check == "OK" for check in checks.values()))


def results_path(work: str, condition: Condition) -> Path:
    return Path(work) / "results" / f"{condition.name}.json"


def save(work: str, condition: Condition, verdict: Verdict) -> None:
    with atomic_write(results_path(work, condition)) as handle:
        json.dump({"condition": condition.name, "run": condition.run, "scores": verdict.scores,
                   "checks": verdict.checks, "ok": verdict.ok}, handle, indent=1)


def load(work: str, condition: Condition) -> Verdict | None:
    """The verdict saved by the last run or ``--only-eval`` of ``condition``, if any."""
    path = results_path(work, condition)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return compare(data["scores"], condition.expected)
