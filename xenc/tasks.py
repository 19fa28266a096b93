"""What each task is, in one table: head size, label names, losses (from `xenc.losses`), the metric the best model is
chosen by, and how a logit becomes a score. Config, trainer, metrics, `CrossEncoder`, training and the data readers
read it."""

from __future__ import annotations

from dataclasses import dataclass

from .losses import DISTILLATION_LOSSES, GROUP_LOSSES, losses_for

__all__ = ["DISTILLATION_LOSSES", "GROUP_LOSSES", "ID2LABEL", "LABEL2ID", "TASKS", "Task", "check_loss", "get_task"]

# Fixed for every NLI set in xenc (the order SNLI/MNLI use on the Hub). Training and inference must share it.
LABEL2ID = {"entailment": 0, "neutral": 1, "contradiction": 2}
ID2LABEL = {i: label for label, i in LABEL2ID.items()}


@dataclass(frozen=True)
class Task:
    """One task. `num_labels` None: the data decide (classification); `losses[0]` is the default loss."""

    num_labels: int | None
    losses: tuple[str, ...]
    best_metric: str  # Trainer selects the best checkpoint by `eval_<best_metric>`
    score: str  # "sigmoid" (one 0..1 score per pair) or "argmax" (class logits)
    label2id: dict[str, int] | None = None


TASKS: dict[str, Task] = {
    "sts": Task(1, losses_for("sts"), "spearman", "sigmoid"),
    "nli": Task(3, losses_for("nli"), "accuracy", "argmax", LABEL2ID),
    "classification": Task(None, losses_for("classification"), "accuracy", "argmax"),
    "rerank": Task(1, losses_for("rerank"), "map", "sigmoid"),
}


def get_task(name: str) -> Task:
    """The `Task` called `name`, or a ValueError listing the known ones."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; use one of {list(TASKS)}.")
    return TASKS[name]


def check_loss(task: str, loss: str | None) -> str:
    """`loss`, or the task's default when None; a ValueError when it does not fit the task."""
    losses = get_task(task).losses
    if loss is not None and loss not in losses:
        raise ValueError(f"loss={loss!r} does not fit task {task!r}; use one of {losses}.")
    return loss or losses[0]
