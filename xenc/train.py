"""One launchable training entry: `main(xenc_args, training_args)`, also `python -m xenc.train` / `xenc train`.

Runs unchanged in a notebook cell, as a script, under `accelerate launch` (one or many processes, GPUs or nodes) and
from `accelerate.notebook_launcher`: everything distributed (DDP, mixed precision, gradient accumulation) comes from
`TrainingArguments` and accelerate's config. Evaluation gathers every process's predictions before computing
metrics, and files are written by the main process only.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import accelerate
import datasets
import torch
import transformers
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    HfArgumentParser,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from . import __version__
from .checks import check_output_dir
from .config import XencArguments
from .cross_encoder import CrossEncoder
from .data import (
    LengthBatchedDataset,
    RerankCollator,
    groups_from_pairs,
    load,
    pair_collator,
    tokenize_groups,
    tokenize_pairs,
)
from .heads import mark_activation
from .models import load_pretrained, resolve_model
from .retrieval import add_teacher_scores
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


def has_accelerator() -> bool:
    """A CUDA / ROCm, XPU or Apple GPU that `TrainingArguments` would pick by itself."""
    xpu = getattr(torch, "xpu", None)
    return torch.cuda.is_available() or torch.backends.mps.is_available() or bool(xpu and xpu.is_available())


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


def _select(split, n: int | None):
    return split.select(range(min(n, len(split)))) if n else split


def load_splits(cfg: XencArguments) -> datasets.DatasetDict:
    """The train / eval / test splits of `cfg.dataset`, cut to the sample limits (train: pairs swapped if asked)."""
    splits = load(cfg.dataset)
    wanted = [s for s in (cfg.train_split, cfg.eval_split, cfg.test_split) if s]
    missing = [s for s in wanted if s not in splits]
    if missing:
        raise ValueError(f"{cfg.dataset} has splits {list(splits)}; {missing} missing. Set --train_split etc.")
    data = datasets.DatasetDict({s: _select(splits[s], cfg.max_eval_samples) for s in wanted})
    data[cfg.train_split] = _select(splits[cfg.train_split], cfg.max_train_samples)
    if cfg.swap_pairs:  # symmetric task: (a, b) and (b, a) carry the same label
        swapped = data[cfg.train_split].rename_columns({"sentence1": "sentence2", "sentence2": "sentence1"})
        data[cfg.train_split] = datasets.concatenate_datasets([data[cfg.train_split], swapped])
    return data


def cpu_description(info: str | None = None) -> str:
    """CPU model, generation and the flags that decide bf16 / int8 speed, e.g. `AMD EPYC (family 26 model 2;
    avx512_bf16 avx512_vnni)`: the family tells apart CPUs sold under one name (Zen 4 is 25, Zen 5 is 26).
    `info`: the text of /proc/cpuinfo (read when None)."""
    if info is None:
        info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = {}
    for line in info.splitlines():  # the first processor's fields
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    shown = [f for f in ("amx_bf16", "amx_int8", "avx512_bf16", "avx512_vnni", "avx512f", "avx2") if f in flags]
    family = f"family {fields['cpu family']} model {fields.get('model', '?')}; " if "cpu family" in fields else ""
    model = fields.get("model name") or platform.processor()
    return f"{model} ({family}{' '.join(shown) or 'no avx2'}), {os.cpu_count()} cores"


def source_commit() -> str | None:
    """`git describe --always --dirty` of the checkout xenc runs from (None outside a git checkout)."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=Path(__file__).parent,
                                   capture_output=True, text=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return described.stdout.strip() or None if described.returncode == 0 else None


def environment() -> dict:
    """Library versions, hardware and the source commit, for the provenance of results."""
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    return {
        "device": device,
        "cpu": cpu_description(),
        "python": platform.python_version(),
        **{m.__name__: m.__version__ for m in (torch, transformers, datasets, accelerate)},
        "xenc": __version__,
        "commit": source_commit(),
    }


