"""Sparsity of SPLADE vectors: average non-zero terms and the FLOPS estimate of retrieval cost.

FLOPS (as in the SPLADE papers) is the expected number of multiplications for one (query, document)
pair: ``sum_j p_q(j) * p_d(j)``, where ``p(j)`` is the fraction of encoded queries (documents)
with a non-zero weight on vocabulary term ``j``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.encode.pooling import prune_topk


@dataclass(frozen=True)
class SparsityStats:
    """Average non-zero terms per query and per document, and the FLOPS estimate."""

    queries: int
    documents: int
    query_terms: float
    doc_terms: float
    flops: float


def activation(encoder: SpladeEncoder, texts: Sequence[str], topk: int | None = None) -> tuple[torch.Tensor, float]:
    """Per-term fraction of ``texts`` with a non-zero weight, and average non-zero terms (vectors pruned to
    ``topk``); streamed batch by batch. Compute the document side once and reuse it across query settings."""
    counts = torch.zeros(len(encoder.terms), dtype=torch.float64)
    terms = 0
    for start in range(0, len(texts), encoder.batch_size):
        active = prune_topk(encoder.pooled(texts[start:start + encoder.batch_size]).float(), topk).cpu() > 0
        counts += active.sum(dim=0)
        terms += int(active.sum())
    return counts / max(len(texts), 1), terms / max(len(texts), 1)


def sparsity(query_encoder: SpladeEncoder, doc_encoder: SpladeEncoder, queries: Sequence[str],
             documents: Sequence[str], query_topk: int | None = None) -> SparsityStats:
    """Encode ``queries`` and ``documents`` and report their sparsity (queries pruned to ``query_topk``)."""
    p_q, q_terms = activation(query_encoder, list(queries), query_topk)
    p_d, d_terms = activation(doc_encoder, list(documents))
    return encoded_sparsity(p_q, p_d, q_terms, d_terms, len(queries), len(documents))


def encoded_sparsity(p_q: torch.Tensor, p_d: torch.Tensor, query_terms: float, doc_terms: float,
                     queries: int, documents: int) -> SparsityStats:
    """Stats from per-term activation probabilities (vocabularies must have the same size)."""
    if p_q.shape != p_d.shape:
        raise ValueError(f"query and document vocabularies differ ({p_q.shape[0]} vs {p_d.shape[0]} terms)")
    return SparsityStats(queries, documents, query_terms, doc_terms, float((p_q * p_d).sum()))
