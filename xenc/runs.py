"""What every training run shares, cross- or bi-encoder: its splits, the world it runs in, where it resumes, and the
provenance written beside its results (versions, CPU, commit)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import accelerate
import datasets
import pandas as pd
import torch
import transformers
from transformers import TrainerCallback, TrainingArguments

from .config import XencArguments
from .data import LengthBatchedDataset, load
from .machine import cpu_description


def has_accelerator() -> bool:
    """A CUDA / ROCm, XPU or Apple GPU that `TrainingArguments` would pick by itself."""
    xpu = getattr(torch, "xpu", None)
    return torch.cuda.is_available() or torch.backends.mps.is_available() or bool(xpu and xpu.is_available())


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
    if cfg.extra_train_file:
        extra = read_extra_rows(cfg.extra_train_file, data[cfg.train_split].features)
        data[cfg.train_split] = datasets.concatenate_datasets([data[cfg.train_split], extra])
    if cfg.task == "rerank" and not any(grade > 0 for grade in data[cfg.train_split]["label"]):
        raise ValueError(
            f"{cfg.dataset} ({cfg.train_split}): no candidate is relevant (label > 0), so a reranker "
            "has nothing to learn. Fix: check the labels (1 or more for a relevant candidate)."
        )
    if cfg.swap_pairs:  # symmetric task: (a, b) and (b, a) carry the same label
        swapped = data[cfg.train_split].rename_columns({"sentence1": "sentence2", "sentence2": "sentence1"})
        data[cfg.train_split] = datasets.concatenate_datasets([data[cfg.train_split], swapped])
    return data


def read_extra_rows(path: str, features: datasets.Features) -> datasets.Dataset:
    """Rows of a CSV (`.tsv`: tab-separated) with the training split's columns, cast to its features."""
    frame = pd.read_csv(path, sep="\t" if str(path).endswith(".tsv") else ",", keep_default_na=False)
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(f"--extra_train_file {path}: columns {missing} missing (has {list(frame.columns)}). "
                         f"Fix: write the columns {list(features)}.")  # fmt: skip
    return datasets.Dataset.from_pandas(frame[list(features)], preserve_index=False).cast(features)


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
        "xenc": version("xenc"),
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
    folder = complete[-1] if str(resume_from_checkpoint).lower() == "true" else Path(resume_from_checkpoint)
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


IDENTITY_FILE = "run_identity.json"
IDENTITY_CFG = ("model", "encoder", "dataset", "task", "loss", "teacher", "num_negatives", "train_split", "max_length",
                "truncation", "swap_pairs", "length_batches", "extra_train_file", "max_train_samples")  # fmt: skip
IDENTITY_ARGS = ("seed", "learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps",
                 "num_train_epochs", "max_steps", "warmup_steps", "weight_decay", "lr_scheduler_type",
                 "label_smoothing_factor", "bf16", "fp16", "world_size")  # fmt: skip


def run_identity(cfg: XencArguments, training_args: TrainingArguments) -> dict:
    """What makes a run this run: its model, data and every argument that changes training (JSON values)."""
    values = {**{k: getattr(cfg, k) for k in IDENTITY_CFG}, **{k: getattr(training_args, k) for k in IDENTITY_ARGS}}
    return json.loads(json.dumps(values, default=str))


class IdentityCallback(TrainerCallback):
    """Writes the run's identity into every checkpoint it saves, for `check_identity` to read on resume."""

    def __init__(self, identity: dict):
        self.identity = identity

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if state.is_world_process_zero and folder.is_dir():
            (folder / IDENTITY_FILE).write_text(json.dumps(self.identity, indent=2))


