"""trec_eval-exact evaluation (ir_measures), dataset conventions, significance tests and tables.

``python -m disco_pyserini.eval --help`` stays fast: this package imports pandas/ir_measures only
when its functions are used.
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "evaluate": "disco_pyserini.eval.metrics", "EvalResult": "disco_pyserini.eval.metrics",
    "DEFAULT_METRICS": "disco_pyserini.eval.metrics", "format_table": "disco_pyserini.eval.tables",
    "paired_tests": "disco_pyserini.eval.significance", "read_qrels": "disco_pyserini.eval.qrels",
    "DATASETS": "disco_pyserini.eval.qrels", "read_run": "disco_pyserini.eval.runs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'disco_pyserini.eval' has no attribute {name!r}")


__all__ = sorted(_LAZY)
