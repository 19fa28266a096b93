"""One launchable training entry: `main(xenc_args, training_args)`, also `python -m xenc.train` / `xenc train`.

Runs unchanged in a notebook cell, as a script, under `accelerate launch` (one or many processes, GPUs or nodes) and
from `accelerate.notebook_launcher`: everything distributed (DDP, mixed precision, gradient accumulation) comes from
`TrainingArguments` and accelerate's config. Evaluation gathers every process's predictions before computing
metrics, and files are written by the main process only.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import datasets
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    HfArgumentParser,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from .bi_training import train_bi_encoder
from .cards import cross_card, write_card
from .checks import check_output_dir
from .config import XencArguments
from .cross_encoder import CrossEncoder
from .data import (
    RerankCollator,
    groups_from_pairs,
    pair_collator,
    tokenize_groups,
    tokenize_pairs,
)
from .heads import mark_activation, write_st_config
from .lengths import fit_length
from .models import load_pretrained, resolve_model
from .retrieval import add_teacher_scores
from .runs import (  # noqa: F401 (cpu_description, environment, source_commit: imported from here by scripts)
    check_world,
    cpu_description,
    effective_batch_size,
    environment,
    has_accelerator,
    load_splits,
    pads_to_8,
    remove_checkpoints,
    resume_checked,
    source_commit,
    train_dataset_for,
    train_resumed,
    untrained_metrics,
    write_results,
)
from .saving import fresh_staging, move_into, staging_path
from .tasks import GROUP_LOSSES, get_task
from .trainer import CrossEncoderTrainer

# Defaults of every training entry (`xenc train`, `train_from_dict`, recipes, notebooks): what a user passes wins.
DEFAULTS: dict = {
    "output_dir": "runs/train",
    "num_train_epochs": 4,
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 64,
    "learning_rate": 5e-5,
    "warmup_steps": 0.1,  # a fraction of the training steps
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "save_total_limit": 1,
    "save_only_model": False,  # optimizer, scheduler and RNG state too: --resume_from_checkpoint is then exact
    "load_best_model_at_end": True,
    "logging_steps": 50,
    "report_to": "none",
    "seed": 42,
    "ddp_find_unused_parameters": False,  # every parameter of a cross-encoder gets a gradient: skip DDP's search
}
CLI_DEFAULTS = [
    arg
    for name, value in DEFAULTS.items()
    for arg in (f"--{name}", str(value).lower() if isinstance(value, bool) else str(value))
]


def parse_args(argv: list[str] | None = None) -> tuple[XencArguments, TrainingArguments]:
    """Parse `XencArguments` and `TrainingArguments` flags on top of `CLI_DEFAULTS`.

    Without a GPU, `--use_cpu true` comes first, so `--bf16 true` trains in bf16 on the CPU (TrainingArguments
    refuses bf16 without a GPU unless use_cpu is set) and CPU processes join one gloo group.
    """
    parser = HfArgumentParser((XencArguments, TrainingArguments))
    argv = sys.argv[1:] if argv is None else argv
    cpu = [] if has_accelerator() else ["--use_cpu", "true"]
    return parser.parse_args_into_dataclasses(args=cpu + CLI_DEFAULTS + list(argv))


def args_from_dict(values: dict) -> tuple[XencArguments, TrainingArguments]:
    """`XencArguments` and `TrainingArguments` from one flat dict of their fields on top of `DEFAULTS`: the same
    dataclasses as `parse_args` gives for the same settings as flags."""
    cpu = {} if has_accelerator() else {"use_cpu": True}  # see parse_args
    return HfArgumentParser((XencArguments, TrainingArguments)).parse_dict({**cpu, **DEFAULTS, **values})


def train_from_dict(values: dict) -> dict[str, float]:
    """Run `main` from one flat dict of fields (a notebook's parameters) on top of `DEFAULTS`, the defaults of
    `xenc train`, so a notebook passes only what it changes.

    Example:
        >>> train_from_dict({"dataset": "stsb", "output_dir": "runs/x", "num_train_epochs": 1})  # doctest: +SKIP
    """
    return main(*args_from_dict(values))


def main(
    cfg: XencArguments, training_args: TrainingArguments, callbacks: list[TrainerCallback] | None = None
) -> dict[str, float]:
    """Train a cross-encoder (or, with `encoder="bi"`, a bi-encoder: `train_bi_encoder`), evaluate it before and
    after training, save it and `results.json`.

    Every process runs this function; under DDP each trains on its shard of every batch, and only the main process
    writes files.

    Args:
        callbacks: extra `TrainerCallback`s (e.g. to record per-process state in tests).

    Returns:
        All metrics: `untrained_*` (eval split before training), `train_*`, `eval_*`, `test_*`, `num_processes`,
        `effective_batch_size`; `wall_time_s` on the main process.
    """
    if cfg.encoder == "bi":
        return train_bi_encoder(cfg, training_args, callbacks)
    start = time.perf_counter()
    out = Path(training_args.output_dir)
    check_world(training_args)
    check_output_dir(out, cfg.overwrite_output_dir)  # on every process, so a refusal stops them all
    resume, callbacks, resumed = resume_checked(cfg, training_args, callbacks)
    set_seed(training_args.seed)
    data = load_splits(cfg)
    model, tokenizer = _load_model(cfg, data[cfg.train_split])
    encoded, collator = _encoded(cfg, training_args, data, model.config, tokenizer)
    # The untrained baseline is measured by train() itself (eval_on_start), after it has wrapped the model for DDP /
    # FSDP / DeepSpeed. Calling evaluate() first (transformers 5.24, accelerate 1.15) marks the model as prepared for
    # evaluation only, and train() then skips DDP: each process would train alone on its shard, unsynchronised.
    training_args.eval_on_start = resume is None  # a resumed run has its step-0 evaluation in the checkpoint's log
    trainer = CrossEncoderTrainer(
        model=model, args=training_args, train_dataset=train_dataset_for(cfg, training_args, encoded[cfg.train_split]),
        eval_dataset=encoded[cfg.eval_split], processing_class=tokenizer, data_collator=collator, task=cfg.task,
        loss=cfg.loss, callbacks=callbacks,
    )  # fmt: skip
    metrics = {"train_pairs": len(encoded[cfg.train_split]), "epochs": training_args.num_train_epochs}
    metrics.update(num_processes=training_args.world_size, effective_batch_size=effective_batch_size(training_args))
    result = train_resumed(trainer, resume)
    metrics.update(resumed)
    metrics.update(untrained_metrics(trainer.state.log_history))
    metrics.update(result.metrics, train_steps=trainer.state.global_step)
    metrics.update(trainer.evaluate())
    if cfg.test_split:
        metrics.update(trainer.evaluate(encoded[cfg.test_split], metric_key_prefix="test"))
    _save(trainer, model.config, cfg, metrics, start, out)
    return metrics


def _encoded(cfg: XencArguments, training_args: TrainingArguments, data, config, tokenizer) -> tuple:
    """The tokenized splits and their collator; rerank losses over groups get the training split as groups."""
    num_labels = None if cfg.task == "rerank" else config.num_labels  # rerank labels are grades 0, 1, 2...
    encoded = tokenize_pairs(
        data, tokenizer, cfg.max_length, cfg.truncation, num_labels=num_labels, args=training_args,
        label2id=config.label2id,
    )  # fmt: skip
    pad_to = 8 if pads_to_8(training_args) else None
    if cfg.task == "rerank" and (cfg.loss or "bce") in GROUP_LOSSES:
        encoded[cfg.train_split] = rerank_groups(cfg, training_args, data[cfg.train_split], tokenizer)
        return encoded, RerankCollator(tokenizer, pad_to)  # groups for training, flat candidate rows for evaluation
    return encoded, pair_collator(tokenizer, pad_to)


def _save(trainer, config, cfg: XencArguments, metrics: dict, start: float, out: Path) -> None:
    """The model, `results.json` and the model card into `out`, through a staging folder (config.json last)."""
    mark_activation(config)
    # the same path on every process (save_model may gather shards); only the main process writes and moves
    staging = fresh_staging(out) if trainer.is_world_process_zero() else staging_path(out)
    trainer.save_model(str(staging))
    if trainer.is_world_process_zero():
        write_st_config(staging, config)
        results = write_results(trainer, cfg, metrics, start, staging)  # moved with the model, before config.json
        move_into(staging, out)  # config.json last: a run killed while saving leaves no folder that loads
        shutil.rmtree(staging, ignore_errors=True)
        remove_checkpoints(out)
        write_card(out, cross_card(out.name, cfg.task, config.num_labels, cfg.max_length, results))


def rerank_groups(cfg: XencArguments, training_args: TrainingArguments, train: datasets.Dataset, tokenizer):
    """Tokenized rerank groups: each relevant candidate with `num_negatives` irrelevant ones of its query, and the
    teacher's logits for them under a distillation loss."""
    groups = groups_from_pairs(train, cfg.num_negatives, training_args.seed)
    if cfg.teacher:  # every process scores all groups (the same on each): simple, and cheap beside training
        teacher = CrossEncoder(cfg.teacher, max_length=cfg.max_length)
        groups = add_teacher_scores(groups, teacher, training_args.per_device_eval_batch_size)
    return tokenize_groups(groups, tokenizer, cfg.max_length)


def _load_model(cfg: XencArguments, train: datasets.Dataset):
    path = resolve_model(cfg.model)
    num_labels = cfg.num_labels or len(set(train["label"]))
    label2id = get_task(cfg.task).label2id
    if label2id:  # the task's fixed label names
        kwargs = {"label2id": label2id, "id2label": {i: name for name, i in label2id.items()}}
    else:  # a fresh mapping: the base may be a classifier with other labels (e.g. NLI before STS)
        kwargs = {"id2label": {i: f"LABEL_{i}" for i in range(num_labels)}}
        kwargs["label2id"] = {v: k for k, v in kwargs["id2label"].items()}
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=cfg.trust_remote_code)
    # a base whose head has another size (e.g. an STS model as the base of an NLI run) gets a fresh head
    model = load_pretrained(
        AutoModelForSequenceClassification, path, cfg.allow_pickle, num_labels=num_labels,
        ignore_mismatched_sizes=True, trust_remote_code=cfg.trust_remote_code, **kwargs,
    )  # fmt: skip
    cfg.max_length = fit_length(cfg.max_length, model.config, "--max_length")  # after the run's identity was taken
    tokenizer.model_max_length = cfg.max_length  # saved with the model: CrossEncoder(path) scores as it was trained
    return model, tokenizer


if __name__ == "__main__":
    main(*parse_args())
