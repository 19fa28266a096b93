"""Cross-encoder losses, one class each, in one table (`CROSS_LOSSES`) that the tasks, the trainer and the CLI read.

A loss says which tasks it trains, whether it reads rerank groups (`RerankCollator`: logits of (groups x
pairs_per_group) rows) and whether its labels are a teacher's logits; `total(logits, labels)` is the loss summed
over the batch's items (pairs, or groups). Adding a loss is one class here, and its line in `CROSS_LOSSES`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class PairLoss:
    """A cross-encoder loss. `label_smoothing` applies where `smooths` is set (class losses)."""

    name = ""
    tasks: tuple[str, ...] = ()
    grouped = False  # trained on rerank groups: labels = index of the positive, or a teacher's logits
    distillation = False  # labels are a teacher's logits for every pair of the group, positive first
    smooths = False

    def __init__(self, label_smoothing: float = 0.0):
        if label_smoothing and not self.smooths:
            raise ValueError(
                f"label_smoothing_factor={label_smoothing} applies to class losses ('ce', 'listwise'), not "
                f"{self.name!r}: 0..1 score labels are already soft. Set --label_smoothing_factor 0."
            )
        self.label_smoothing = label_smoothing

    def total(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class BCE(PairLoss):
    """Binary cross-entropy with logits on 0..1 labels (scores or relevance), as sentence-transformers trains STS.

    Example: `xenc train --dataset stsb --loss bce`."""

    name, tasks = "bce", ("sts", "rerank")

    def total(self, logits, labels):
        return F.binary_cross_entropy_with_logits(logits.view(-1), labels.float().view(-1), reduction="sum")


class MSE(PairLoss):
    """Squared error of sigmoid(logit) against the 0..1 label: scores stay in 0..1 as `predict` returns them.

    Example: `xenc train --dataset stsb --loss mse`."""

    name, tasks = "mse", ("sts",)

    def total(self, logits, labels):
        return F.mse_loss(torch.sigmoid(logits.view(-1)), labels.float().view(-1), reduction="sum")


class CrossEntropy(PairLoss):
    """Cross-entropy over class logits (NLI, classification), with label smoothing.

    Example: `xenc train --dataset sick-e --loss ce --label_smoothing_factor 0.1`."""

    name, tasks, smooths = "ce", ("nli", "classification"), True

    def total(self, logits, labels):
        return F.cross_entropy(logits, labels.long().view(-1), reduction="sum", label_smoothing=self.label_smoothing)


class Listwise(PairLoss):
    """Softmax cross-entropy over each group's scores, the positive as the class (the peer's
    `MultipleNegativesRankingLoss` for cross-encoders).

    Example: `xenc train --dataset trecqa --loss listwise --num_negatives 7`."""

    name, tasks, grouped, smooths = "listwise", ("rerank",), True, True

    def total(self, logits, labels):
        groups = logits.view(labels.shape[0], -1)  # (groups, 1 + negatives)
        return F.cross_entropy(groups, labels.long().view(-1), reduction="sum", label_smoothing=self.label_smoothing)


class RankNet(PairLoss):
    """Pairwise logistic loss of the positive against each negative of its group, averaged per group (Burges et
    al. 2005). Example: `xenc train --dataset trecqa --loss ranknet`."""

    name, tasks, grouped = "ranknet", ("rerank",), True
    ndcg_weighted = False

    def total(self, logits, labels):
        return pairwise_loss(logits.view(labels.shape[0], -1), labels.long().view(-1, 1), self.ndcg_weighted)


class Lambda(RankNet):
    """RankNet's pairs weighted by how much NDCG swapping them would change in the current ranking (LambdaRank /
    LambdaLoss style: mistakes near the top cost more). Example: `xenc train --dataset trecqa --loss lambda`."""

    name, ndcg_weighted = "lambda", True


class MarginMSE(PairLoss):
    """Squared error between the student's and the teacher's margins s_pos - s_neg (Hofstaetter et al. 2020).

    Example: `xenc train --dataset trecqa --loss margin_mse --teacher runs/reproduce-trecqa-mpnet-sts/seed-42`."""

    name, tasks, grouped, distillation = "margin_mse", ("rerank",), True, True

    def total(self, logits, labels):
        groups, teacher = _groups_and_teacher(logits, labels)
        margins = (groups[:, :1] - groups[:, 1:]) - (teacher[:, :1] - teacher[:, 1:])
        return margins.pow(2).mean(1).sum()


class KLDivergence(PairLoss):
    """KL divergence from the teacher's softmax over the group to the student's.

    Example: `xenc train --dataset trecqa --loss kl --teacher runs/reproduce-trecqa-mpnet-sts/seed-42`."""

    name, tasks, grouped, distillation = "kl", ("rerank",), True, True

    def total(self, logits, labels):
        groups, teacher = _groups_and_teacher(logits, labels)
        kl = F.kl_div(F.log_softmax(groups, 1), F.log_softmax(teacher, 1), reduction="none", log_target=True)
        return kl.sum(1).sum()


def _groups_and_teacher(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    groups = logits.view(labels.shape[0], -1)  # (groups, 1 + negatives), positive first
    return groups, labels.to(groups.dtype).view_as(groups)


def pairwise_loss(groups: torch.Tensor, positive: torch.Tensor, ndcg_weighted: bool) -> torch.Tensor:
    """Sum over groups of the mean of log(1 + exp(s_neg - s_pos)) over each group's negatives.

    Args:
        groups: (groups, pairs_per_group) scores. positive: (groups, 1) index of the positive in its group.
        ndcg_weighted: weight each (positive, negative) pair by |1/log2(1 + rank_pos) - 1/log2(1 + rank_neg)|,
            the NDCG change of swapping the two in the current ranking (one relevant item: ideal DCG = 1).
    """
    negative = torch.ones_like(groups, dtype=torch.bool).scatter(1, positive, False)  # (groups, pairs)
    pairs = F.softplus(groups - groups.gather(1, positive)) * negative
    if ndcg_weighted:
        ranks = groups.detach().argsort(1, descending=True).argsort(1) + 1  # 1-based rank of each pair in its group
        gain = 1.0 / torch.log2(1.0 + ranks.to(groups.dtype))
        pairs = pairs * (gain.gather(1, positive) - gain).abs()
    return (pairs.sum(1) / negative.sum(1)).sum()


# the order gives each task its default: the first loss that trains it
CROSS_LOSSES: dict[str, type[PairLoss]] = {
    cls.name: cls for cls in (BCE, MSE, CrossEntropy, Listwise, RankNet, Lambda, MarginMSE, KLDivergence)
}
GROUP_LOSSES = tuple(name for name, cls in CROSS_LOSSES.items() if cls.grouped)
DISTILLATION_LOSSES = tuple(name for name, cls in CROSS_LOSSES.items() if cls.distillation)


def losses_for(task: str) -> tuple[str, ...]:
    """The losses that train `task`, its default first."""
    return tuple(name for name, cls in CROSS_LOSSES.items() if task in cls.tasks)


def pair_loss(loss: str, label_smoothing: float = 0.0):
    """Loss `f(outputs, labels, num_items_in_batch)` for Trainer's `compute_loss_func`.

    Sums over the batch and divides by `num_items_in_batch` (the items in the whole accumulated batch, across
    processes: pairs, or groups for grouped losses) when Trainer passes it, so 8x1 and 4x2 gradient accumulation give
    the same update; else the mean. `label_smoothing` is `TrainingArguments.label_smoothing_factor` (which Trainer
    itself skips when a loss function is given).
    """
    if loss not in CROSS_LOSSES:
        raise ValueError(
            f"Unknown loss {loss!r}; use 'bce' or 'mse' for 0..1 scores, 'ce' for classes, "
            f"one of {GROUP_LOSSES} for rerank groups."
        )
    chosen = CROSS_LOSSES[loss](label_smoothing)

    def compute(outputs, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]  # (batch, num_labels)
        total = chosen.total(logits, labels)
        return total / (num_items_in_batch if num_items_in_batch is not None else labels.shape[0])

    return compute