def check_world(training_args: TrainingArguments) -> None:
    """Refuse a multi-process launch that `TrainingArguments` would run as N unsynchronised copies."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and training_args.world_size != launched:
        raise RuntimeError(
            f"Launched with WORLD_SIZE={launched}, but TrainingArguments sees {training_args.world_size} process(es): "
            "each would train alone on all the data. On a machine without GPUs pass use_cpu=True "
            "(CLI: --use_cpu true), so the processes join one gloo group."
        )


def main(
    cfg: XencArguments, training_args: TrainingArguments, callbacks: list[TrainerCallback] | None = None
) -> dict[str, float]:
    """Train a cross-encoder, evaluate it before and after training, save it and `results.json`.

    Every process runs this function; under DDP each trains on its shard of every batch, and only the main process
    writes files.

    Args:
        callbacks: extra `TrainerCallback`s (e.g. to record per-process state in tests).

    Returns:
        All metrics: `untrained_*` (eval split before training), `train_*`, `eval_*`, `test_*`, `num_processes`,
        `effective_batch_size`; `wall_time_s` on the main process.
    """
    start = time.perf_counter()
    out = Path(training_args.output_dir)
    check_world(training_args)
    check_output_dir(out, cfg.overwrite_output_dir)  # on every process, so a refusal stops them all
    resume = resume_point(out, training_args.resume_from_checkpoint)
    set_seed(training_args.seed)
    data = load_splits(cfg)
    model, tokenizer = _load_model(cfg, data[cfg.train_split])
    num_labels = None if cfg.task == "rerank" else model.config.num_labels  # rerank labels are grades 0, 1, 2...
    encoded = tokenize_pairs(
        data, tokenizer, cfg.max_length, cfg.truncation, num_labels=num_labels, args=training_args,
        label2id=model.config.label2id,
    )  # fmt: skip
    pad_to = 8 if _pads_to_8(training_args) else None
    collator = pair_collator(tokenizer, pad_to)
    if cfg.task == "rerank" and (cfg.loss or "bce") in GROUP_LOSSES:
        encoded[cfg.train_split] = rerank_groups(cfg, training_args, data[cfg.train_split], tokenizer)
        collator = RerankCollator(tokenizer, pad_to)  # groups for training, flat candidate rows for evaluation
    # The untrained baseline is measured by train() itself (eval_on_start), after it has wrapped the model for DDP /
    # FSDP / DeepSpeed. Calling evaluate() first (transformers 5.24, accelerate 1.15) marks the model as prepared for
    # evaluation only, and train() then skips DDP: each process would train alone on its shard, unsynchronised.
    training_args.eval_on_start = resume is None  # a resumed run has its step-0 evaluation in the checkpoint's log
    trainer = CrossEncoderTrainer(
        model=model,
        args=training_args,
        train_dataset=_train_dataset(cfg, training_args, encoded[cfg.train_split]),
        eval_dataset=encoded[cfg.eval_split],
        processing_class=tokenizer,
        data_collator=collator,
        task=cfg.task,
        loss=cfg.loss,
        callbacks=callbacks,
    )
    metrics = {"train_pairs": len(encoded[cfg.train_split]), "epochs": training_args.num_train_epochs}
    metrics.update(num_processes=training_args.world_size, effective_batch_size=effective_batch_size(training_args))
    result = trainer.train(resume_from_checkpoint=resume)
    metrics.update(untrained_metrics(trainer.state.log_history))
    metrics.update(result.metrics, train_steps=trainer.state.global_step)
    metrics.update(trainer.evaluate())
    if cfg.test_split:
        metrics.update(trainer.evaluate(encoded[cfg.test_split], metric_key_prefix="test"))
    mark_activation(model.config)
    # the same path on every process (save_model may gather shards); only the main process writes and moves
    staging = fresh_staging(out) if trainer.is_world_process_zero() else staging_path(out)
    trainer.save_model(str(staging))
    if trainer.is_world_process_zero():
        move_into(staging, out)  # config.json last: a run killed while saving leaves no folder that loads
        shutil.rmtree(staging, ignore_errors=True)
        for folder in out.glob("checkpoint-*"):  # all this run's (resume_point refuses other runs'); the best is saved
            shutil.rmtree(folder)
        metrics["wall_time_s"] = time.perf_counter() - start
        trainer.save_metrics("all", metrics)
        results = {"metrics": metrics, "config": asdict(cfg), "training_args": training_args.to_dict()}
        results["log_history"] = trainer.state.log_history  # losses and eval metrics by step: learning curves
        (out / "results.json").write_text(json.dumps({**results, "environment": environment()}, indent=2))
    return metrics


def resume_point(out: Path, resume_from_checkpoint: str | None) -> str | None:
    """The checkpoint to resume from: `None` (a fresh run), a checkpoint folder, or `"true"` for the last complete
    one in `out` (a checkpoint killed mid-write lacks `trainer_state.json`, written last, and is passed over).

    A fresh run refuses an output dir that holds another run's checkpoints: Trainer's rotation would delete them.
    """
    found = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]) if p.name[11:].isdigit() else -1)
    complete = [p for p in found if (p / "trainer_state.json").exists()]
    if resume_from_checkpoint is None or str(resume_from_checkpoint).lower() in ("false", "none", ""):
        if found:
            fix = "continue it with --resume_from_checkpoint true" if complete else "delete them (none is complete)"
            raise FileExistsError(
                f"{out} holds checkpoints of an earlier run ({', '.join(p.name for p in found)}); nothing changed. "
                f"Fix: {fix}, or choose another output dir."
            )
        return None
    if str(resume_from_checkpoint).lower() == "true":
        if not complete:
            raise FileNotFoundError(
                f"--resume_from_checkpoint true: {out} has no complete checkpoint (checkpoint-*/trainer_state.json). "
                "Fix: drop the flag to start afresh, or pass the checkpoint folder."
            )
        return str(complete[-1])
    folder = Path(resume_from_checkpoint)
    if not (folder / "trainer_state.json").exists():
        raise FileNotFoundError(
            f"--resume_from_checkpoint {folder}: no trainer_state.json there (not a checkpoint, or one killed while "
            "being written). Fix: pass a checkpoint-* folder of the run, or true for the last complete one."
        )
    if not (folder / "optimizer.pt").exists():
        raise ValueError(
            f"--resume_from_checkpoint {folder}: the checkpoint holds no optimizer state (saved with "
            "--save_only_model true), so training cannot continue exactly. Fix: start afresh."
        )
    return str(folder)


def rerank_groups(cfg: XencArguments, training_args: TrainingArguments, train: datasets.Dataset, tokenizer):
    """Tokenized rerank groups: each relevant candidate with `num_negatives` irrelevant ones of its query, and the
    teacher's logits for them under a distillation loss."""
    groups = groups_from_pairs(train, cfg.num_negatives, training_args.seed)
    if cfg.teacher:  # every process scores all groups (the same on each): simple, and cheap beside training
        teacher = CrossEncoder(cfg.teacher, max_length=cfg.max_length)
        groups = add_teacher_scores(groups, teacher, training_args.per_device_eval_batch_size)
    return tokenize_groups(groups, tokenizer, cfg.max_length)


