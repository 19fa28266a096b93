"""`CrossEncoderTrainer`: the one place where cross-encoder training differs from plain `Trainer`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import Trainer

from .metrics import metrics_for_task
from .tasks import DISTILLATION_LOSSES, GROUP_LOSSES, TASKS, check_loss, get_task

LOSSES = {name: task.losses for name, task in TASKS.items()}  # task -> losses it trains with (from TASKS)


def pair_loss(loss: str, label_smoothing: float = 0.0):
    """Loss `f(outputs, labels, num_items_in_batch)` for Trainer's `compute_loss_func`.

    Sums over the batch and divides by `num_items_in_batch` (the pairs in the whole accumulated batch, across
    processes) when Trainer passes it, so 8x1 and 4x2 gradient accumulation give the same update; else the mean.
    `bce`: BCE-with-logits on 0..1 labels; `mse`: squared error of sigmoid(logit), so scores stay in 0..1 as
    `predict` returns them; `ce`: cross-entropy over class logits; `listwise`: softmax cross-entropy over each
    group's scores (logits of (groups x pairs_per_group) rows from `RerankCollator`, labels = index of the positive),
    so `num_items_in_batch` counts groups; `ranknet`: pairwise logistic loss of the positive against each negative
    of its group, averaged per group; `lambda`: the same pairs weighted by how much NDCG swapping them would change
    in the current ranking (LambdaRank / LambdaLoss style: mistakes near the top cost more); `margin_mse`
    (distillation, Hofstaetter et al. 2020): squared error between the student's and the teacher's margins
    s_pos - s_neg; `kl`: KL divergence from the teacher's softmax over the group to the student's; for these two
    `labels` are the teacher's logits, (groups, pairs_per_group), positive first. `label_smoothing`
    (`TrainingArguments.label_smoothing_factor`, which Trainer itself skips when a loss function is given) applies to
    `ce` and `listwise`.
    """

    def compute(outputs, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]  # (batch, num_labels)
        if loss == "bce":
            total = F.binary_cross_entropy_with_logits(logits.view(-1), labels.float().view(-1), reduction="sum")
        elif loss == "mse":
            total = F.mse_loss(torch.sigmoid(logits.view(-1)), labels.float().view(-1), reduction="sum")
        elif loss == "listwise":
            groups = logits.view(labels.shape[0], -1)  # (groups, 1 + negatives)
            total = F.cross_entropy(groups, labels.long().view(-1), reduction="sum", label_smoothing=label_smoothing)
        elif loss in DISTILLATION_LOSSES:
            groups = logits.view(labels.shape[0], -1)  # (groups, 1 + negatives), positive first
            teacher = labels.to(groups.dtype).view_as(groups)
            if loss == "margin_mse":
                margins = (groups[:, :1] - groups[:, 1:]) - (teacher[:, :1] - teacher[:, 1:])
                total = margins.pow(2).mean(1).sum()
            else:
                kl = F.kl_div(F.log_softmax(groups, 1), F.log_softmax(teacher, 1), reduction="none", log_target=True)
                total = kl.sum(1).sum()
        elif loss in ("ranknet", "lambda"):
            total = pairwise_loss(logits.view(labels.shape[0], -1), labels.long().view(-1, 1), loss == "lambda")
        else:
            total = F.cross_entropy(logits, labels.long().view(-1), reduction="sum", label_smoothing=label_smoothing)
        return total / (num_items_in_batch if num_items_in_batch is not None else labels.shape[0])

    if loss not in ("bce", "mse", "ce", *GROUP_LOSSES):
        raise ValueError(
            f"Unknown loss {loss!r}; use 'bce' or 'mse' for 0..1 scores, 'ce' for classes, "
            f"one of {GROUP_LOSSES} for rerank groups."
        )
    if label_smoothing and loss in ("bce", "mse"):
        raise ValueError(
            f"label_smoothing_factor={label_smoothing} applies to class losses ('ce', 'listwise'), not {loss!r}: "
            "0..1 score labels are already soft. Set --label_smoothing_factor 0."
        )
    return compute


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


class CrossEncoderTrainer(Trainer):
    """`Trainer` for pair scoring: picks the loss and metrics from `task` and selects the best checkpoint by them.

    Args:
        task: `sts` (one output, 0..1 labels), `nli` (3 classes, `LABEL2ID`), `classification` (N classes) or
            `rerank` (one relevance output). For `rerank`, evaluation data are flat candidate rows with `labels`
            (grades) and `qid`: each query's candidates are ranked and MAP, MRR@10 and NDCG@10 computed
            (`rerank_metrics`), gathered over all processes, so `load_best_model_at_end` picks by a ranking metric.
        loss: `bce` (default for `sts` and `rerank`) or `mse`; `ce` for classes; `listwise`, `ranknet` or `lambda`
            for `rerank` groups (`tokenize_groups` + `RerankCollator`).
        **kwargs: everything `Trainer` takes (`model`, `args`, `train_dataset`, `eval_dataset`, `data_collator`...).

    Example:
        >>> trainer = CrossEncoderTrainer(model, args, train_dataset=train, eval_dataset=dev, task="sts")
        >>> trainer.train()  # doctest: +SKIP
    """

    def __init__(self, *args, task: str = "sts", loss: str | None = None, **kwargs):
        loss = check_loss(task, loss)
        kwargs.setdefault("compute_metrics", metrics_for_task(task))
        super().__init__(*args, compute_loss_func=pair_loss(loss), **kwargs)
        if task == "rerank" and self.args.label_names is None:
            self.label_names = ["labels", "qid"]  # eval predictions come back with their query ids, in order
        self.compute_loss_func = pair_loss(loss, self.args.label_smoothing_factor)  # Trainer skips it beside a loss
        self.task, self.loss_name = task, loss
        self._check_heads()
        if self.args.metric_for_best_model in (None, "loss") and self.args.load_best_model_at_end:
            self.args.metric_for_best_model = get_task(task).best_metric
            self.args.greater_is_better = True

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """As `Trainer.compute_loss`; flat rerank rows (with `qid`) get pointwise BCE on relevance > 0, so a model
        trained on groups still has an evaluation loss, and the model never sees `qid`."""
        if "qid" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        features = {k: v for k, v in inputs.items() if k not in ("qid", "labels")}
        outputs = model(**features)
        loss = pair_loss("bce")(outputs, (inputs["labels"] > 0).float(), num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """As `Trainer.prediction_step`, but in fp32 when training runs under mixed precision: saved models load in
        fp32, so the checkpoint `load_best_model_at_end` keeps is chosen at the precision it is served in (a bf16
        evaluation of a saturated head ties scores and moves ranking metrics)."""
        inner = self.accelerator.unwrap_model(model)
        fp32_forward = inner.__dict__.get("_original_forward")  # set by accelerate when it wraps forward in autocast
        if fp32_forward is None:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        mixed_forward, inner.forward = inner.forward, fp32_forward
        try:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        finally:
            inner.forward = mixed_forward

    def _check_heads(self) -> None:
        num_labels = getattr(getattr(self.model, "config", None), "num_labels", None)
        want = get_task(self.task).num_labels
        if want is not None and num_labels != want:
            raise ValueError(
                f"Task {self.task!r} needs a model with num_labels={want}, but it has {num_labels}. Load it with "
                f"AutoModelForSequenceClassification.from_pretrained(path, num_labels={want}) before training."
            )
        train = getattr(self.train_dataset, "dataset", self.train_dataset)  # under a LengthBatchedDataset
        labels = train["labels"] if train is not None and want is None else None
        if labels is not None and num_labels is not None and len(labels) and max(labels) >= num_labels:
            raise ValueError(
                f"The training data has class id {max(labels)} but the model has num_labels={num_labels}. "
                f"Load the model with num_labels={max(labels) + 1} (and the matching label2id)."
            )
