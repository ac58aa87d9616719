"""Integer impacts for Lucene: the one quantisation convention shared by documents and queries.

Anserini impact indexes store integer term weights and score a document by the sum of
``q_int * d_int`` over shared terms, so float SPLADE weights must be made integers *explicitly*:
``int(round(w * factor))`` (round half to even, as Python's ``round``), dropping terms that round
to zero. The default factor, 100, is the common convention for SPLADE document impacts; queries use
the same factor so scores are ``factor**2`` times the float dot product. Pyserini's own SPLADE
encoders use ``w / 5 * 256``, i.e. ``factor = 51.2``.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from disco_pyserini.errors import InputError

DEFAULT_FACTOR = 100.0
PYSERINI_SPLADE_FACTOR = 256 / 5


def quantize_arrays(weights: np.ndarray, factor: float = DEFAULT_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """Quantise a float weight array; returns ``(keep_mask, int_weights[keep_mask])``."""
    # float64 so the product is the one Python's round(w * factor) would see
    ints = np.rint(np.asarray(weights, dtype=np.float64) * factor).astype(np.int64)
    keep = ints > 0
    return keep, ints[keep]


def quantize(vector: Mapping[str, float], factor: float = DEFAULT_FACTOR) -> dict[str, int]:
    """Quantise a ``{term: float}`` vector to ``{term: int}``, dropping zero weights."""
    out = {}
    for term, weight in vector.items():
        value = int(round(float(weight) * factor))
        if value > 0:
            out[term] = value
    return out


MAX_IMPACT = 2**31 - 1
"""Lucene stores impacts as Java ints: a larger weight would wrap around to a negative one."""


def check_integer_vector(vector: Mapping[str, object], where: str = "vector") -> dict[str, int]:
    """Validate a pre-quantised vector: every weight a non-negative integer below 2^31 (ints or integral floats),
    every term one non-empty token (Anserini splits pretokenized terms on whitespace)."""
    out = {}
    for term, weight in vector.items():
        if not isinstance(term, str) or not term or len(term.split()) != 1 or term != term.strip():
            raise InputError(f"{where}: term {term!r} is empty or contains whitespace; Anserini would split it into "
                             "other terms")
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer, np.floating)):
            raise InputError(f"{where}: weight of {term!r} is {weight!r}, not a number")
        if float(weight) != int(weight):
            raise InputError(
                f"{where}: weight of {term!r} is {weight!r}, not an integer; Lucene would truncate it. "
                "Quantise first (disco_pyserini.quantize.quantize(vector, factor))")
        if weight < 0:
            raise InputError(f"{where}: weight of {term!r} is negative ({weight}); impacts must be >= 0")
        if weight > MAX_IMPACT:
            raise InputError(f"{where}: weight of {term!r} is {int(weight)}, over Lucene's {MAX_IMPACT}; quantise "
                             "with a smaller factor")
        if weight:
            out[term] = int(weight)
    return out
