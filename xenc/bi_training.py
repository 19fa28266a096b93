"""Bi-encoder training on the same `Trainer` machinery as the cross-encoder: each text column tokenized once, a
collator that pads each column, `BiEncoderTrainer` (the encoder and its loss as one module), and the `xenc train
--encoder bi` run (`train_bi_encoder`)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from torch import nn
from transformers import AutoTokenizer, PreTrainedTokenizerBase, Trainer, TrainerCallback, TrainingArguments, set_seed

from .bi_losses import make_bi_loss
from .checks import check_labels, check_output_dir
from .config import XencArguments
from .data import groups_from_pairs
from .lengths import fit_length
from .metrics import STSCorrelation, metrics_for_task
from .models import resolve_model
from .runs import (
    check_world,
    effective_batch_size,
    load_splits,
    remove_checkpoints,
    resume_checked,
    train_dataset_for,
    train_resumed,
    untrained_metrics,
    write_results,
)
from .sentence_model import PooledEncoder, load_pooled_encoder, model_card, save_sentence_model
from .tasks import get_task


def tokenize_texts(
    data: Dataset | DatasetDict, tokenizer: PreTrainedTokenizerBase, columns: list[str], max_length: int = 256
) -> Dataset | DatasetDict:
    """Tokenize each text column on its own, once (`input_ids_<i>`, `attention_mask_<i>` for column i); `label`
    becomes `labels`, `qid` is kept. Unpadded: `TextsCollator` pads each column per batch."""

    def encode(batch: dict) -> dict:
        out = {}
        for i, column in enumerate(columns):
            enc = tokenizer(batch[column], truncation=True, max_length=max_length)
            out[f"input_ids_{i}"], out[f"attention_mask_{i}"] = enc["input_ids"], enc["attention_mask"]
        return out

    first = next(iter(data.values())) if isinstance(data, DatasetDict) else data
    missing = [c for c in columns if c not in first.column_names]
    if missing:
        raise ValueError(f"Columns {missing} not found (have {first.column_names}); name the text columns.")
    drop = [c for c in first.column_names if c not in ("label", "qid")]
    encoded = data.map(encode, batched=True, remove_columns=drop)
    return encoded.rename_column("label", "labels") if "label" in first.column_names else encoded


class TextsCollator:
    """Pads each text column of a batch on its own: `{"features": [column 0, column 1, ...], "labels", "qid"}`."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, pad_to_multiple_of: int | None = None):
        self.tokenizer, self.pad_to = tokenizer, pad_to_multiple_of

    def __call__(self, rows: list[dict]) -> dict:
        columns = sum(key.startswith("input_ids_") for key in rows[0])
        features = [
            self.tokenizer.pad(
                [{"input_ids": r[f"input_ids_{i}"], "attention_mask": r[f"attention_mask_{i}"]} for r in rows],
                pad_to_multiple_of=self.pad_to,
                return_tensors="pt",
            )  # fmt: skip
            for i in range(columns)
        ]
        batch = {"features": [dict(f) for f in features]}
        for key in ("labels", "qid"):
            if key in rows[0]:
                batch[key] = torch.tensor([r[key] for r in rows])
        return batch


class LossModel(nn.Module):
    """The encoder and its loss as one module, so `Trainer` optimises, checkpoints and wraps (DDP) both: a softmax
    loss has a classifier of its own to train."""

    def __init__(self, encoder: PooledEncoder, loss: nn.Module):
        super().__init__()
        self.encoder, self.loss = encoder, loss

    def forward(self, features: list[dict], labels: torch.Tensor | None = None, qid: torch.Tensor | None = None):
        embeddings = [self.encoder(**f) for f in features]  # one (batch, dim) per text column
        extra = {"group_ids": qid} if qid is not None else {}
        return {"loss": self.loss(embeddings, labels, **extra)}


def bi_metrics(task: str):
    """`compute_metrics` for a bi-encoder: Pearson / Spearman of the cosine itself for `sts`; the classifier's
    accuracy for classes; MAP / MRR@10 / NDCG@10 of cosine rankings for `rerank`."""
    if task == "sts":
        module = STSCorrelation(keep_in_memory=True)
        return lambda p: module.compute(predictions=np.ravel(p.predictions), references=np.ravel(p.label_ids))
    return metrics_for_task(task)


