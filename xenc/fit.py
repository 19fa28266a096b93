"""`CrossEncoder.fit` and `BiEncoder.fit`: the sentence-transformers training call, run by `CrossEncoderTrainer` /
`BiEncoderTrainer` underneath."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import torch
from datasets import Dataset
from torch import nn
from transformers import TrainerCallback, TrainingArguments

from .bi_losses import BI_LOSSES
from .bi_training import BiEncoderTrainer, TextsCollator, tokenize_texts
from .checks import check_labels, check_output_dir
from .data.pairs import pair_collator, tokenize_pairs
from .trainer import CrossEncoderTrainer

logger = logging.getLogger(__name__)
_SCHEDULERS = {
    "constantlr": "constant",
    "warmupconstant": "constant_with_warmup",
    "warmuplinear": "linear",
    "warmupcosine": "cosine",
    "warmupcosinewithhardrestarts": "cosine_with_restarts",
}
_LOSSES = {nn.BCEWithLogitsLoss: "bce", nn.MSELoss: "mse", nn.CrossEntropyLoss: "ce"}
FIT_RECORD = "fit_args.json"  # written beside every model `fit` saves: a later fit may replace that model


def _save(cross_encoder, output_path: str, record: dict) -> None:
    """Save the model to `output_path` (replacing only model and tokenizer files) and the fit's record beside it;
    the model card names the fit's settings and score."""
    hyper = {"learning_rate": record["optimizer_params"].get("lr"), "num_train_epochs": record["epochs"],
             "per_device_train_batch_size": record["batch_size"], "warmup_steps": record["warmup_steps"],
             "weight_decay": record["weight_decay"]}  # fmt: skip
    score = {"eval_" + record["evaluator"]: record["best_score"]} if "best_score" in record else {}
    data = f"{record['examples']} InputExample pairs (`CrossEncoder.fit`)"
    cross_encoder.training_record = {"config": {"model": record.get("base"), "train_split": data,
                                                "eval_split": "the evaluator's pairs"},
                                     "training_args": hyper, "metrics": score}  # fmt: skip
    cross_encoder.save_pretrained(output_path, overwrite=True)
    (Path(output_path) / FIT_RECORD).write_text(json.dumps(record, indent=2, default=str))


class _EvaluatorCallback(TrainerCallback):
    """Runs the evaluator every `evaluation_steps` and each epoch; saves the best model to `output_path`."""

    def __init__(self, cross_encoder, evaluator, evaluation_steps, output_path, save_best_model, callback, record):
        self.ce, self.evaluator, self.every = cross_encoder, evaluator, evaluation_steps
        self.output_path, self.save_best, self.callback, self.record = output_path, save_best_model, callback, record
        # evaluator CSVs go to output_path/eval, as in sentence-transformers' fit
        self.csv_path = None if output_path is None else str(Path(output_path) / "eval")
        self.best = -float("inf")

    def _evaluate(self, state) -> None:
        if self.csv_path is not None:
            Path(self.csv_path).mkdir(parents=True, exist_ok=True)
        metrics = self.evaluator(self.ce, output_path=self.csv_path, epoch=state.epoch, steps=state.global_step)
        score = metrics[self.evaluator.primary_metric]
        logger.info("epoch %.2f steps %d: %s", state.epoch, state.global_step, metrics)
        if self.callback is not None:
            self.callback(score, state.epoch, state.global_step)
        if score > self.best:
            self.best = score
            if self.save_best and self.output_path is not None:
                _save(self.ce, self.output_path, {**self.record, "best_step": state.global_step, "best_score": score})

    def on_step_end(self, args, state, control, **kwargs):
        if self.every > 0 and state.global_step % self.every == 0:
            self._evaluate(state)

    def on_epoch_end(self, args, state, control, **kwargs):
        self._evaluate(state)