def _train_dataset(cfg: XencArguments, training_args: TrainingArguments, train: datasets.Dataset):
    """The training pairs, wrapped in `LengthBatchedDataset` (read in order) under `--length_batches`."""
    if not cfg.length_batches:
        return train
    if training_args.train_sampling_strategy not in ("random", "sequential"):
        raise ValueError(
            f"--length_batches orders the batches itself; drop --train_sampling_strategy "
            f"{training_args.train_sampling_strategy} (or drop --length_batches)."
        )
    training_args.train_sampling_strategy = "sequential"
    seed = training_args.data_seed if training_args.data_seed is not None else training_args.seed
    return LengthBatchedDataset(train, training_args.per_device_train_batch_size, seed)


def _pads_to_8(training_args: TrainingArguments) -> bool:
    """Round padded lengths up to a multiple of 8 where tensor cores use it (GPU, fp16 / bf16), not for fp32 on CPU."""
    return training_args.fp16 or training_args.bf16 or not training_args.use_cpu and torch.cuda.is_available()


def untrained_metrics(log_history: list[dict]) -> dict[str, float]:
    """The evaluation logged at step 0 (`eval_on_start`), renamed `untrained_*`."""
    first = next(h for h in log_history if h.get("step") == 0 and "eval_loss" in h)
    return {"untrained_" + k.removeprefix("eval_"): v for k, v in first.items() if k.startswith("eval_")}


def effective_batch_size(training_args: TrainingArguments) -> int:
    """Pairs per optimizer step: per-device batch x gradient accumulation x processes."""
    return (
        training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
        * training_args.world_size
    )  # fmt: skip


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
    tokenizer.model_max_length = cfg.max_length  # saved with the model: CrossEncoder(path) scores as it was trained
    # a base whose head has another size (e.g. an STS model as the base of an NLI run) gets a fresh head
    model = load_pretrained(
        AutoModelForSequenceClassification, path, cfg.allow_pickle, num_labels=num_labels,
        ignore_mismatched_sizes=True, trust_remote_code=cfg.trust_remote_code, **kwargs,
    )  # fmt: skip
    return model, tokenizer


if __name__ == "__main__":
    main(*parse_args())
