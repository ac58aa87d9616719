"""Distillation and ranking losses, as the authors' ``IRTrainer.compute_loss`` defines them.

Teacher-score losses take ``student`` and ``teacher`` scores ``[batch, docs]`` (column 0 is the
positive passage, then the negatives) and return a scalar.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
IN_BATCH = ("negatives", "all")


def kl(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """``KL(softmax(teacher) || softmax(student))`` over each example's documents (temperature 1),
    summed over documents and averaged over the batch: DiSCo's score distillation."""
    return F.kl_div(F.log_softmax(student, dim=-1), F.log_softmax(teacher, dim=-1), log_target=True,
                    reduction="batchmean")


def margin_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Margin-MSE over every ordered pair of an example's documents, ``(s_i - s_j) - (t_i - t_j)`` squared,
    averaged over all pairs and examples (the reference's ``mse_margin``, not only positive-vs-negative)."""
    student_margins = student.unsqueeze(1) - student.unsqueeze(2)
    teacher_margins = teacher.unsqueeze(1) - teacher.unsqueeze(2)
    return (student_margins - teacher_margins).pow(2).mean()


LOSSES: dict[str, Loss] = {"kl": kl, "margin_mse": margin_mse}
"""Teacher-score losses by config name; ``contrastive`` and ``anti_zero`` need the vectors and are in the trainer."""


def contrastive(queries: torch.Tensor, docs: torch.Tensor, in_batch: str = "negatives") -> torch.Tensor:
    """Cross-entropy of each query's own positive against in-batch documents.

    ``queries`` is ``[batch, vocab]``, ``docs`` ``[batch, docs, vocab]`` with positives in column 0.
    ``negatives`` (the reference): the positive against every negative of the batch, the example's own
    included; ``all``: against every document of the batch, other examples' positives too.
    """
    batch, per_example, _ = docs.shape
    if in_batch == "all":
        scores = queries @ docs.reshape(batch * per_example, -1).T
        return F.cross_entropy(scores, torch.arange(batch, device=queries.device) * per_example)
    positive = (queries * docs[:, 0]).sum(-1, keepdim=True)
    negatives = queries @ docs[:, 1:].reshape(batch * (per_example - 1), -1).T
    scores = torch.cat([positive, negatives], dim=1)
    return F.cross_entropy(scores, torch.zeros(batch, dtype=torch.long, device=queries.device))


def anti_zero(queries: torch.Tensor, docs: torch.Tensor) -> torch.Tensor:
    """``1/(sum q)^2 + 1/(sum d)^2`` over the batch: grows as vectors collapse towards all-zero."""
    return 1.0 / queries.sum().clamp(min=1e-6).pow(2) + 1.0 / docs.sum().clamp(min=1e-6).pow(2)
