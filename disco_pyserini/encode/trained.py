"""What a trained DiSCo student records beside its weights, read back at inference time."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from disco_pyserini.errors import InputError

TRAINING_CONFIG = "disco_training.json"
"""Written next to a trained student: its training config (``query_topk`` is needed again at inference)."""


def training_config(model_name_or_path: str | os.PathLike) -> dict[str, Any]:
    """The training config saved beside a local student (``{}`` for hub names and untrained checkpoints)."""
    path = Path(model_name_or_path) / TRAINING_CONFIG
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise InputError("unreadable training config; fix its JSON or delete it", path) from None
    if not isinstance(config, dict):
        raise InputError("a training config must be a JSON object; fix it or delete it", path)
    return config


def trained_top_k(model_name_or_path: str | os.PathLike) -> int | None:
    """The ``query_topk`` a local student was trained with (``None``: no pruning, or not a local student)."""
    return training_config(model_name_or_path).get("query_topk")