def check_identity(checkpoint: str, identity: dict, force: bool) -> None:
    """Refuse to resume from a checkpoint of another run (or one that does not say whose it is) unless forced."""
    path = Path(checkpoint) / IDENTITY_FILE
    saved = json.loads(path.read_text()) if path.exists() else None
    differ = {k: (saved.get(k), v) for k, v in identity.items() if saved.get(k) != v} if saved else {}
    if (saved is None or differ) and not force:
        what = ("it does not record whose run it is (no run_identity.json)" if saved is None else "it is another "
                "run's: " + "; ".join(f"{k} {a!r} there, {b!r} here" for k, (a, b) in differ.items()))  # fmt: skip
        raise ValueError(
            f"--resume_from_checkpoint {checkpoint}: {what}. Continuing would train its weights under this run's "
            "settings. Fix: resume with the same settings, start afresh, or pass --force_resume true (recorded in "
            "results.json)."
        )


def train_resumed(trainer, resume: str | None):
    """`trainer.train(resume_from_checkpoint=resume)`; a forced resume from weights of other shapes is a named
    error, not a size-mismatch traceback."""
    try:
        return trainer.train(resume_from_checkpoint=resume)
    except RuntimeError as err:
        if not resume or "size mismatch" not in str(err):
            raise
        first = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), "")
        raise ValueError(
            f"--resume_from_checkpoint {resume}: its weights have other shapes than this run's model "
            f"({first[:160]}). Fix: resume with the model and task that saved it, or start afresh."
        ) from None


def resume_checked(cfg: XencArguments, training_args: TrainingArguments, callbacks: list | None) -> tuple:
    """(checkpoint to resume from or None, callbacks + the identity writer, what results.json records of it)."""
    identity = run_identity(cfg, training_args)
    resume = resume_point(Path(training_args.output_dir), training_args.resume_from_checkpoint)
    if resume:
        check_identity(resume, identity, cfg.force_resume)
    record = {"resumed_from": resume, "resume_forced": bool(resume and cfg.force_resume)} if resume else {}
    return resume, [*(callbacks or []), IdentityCallback(identity)], record


def train_dataset_for(cfg: XencArguments, training_args: TrainingArguments, train: datasets.Dataset):
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


def pads_to_8(training_args: TrainingArguments) -> bool:
    """Round padded lengths up to a multiple of 8 where tensor cores use it (GPU, fp16 / bf16), not for fp32 on CPU."""
    return training_args.fp16 or training_args.bf16 or not training_args.use_cpu and torch.cuda.is_available()


def untrained_metrics(log_history: list[dict]) -> dict[str, float]:
    """The evaluation logged at step 0 (`eval_on_start`), renamed `untrained_*`."""
    first = next(h for h in log_history if h.get("step") == 0 and any(k.startswith("eval_") for k in h))
    return {"untrained_" + k.removeprefix("eval_"): v for k, v in first.items() if k.startswith("eval_")}


def effective_batch_size(training_args: TrainingArguments) -> int:
    """Pairs per optimizer step: per-device batch x gradient accumulation x processes."""
    return (
        training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
        * training_args.world_size
    )  # fmt: skip


def write_results(trainer, cfg: XencArguments, metrics: dict, start: float, folder: Path | None = None) -> dict:
    """On the main process: write `all_results.json` and `results.json` (metrics, config, arguments, log history,
    environment) into `folder` (default: the output dir; a staging folder makes them part of the model's atomic
    save), then remove this run's checkpoints (the best model is saved); returns the results."""
    out = Path(trainer.args.output_dir)
    metrics["wall_time_s"] = time.perf_counter() - start
    results = {"metrics": metrics, "config": asdict(cfg), "training_args": trainer.args.to_dict()}
    results["log_history"] = trainer.state.log_history  # losses and eval metrics by step: learning curves
    results["environment"] = environment()
    for name, content in (("all_results.json", metrics), ("results.json", results)):
        (Path(folder or out) / name).write_text(json.dumps(content, indent=2))
    return results


def remove_checkpoints(out: Path) -> None:
    """This run's checkpoints, once its model and results are saved (resume_point refuses other runs')."""
    for folder in Path(out).glob("checkpoint-*"):
        shutil.rmtree(folder)
