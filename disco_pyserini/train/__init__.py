"""DiSCo student training: distillation data, losses, regularisers and the HF ``Trainer`` loop.

Attributes are imported on first use, so ``python -m disco_pyserini.train --help`` does not load torch.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {"BuildStats": "build", "DistillCollator": "data", "DistillDataset": "data", "TrainConfig": "config",
         "load_config": "config", "train": "trainer"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