def _examples_in_loader_order(loader) -> list:
    """The loader's examples in one pass of its own order (shuffled if it shuffles), as sentence-transformers' fit
    builds its training set: with the same seed both libraries then train on the same order."""
    collate = loader.collate_fn
    loader.collate_fn = list  # raw InputExamples, not the default collation (restored below)
    try:
        examples = [example for batch in loader for example in batch]
    finally:
        loader.collate_fn = collate
    for i, example in enumerate(examples):
        if not (hasattr(example, "texts") and hasattr(example, "label")):
            raise TypeError(
                f"train_dataloader item {i} is a {type(example).__name__} ({example!r:.60}); fit "
                "takes InputExample(texts=[a, b], label=y) items, as sentence-transformers' does."
            )
    return examples


def _training_args(tmp: str, batch_size: int, record: dict, max_grad_norm: float, use_amp: bool,
                   show_progress_bar: bool, device: torch.device) -> TrainingArguments:  # fmt: skip
    """The `TrainingArguments` of a `fit` call (its `record`: epochs, optimizer, scheduler, warm-up, decay)."""
    return TrainingArguments(
        output_dir=tmp,
        num_train_epochs=record["epochs"],
        per_device_train_batch_size=batch_size,
        learning_rate=record["optimizer_params"].get("lr", 2e-5),
        weight_decay=record["weight_decay"],
        warmup_steps=record["warmup_steps"],
        lr_scheduler_type=_SCHEDULERS[record["scheduler"].lower()],
        max_grad_norm=max_grad_norm,
        bf16=use_amp and torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        save_strategy="no",
        report_to="none",
        disable_tqdm=not show_progress_bar,
        use_cpu=device.type == "cpu",
    )


def _check_fit_args(optimizer_class, scheduler: str, output_path: str | None, overwrite: bool) -> None:
    """Refuse what `fit` cannot honour, and an `output_path` that holds a model `fit` did not save."""
    if optimizer_class not in (None, torch.optim.AdamW):
        raise ValueError("fit supports AdamW only; for other optimizers use the Trainer (optimizers=...).")
    if scheduler.lower() not in _SCHEDULERS:
        raise ValueError(f"scheduler={scheduler!r} is unknown; use one of {list(_SCHEDULERS)}.")
    if output_path is not None:
        earlier_fit = (Path(output_path) / FIT_RECORD).exists()
        check_output_dir(output_path, overwrite or earlier_fit, fix="overwrite_output_path=True")


def _pair_dataset(cross_encoder, train_dataloader) -> Dataset:
    """The tokenized pairs of `train_dataloader`'s `InputExample`s, in its order, checked: pairs, and labels the
    model's head can take."""
    examples = _examples_in_loader_order(train_dataloader)
    if not examples:
        raise ValueError("train_dataloader holds no examples; give fit at least one InputExample.")
    if any(len(ex.texts) != 2 for ex in examples):
        raise ValueError("A cross-encoder trains on pairs: every InputExample needs texts=[a, b]. Triplets "
                         "(anchor, positive, negative) train a BiEncoder with in-batch negatives.")  # fmt: skip
    labels = [ex.label for ex in examples]
    check_labels(labels, len(examples), cross_encoder.num_labels)
    data = Dataset.from_dict(
        {"sentence1": [e.texts[0] for e in examples], "sentence2": [e.texts[1] for e in examples], "label": labels}
    )
    return tokenize_pairs(data, cross_encoder.tokenizer, max_length=cross_encoder.max_length)


def _fit_record(base: str, evaluator, epochs: int, batch_size: int, examples: int, optimizer_params: dict | None,
                scheduler: str, warmup_steps: int, weight_decay: float) -> dict:  # fmt: skip
    """The settings a `fit` call trained with, saved beside its model as `fit_args.json`."""
    return {"base": base, "evaluator": type(evaluator).__name__ if evaluator else None, "epochs": epochs,
            "batch_size": batch_size, "examples": examples, "optimizer_params": optimizer_params or {"lr": 2e-5},
            "scheduler": scheduler, "warmup_steps": warmup_steps, "weight_decay": weight_decay}  # fmt: skip


