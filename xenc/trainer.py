"""`CrossEncoderTrainer`: the one place where cross-encoder training differs from plain `Trainer`."""

from __future__ import annotations

from transformers import Trainer

from .losses import pair_loss
from .metrics import metrics_for_task
from .tasks import check_loss, get_task

__all__ = ["CrossEncoderTrainer", "pair_loss"]


class CrossEncoderTrainer(Trainer):
    """`Trainer` for pair scoring: picks the loss and metrics from `task` and selects the best checkpoint by them.

    Args:
        task: `sts` (one output, 0..1 labels), `nli` (3 classes, `LABEL2ID`), `classification` (N classes) or
            `rerank` (one relevance output). For `rerank`, evaluation data are flat candidate rows with `labels`
            (grades) and `qid`: each query's candidates are ranked and MAP, MRR@10 and NDCG@10 computed
            (`rerank_metrics`), gathered over all processes, so `load_best_model_at_end` picks by a ranking metric.
        loss: a name of `xenc.losses.CROSS_LOSSES` that trains `task` (default: the task's first,
            `xenc.tasks.TASKS`); the grouped ones (`GROUP_LOSSES`) read `rerank` groups (`tokenize_groups` +
            `RerankCollator`).
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
