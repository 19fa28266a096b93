"""Bi-encoder losses, one small module each, in one table (`BI_LOSSES`) that training, `fit` and the CLI read.

Each takes the embeddings of the batch's text columns, `[(batch, dim), ...]`, and the batch's labels, and returns the
mean loss over the batch; each also scores a (u, v) pair at evaluation time (`score`). They follow
sentence-transformers' losses of the same names, so training with either library optimises the same objective.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CosineSimilarityLoss(nn.Module):
    """Squared error between cos(u, v) and a 0..1 gold score (SBERT's STS regression objective).

    Example:
        >>> CosineSimilarityLoss()([torch.eye(2), torch.eye(2)], torch.ones(2))
        tensor(0.)
    """

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self.score(*embeddings[:2]), labels.float().view(-1))

    def score(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of each row pair: (batch,)."""
        return F.cosine_similarity(u.float(), v.float(), dim=-1)


class SoftmaxLoss(nn.Module):
    """Cross-entropy of a linear classifier over (u, v, |u - v|) (SBERT's NLI objective, Reimers & Gurevych 2019).

    The classifier is trained with the encoder and used only for the class predictions during training; the saved
    bi-encoder keeps the encoder alone, as sentence-transformers does.
    """

    def __init__(self, dim: int, num_labels: int):
        super().__init__()
        self.classifier = nn.Linear(3 * dim, num_labels)

    def forward(self, embeddings: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.score(*embeddings[:2]), labels.long().view(-1))

    def score(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Class logits: (batch, num_labels)."""
        features = torch.cat([u, v, (u - v).abs()], dim=-1)
        return self.classifier(features.to(self.classifier.weight.dtype))


class MultipleNegativesRankingLoss(nn.Module):
    """In-batch negatives (Henderson et al. 2017): each anchor's positive against every other text of the batch.

    Columns are (anchor, positive, hard negative, ...). Row i's scores are `scale` x cosine with all positives and
    negatives of the batch; the loss is cross-entropy with the target i. With `group_ids` (e.g. the question of a
    TrecQA row), another row's positive of the same group is not counted as a negative of row i.
    """

    def __init__(self, scale: float = 20.0):
        super().__init__()
        self.scale = scale

    def forward(
        self, embeddings: list[torch.Tensor], labels: torch.Tensor | None = None, group_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        anchors = F.normalize(embeddings[0].float(), dim=-1)
        candidates = F.normalize(torch.cat(embeddings[1:]).float(), dim=-1)  # (batch * (columns - 1), dim)
        scores = self.scale * anchors @ candidates.T  # (batch, batch * (columns - 1))
        if group_ids is not None:
            n = len(anchors)
            same = (group_ids.view(-1, 1) == group_ids.view(1, -1)) & ~torch.eye(
                n, dtype=torch.bool, device=scores.device
            )
            scores[:, :n] = scores[:, :n].masked_fill(same, -torch.inf)  # other positives of the same query
        return F.cross_entropy(scores, torch.arange(len(anchors), device=scores.device))

    def score(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of each row pair: (batch,)."""
        return F.cosine_similarity(u.float(), v.float(), dim=-1)


BI_LOSSES = {"cosine": CosineSimilarityLoss, "softmax": SoftmaxLoss, "mnrl": MultipleNegativesRankingLoss}
DEFAULT_BI_LOSS = {"sts": "cosine", "nli": "softmax", "classification": "softmax", "rerank": "mnrl"}


def check_bi_loss(name: str | None, task: str) -> str:
    """`name`, or the task's default loss when None; a ValueError naming the fix when it does not fit the task."""
    if task not in DEFAULT_BI_LOSS:
        raise ValueError(f"Unknown task {task!r}; use one of {list(DEFAULT_BI_LOSS)}.")
    name = name or DEFAULT_BI_LOSS[task]
    if name not in BI_LOSSES:
        raise ValueError(f"Unknown bi-encoder loss {name!r}; use one of {list(BI_LOSSES)}.")
    if name != DEFAULT_BI_LOSS[task]:  # each loss fits the tasks it is the default of
        raise ValueError(f"Bi-encoder loss {name!r} does not fit task {task!r}; use {DEFAULT_BI_LOSS[task]!r}.")
    return name


def make_bi_loss(name: str | nn.Module | None, task: str, dim: int, num_labels: int | None = None) -> nn.Module:
    """The loss `name` (default: the task's, `DEFAULT_BI_LOSS`) for embeddings of width `dim`; a loss module is
    checked against the task and used as it is (e.g. `MultipleNegativesRankingLoss(scale=50)`).

    Example:
        >>> make_bi_loss(None, "sts", 384)
        CosineSimilarityLoss()
    """
    if isinstance(name, nn.Module):
        check_bi_loss({cls: key for key, cls in BI_LOSSES.items()}.get(type(name), type(name).__name__), task)
        return name
    name = check_bi_loss(name, task)
    if name == "softmax":
        if not num_labels or num_labels < 2:
            raise ValueError(f"The softmax loss needs num_labels >= 2 classes, got {num_labels}.")
        return SoftmaxLoss(dim, num_labels)
    return BI_LOSSES[name]()