def fit_cross_encoder(cross_encoder, train_dataloader, evaluator=None, epochs: int = 1,
                      loss_fct: nn.Module | None = None, activation_fct=None, scheduler: str = "WarmupLinear",
                      warmup_steps: int = 10000, optimizer_class: type | None = None,
                      optimizer_params: dict | None = None, weight_decay: float = 0.01, evaluation_steps: int = 0,
                      output_path: str | None = None, save_best_model: bool = True, max_grad_norm: float = 1,
                      use_amp: bool = False, callback=None, show_progress_bar: bool = True,
                      overwrite_output_path: bool = False) -> None:  # fmt: skip
    """Train `cross_encoder` on the `InputExample`s of `train_dataloader`, with the arguments of
    sentence-transformers' `CrossEncoder.fit` (its `batch_size` and the same defaults).

    Only AdamW and the BCE / MSE / cross-entropy losses are supported; `activation_fct` becomes the model's
    `activation_fn` (used by the evaluators, `predict` and the saved model). Without an evaluator the final model is
    saved to `output_path`; evaluator CSVs go to `output_path/eval`. Running the same script again replaces the
    model an earlier `fit` saved there (it leaves `fit_args.json` beside it; other files are never touched); a model
    saved there by anything else is refused unless `overwrite_output_path=True`.
    """
    if loss_fct is not None and type(loss_fct) not in _LOSSES:
        raise ValueError(f"loss_fct {type(loss_fct).__name__} is not supported; use {[c.__name__ for c in _LOSSES]}.")
    _check_fit_args(optimizer_class, scheduler, output_path, overwrite_output_path)
    if activation_fct is not None:
        cross_encoder.activation_fn = activation_fct
    train = _pair_dataset(cross_encoder, train_dataloader)
    record = _fit_record(cross_encoder.model_path, evaluator, epochs, train_dataloader.batch_size, len(train),
                         optimizer_params, scheduler, warmup_steps, weight_decay)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        args = _training_args(tmp, train_dataloader.batch_size, record, max_grad_norm, use_amp, show_progress_bar,
                              cross_encoder.device)  # fmt: skip
        evaluate = _EvaluatorCallback(cross_encoder, evaluator, evaluation_steps, output_path, save_best_model,
                                      callback, record)  # fmt: skip
        CrossEncoderTrainer(
            model=cross_encoder.model, args=args, train_dataset=train,
            data_collator=pair_collator(cross_encoder.tokenizer),
            task="sts" if cross_encoder.num_labels == 1 else "classification",
            loss=_LOSSES[type(loss_fct)] if loss_fct is not None else None,
            callbacks=[evaluate] if evaluator is not None else [],
        ).train()  # fmt: skip
    if output_path is not None and (evaluator is None or not save_best_model):
        _save(cross_encoder, output_path, record)


def _bi_loss_for(examples: list, loss_fct) -> tuple[str | nn.Module, str, int | None]:
    """The bi-encoder loss, its name and the class count for `fit`: `loss_fct` (a name, or a `xenc.bi_losses`
    module, used as given), else from the examples: 3+ texts or no labels (all 0) -> mnrl, floats -> cosine,
    class ids -> softmax."""
    if isinstance(loss_fct, nn.Module) and type(loss_fct) not in BI_LOSSES.values():
        raise ValueError(f"loss_fct {type(loss_fct).__name__} is not a bi-encoder loss; use {list(BI_LOSSES)}.")
    if isinstance(loss_fct, str) and loss_fct not in BI_LOSSES:
        raise ValueError(f"loss_fct={loss_fct!r} is unknown; use one of {list(BI_LOSSES)}.")
    labels = [ex.label for ex in examples]
    if loss_fct is None:
        ints = all(isinstance(y, int) and not isinstance(y, bool) for y in labels)
        unlabelled = ints and set(labels) == {0}  # InputExample's default label: (anchor, positive) pairs
        loss_fct = "mnrl" if len(examples[0].texts) > 2 or unlabelled else "softmax" if ints else "cosine"
    name = loss_fct if isinstance(loss_fct, str) else {c: n for n, c in BI_LOSSES.items()}[type(loss_fct)]
    if name == "softmax":
        numbers = [y for y in labels if isinstance(y, (int, float))]
        classes = max(2, int(max(numbers)) + 1) if numbers else 2
        classes = loss_fct.classifier.out_features if isinstance(loss_fct, nn.Module) else classes
        check_labels(labels, len(labels), classes)  # class ids 0..classes-1, else an error that names them
        return loss_fct, name, classes
    if name == "cosine":
        check_labels(labels, len(labels), 1)
    return loss_fct, name, None