class BiEncoderTrainer(Trainer):
    """`Trainer` for bi-encoders: trains a `PooledEncoder` with a bi-encoder loss, evaluates by the task's metric.

    Args:
        model: the `PooledEncoder` to train (`trainer.encoder` after training, best checkpoint loaded if asked).
        task: `sts` (cosine loss, Spearman of cosines), `nli` / `classification` (softmax loss over (u, v, |u - v|),
            accuracy), `rerank` (in-batch negatives, MAP of cosine rankings).
        loss: `cosine`, `softmax` or `mnrl` (`xenc.bi_losses`); default: the task's. `num_labels`: for `softmax`.
        **kwargs: everything `Trainer` takes; data from `tokenize_texts`, batched by `TextsCollator`.

    Example:
        >>> trainer = BiEncoderTrainer(encoder, args, train_dataset=train, eval_dataset=dev, task="sts",
        ...                            data_collator=TextsCollator(tokenizer))  # doctest: +SKIP
    """

    def __init__(self, model: PooledEncoder, *args, task: str = "sts", loss: str | None = None,
                 num_labels: int | None = None, **kwargs):  # fmt: skip
        kwargs.setdefault("compute_metrics", bi_metrics(task))
        super().__init__(LossModel(model, make_bi_loss(loss, task, model.dim, num_labels)), *args, **kwargs)
        self.args.remove_unused_columns = False  # the model takes `features`, built by the collator
        self.task = task
        self.label_names = ["labels", "qid"] if task == "rerank" else ["labels"]
        if self.args.metric_for_best_model in (None, "loss") and self.args.load_best_model_at_end:
            self.args.metric_for_best_model, self.args.greater_is_better = get_task(task).best_metric, True

    @property
    def encoder(self) -> PooledEncoder:
        return self.model.encoder

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """Scores of (column 0, column 1) rows: cosine, or class logits under a softmax loss; no evaluation loss
        (in-batch negatives have no meaning on evaluation rows)."""
        inputs = self._prepare_inputs(inputs)
        inner = self.accelerator.unwrap_model(model)
        with torch.no_grad():  # outside autocast: the best epoch is chosen in fp32, the precision BiEncoder serves in
            u, v = (inner.encoder(**f) for f in inputs["features"][:2])
            scores = inner.loss.score(u, v)
        labels = tuple(inputs[k] for k in self.label_names)
        return None, scores, labels if len(labels) > 1 else labels[0]


def bi_columns(cfg: XencArguments, training_args: TrainingArguments, data: DatasetDict) -> DatasetDict:
    """The training split as the loss reads it: (sentence1, sentence2, label) pairs, or for `rerank` (in-batch
    negatives) one row per relevant candidate: (query, positive, `num_negatives` negatives of its query, qid)."""
    if cfg.task != "rerank":
        return data
    groups = groups_from_pairs(data[cfg.train_split], cfg.num_negatives, training_args.seed)
    queries = {q: i for i, q in enumerate(dict.fromkeys(groups["query"]))}
    rows = {
        "sentence1": groups["query"],
        "sentence2": groups["positive"],
        "qid": [queries[q] for q in groups["query"]],
    }
    for k in range(cfg.num_negatives):
        rows[f"negative{k}"] = [negs[k] for negs in groups["negatives"]]
    return DatasetDict({**data, cfg.train_split: Dataset.from_dict(rows)})


def train_bi_encoder(
    cfg: XencArguments, training_args: TrainingArguments, callbacks: list[TrainerCallback] | None = None
) -> dict[str, float]:
    """`xenc train --encoder bi`: train a bi-encoder, evaluate it before and after training, save it as a
    sentence-transformers folder with `results.json`. The same flags, selection and outputs as a cross-encoder run."""
    start = time.perf_counter()
    out = Path(training_args.output_dir)
    check_world(training_args)
    check_output_dir(out, cfg.overwrite_output_dir)
    resume, callbacks, resumed = resume_checked(cfg, training_args, callbacks)
    set_seed(training_args.seed)
    data = bi_columns(cfg, training_args, load_splits(cfg))
    path = resolve_model(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=cfg.trust_remote_code)
    encoder = load_pooled_encoder(path, cfg.allow_pickle, trust_remote_code=cfg.trust_remote_code)
    cfg.max_length = fit_length(cfg.max_length, encoder.transformer.config, "--max_length")
    num_labels = cfg.num_labels or (len(set(data[cfg.train_split]["label"])) if cfg.task == "classification" else None)
    if cfg.task != "rerank":  # 0..1 scores for the cosine loss, class ids for softmax (extra rows included)
        check_labels(data[cfg.train_split]["label"], len(data[cfg.train_split]), num_labels or 1)
    train_columns = [c for c in data[cfg.train_split].column_names if c.startswith(("sentence", "negative"))]
    columns = {s: train_columns if s == cfg.train_split else ["sentence1", "sentence2"] for s in data}
    splits = {s: tokenize_texts(data[s], tokenizer, columns[s], cfg.max_length) for s in data}
    training_args.eval_on_start = resume is None
    trainer = BiEncoderTrainer(
        encoder, training_args, train_dataset=train_dataset_for(cfg, training_args, splits[cfg.train_split]),
        eval_dataset=splits[cfg.eval_split], data_collator=TextsCollator(tokenizer), task=cfg.task, loss=cfg.loss,
        num_labels=num_labels, callbacks=callbacks,
    )  # fmt: skip
    metrics = {"train_pairs": len(splits[cfg.train_split]), "epochs": training_args.num_train_epochs}
    metrics.update(num_processes=training_args.world_size, effective_batch_size=effective_batch_size(training_args))
    result = train_resumed(trainer, resume)
    metrics.update(resumed)
    metrics.update(untrained_metrics(trainer.state.log_history), **result.metrics)
    metrics.update(trainer.evaluate(), train_steps=trainer.state.global_step)
    if cfg.test_split:
        metrics.update(trainer.evaluate(splits[cfg.test_split], metric_key_prefix="test"))
    if trainer.is_world_process_zero():
        card = model_card(cfg.model, type(trainer.model.loss).__name__, f"{cfg.dataset} ({cfg.train_split})", metrics)
        save_sentence_model(out, trainer.encoder, tokenizer, cfg.max_length, card)
        write_results(trainer, cfg, metrics, start)
        remove_checkpoints(out)
    return metrics
