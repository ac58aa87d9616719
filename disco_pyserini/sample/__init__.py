"""The bundled sample world (corpus, training and held-out conversations, qrels) and a tiny locally built
lexical SPLADE model; :mod:`disco_pyserini.sample.build_data` says how the world is made.

Paths are plain :class:`~pathlib.Path` objects; ``build_tiny_splade`` loads torch/transformers
only when first used, so importing the paths stays cheap.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS = DATA_DIR / "corpus.jsonl"
CONVERSATIONS = DATA_DIR / "conversations.jsonl"
QRELS = DATA_DIR / "qrels.txt"
TRAIN_CONVERSATIONS = DATA_DIR / "train.jsonl"
TRAIN_QRELS = DATA_DIR / "train.qrels.txt"

if TYPE_CHECKING:  # pragma: no cover
    from disco_pyserini.sample.tiny_model import build_tiny_splade


def __getattr__(name: str) -> Any:
    if name == "build_tiny_splade":
        from disco_pyserini.sample.tiny_model import build_tiny_splade

        return build_tiny_splade
    raise AttributeError(f"module 'disco_pyserini.sample' has no attribute {name!r}")


__all__ = ["CONVERSATIONS", "CORPUS", "DATA_DIR", "QRELS", "TRAIN_CONVERSATIONS", "TRAIN_QRELS", "build_tiny_splade"]