def fit_bi_encoder(bi_encoder, train_dataloader, evaluator=None, epochs: int = 1, loss_fct=None,
                   scheduler: str = "WarmupLinear", warmup_steps: int = 10000, optimizer_class: type | None = None,
                   optimizer_params: dict | None = None, weight_decay: float = 0.01, evaluation_steps: int = 0,
                   output_path: str | None = None, save_best_model: bool = True, max_grad_norm: float = 1,
                   use_amp: bool = False, callback=None, show_progress_bar: bool = True,
                   overwrite_output_path: bool = False) -> None:  # fmt: skip
    """Train `bi_encoder` on the `InputExample`s of `train_dataloader`: `CrossEncoder.fit`'s call, so one script
    trains both. The loss (`loss_fct`: "cosine", "softmax", "mnrl" or one of `xenc.bi_losses`' modules) defaults by
    the data: float labels -> cosine, class ids -> softmax over (u, v, |u - v|), 3+ texts -> in-batch negatives.
    The best model by `evaluator` (else the last) is saved to `output_path` as a sentence-transformers folder."""
    _check_fit_args(optimizer_class, scheduler, output_path, overwrite_output_path)
    examples = _examples_in_loader_order(train_dataloader)
    if not examples or len({len(ex.texts) for ex in examples}) > 1:
        raise ValueError("train_dataloader must hold InputExamples with the same number of texts each (2, or 3+).")
    loss, name, num_labels = _bi_loss_for(examples, loss_fct)
    columns = {f"text{i}": [ex.texts[i] for ex in examples] for i in range(len(examples[0].texts))}
    labels = {} if name == "mnrl" else {"label": [ex.label for ex in examples]}
    train = tokenize_texts(Dataset.from_dict({**columns, **labels}), bi_encoder.tokenizer, list(columns),
                           bi_encoder.max_length)  # fmt: skip
    record = _fit_record(bi_encoder.path, evaluator, epochs, train_dataloader.batch_size, len(examples),
                         optimizer_params, scheduler, warmup_steps, weight_decay)  # fmt: skip
    record["loss"], task = name, {"cosine": "sts", "softmax": "classification", "mnrl": "rerank"}[name]
    with tempfile.TemporaryDirectory() as tmp:
        args = _training_args(tmp, train_dataloader.batch_size, record, max_grad_norm, use_amp, show_progress_bar,
                              bi_encoder.device)  # fmt: skip
        callbacks = [] if evaluator is None else [
            _EvaluatorCallback(bi_encoder, evaluator, evaluation_steps, output_path, save_best_model, callback, record)
        ]  # fmt: skip
        trainer = BiEncoderTrainer(bi_encoder.encoder, args, train_dataset=train, task=task, loss=loss,
                                   data_collator=TextsCollator(bi_encoder.tokenizer), num_labels=num_labels,
                                   callbacks=callbacks)  # fmt: skip
        trainer.train()
    bi_encoder.encoder.eval()
    if output_path is not None and (evaluator is None or not save_best_model):
        _save(bi_encoder, output_path, record)
