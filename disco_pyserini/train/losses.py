"""Distillation and ranking losses over per-example document lists.

Every loss takes ``student`` and ``teacher`` scores ``[batch, docs]`` (column 0 is the positive
passage) and a boolean ``mask`` of real (non-padding) documents, and returns a scalar.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

# Padding documents get this score: softmax gives them ~0 mass without the NaNs -inf would cause in KL.
PAD_SCORE = -1e4

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _masked(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return scores.masked_fill(~mask, PAD_SCORE)


def kl(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``KL(softmax(teacher) || softmax(student))`` over each example's documents (temperature 1),
    summed over documents and averaged over the batch: DiSCo's score distillation."""
    log_student = F.log_softmax(_masked(student, mask), dim=-1)
    log_teacher = F.log_softmax(_masked(teacher, mask), dim=-1)
    return F.kl_div(log_student, log_teacher, log_target=True, reduction="batchmean")


def margin_mse(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Margin-MSE: squared error between student and teacher margins ``s(d+) - s(d-)``, mean over real negatives."""
    student_margin = student[:, :1] - student[:, 1:]
    teacher_margin = teacher[:, :1] - teacher[:, 1:]
    weights = mask[:, 1:].float()
    return ((student_margin - teacher_margin).pow(2) * weights).sum() / weights.sum().clamp(min=1)


LOSSES: dict[str, Loss] = {"kl": kl, "margin_mse": margin_mse}
"""Teacher-score losses by config name; ``contrastive`` and ``anti_zero`` need the vectors and are in the trainer."""


def contrastive(queries: torch.Tensor, docs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each query's positive against every document in the batch (in-batch negatives).

    ``queries`` is ``[batch, vocab]``, ``docs`` ``[batch, docs, vocab]`` with positives in column 0.
    """
    batch, per_example, _ = docs.shape
    scores = queries @ docs.reshape(batch * per_example, -1).T
    scores = scores.masked_fill(~mask.reshape(1, -1), PAD_SCORE)
    targets = torch.arange(batch, device=queries.device) * per_example
    return F.cross_entropy(scores, targets)


def anti_zero(queries: torch.Tensor, docs: torch.Tensor) -> torch.Tensor:
    """``1/(sum q)^2 + 1/(sum d)^2`` over the batch: grows as vectors collapse towards all-zero."""
    return 1.0 / queries.sum().clamp(min=1e-6).pow(2) + 1.0 / docs.sum().clamp(min=1e-6).pow(2)
