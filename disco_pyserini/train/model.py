"""Differentiable SPLADE pooling and the sparsity regularisers used in training."""
from __future__ import annotations

import torch

from disco_pyserini.encode.pooling import splade_max_pool


def splade_pool(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """``[batch, vocab]`` SPLADE weights ``max_i log(1 + relu(logit_ij))`` over non-padding tokens, with gradient.

    The same computation as :meth:`disco_pyserini.encode.splade.SpladeEncoder.pooled`
    (:func:`disco_pyserini.encode.pooling.splade_max_pool`), whose backward is sparse: the max sends each term's
    gradient to one token.
    """
    return splade_max_pool(model, input_ids, attention_mask)


def flops(vectors: torch.Tensor) -> torch.Tensor:
    """FLOPS regulariser (Paria et al.): ``sum_j (mean_i w_ij)^2``, a smooth proxy of posting-list cost."""
    return vectors.mean(dim=0).pow(2).sum()


def l1(vectors: torch.Tensor) -> torch.Tensor:
    """L1 regulariser: mean over rows of ``sum_j |w_ij|``."""
    return vectors.abs().sum(dim=-1).mean()


REGULARISERS = {"flops": flops, "l1": l1}


def warmup_lambda(lam: float, step: int, warmup_steps: int) -> float:
    """Quadratic warm-up of a regulariser weight: ``min(lam, lam * (step / (T + 1))^2)``."""
    return min(lam, lam * (step / (warmup_steps + 1)) ** 2)


def nonzero_terms(vectors: torch.Tensor) -> float:
    """Average number of non-zero terms per row."""
    return float((vectors > 0).sum(dim=-1).float().mean())
