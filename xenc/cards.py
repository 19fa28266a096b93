"""Model cards: the README.md with the Hub's metadata (`huggingface_hub.ModelCard`) written beside a saved
cross-encoder: what it is, how to use it, how it was trained and scored, where and with what."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

logger = logging.getLogger(__name__)
MARK = "<!-- model card written by xenc; the next save of this model replaces it -->"
PIPELINE = {"sts": "text-ranking", "rerank": "text-ranking", "nli": "text-classification",
            "classification": "text-classification"}  # fmt: skip
HYPER = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps",
         "warmup_steps", "weight_decay", "lr_scheduler_type", "label_smoothing_factor", "seed", "bf16")  # fmt: skip


def cross_card(name: str, task: str, num_labels: int, max_length: int, run: dict | None = None) -> str:
    """A model card for a cross-encoder. `run` (from a training run's `results.json`: `metrics`, `config`,
    `training_args`, `environment`) adds the data, hyperparameters, scores before and after training, the command
    and the machine; without it the card says what the model is and how to use it."""
    run = run or {}
    config, metrics = run.get("config", {}), run.get("metrics", {})
    data = ModelCardData(
        base_model=config.get("model"), datasets=[config["dataset"]] if config.get("dataset") else None,
        language="en", library_name="sentence-transformers", pipeline_tag=PIPELINE.get(task, "text-ranking"),
        tags=["cross-encoder", "xenc", task], model_name=name, eval_results=_eval_results(task, config, metrics),
    )  # fmt: skip
    sections = [
        f"# {name}\n\n{MARK}\n",
        _what(task, num_labels, max_length, config),
        _usage(task),
        _training(config, run.get("training_args", {})),
        _scores(metrics),
        _provenance(run, max_length),
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(s for s in sections if s)).content


def _eval_results(task: str, config: dict, metrics: dict) -> list[EvalResult] | None:
    dataset = config.get("dataset")
    results = [
        EvalResult(task_type=PIPELINE.get(task, "text-ranking"), dataset_type=dataset, dataset_name=dataset,
                   dataset_split=split, metric_type=key.split("_", 1)[1], metric_value=float(value))
        for key, value in metrics.items() for split, prefix in (("test", "test_"), ("validation", "eval_"))
        if dataset and key.startswith(prefix) and isinstance(value, float) and not key.endswith(
            ("_runtime", "_per_second", "_loss"))
    ]  # fmt: skip
    return results or None


def _what(task: str, num_labels: int, max_length: int, config: dict) -> str:
    output = "one score in 0..1 per pair (sigmoid of one logit)" if num_labels == 1 else f"{num_labels} class logits"
    base = f" Base model: `{config['model']}`." if config.get("model") else ""
    return (f"A cross-encoder: it reads two texts together and gives {output} for the `{task}` task. It has no "
            f"sentence embedding; use it on fixed pairs or to re-rank a short list.{base} Pairs longer than "
            f"{max_length} tokens are cut (longest text first).\n")  # fmt: skip


def _usage(task: str) -> str:
    pair = '[("A man is eating food.", "A man is eating a meal.")]'
    return (
        "## Use\n\n```python\nfrom xenc import CrossEncoder  # or: from sentence_transformers import CrossEncoder\n"
        f"model = CrossEncoder(path)\nscores = model.predict({pair})\n```\n\nWith plain `transformers`:\n\n"
        "```python\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        "tokenizer = AutoTokenizer.from_pretrained(path)\n"
        "model = AutoModelForSequenceClassification.from_pretrained(path)\n"
        "batch = tokenizer(['A man is eating food.'], ['A man is eating a meal.'], return_tensors='pt')\n"
        "logits = model(**batch).logits"
        f"\n{'score = logits.sigmoid()' if task in ('sts', 'rerank') else 'label = logits.argmax(-1)'}\n```\n"
    )


def _training(config: dict, args: dict) -> str:
    if not config:
        return ""
    rows = "".join(f"| {k} | {args[k]} |\n" for k in HYPER if k in args)
    data = (
        f"`{config['dataset']}` ({config.get('train_split')} split)"
        if config.get("dataset")
        else config.get("train_split")
    )
    flags = " ".join(f"--{k} {v}" for k, v in config.items() if v not in (None, False) and k != "output_dir")
    flags += " " + " ".join(f"--{k} {args[k]}" for k in HYPER if k in args)
    command = f"\nCommand: `xenc train {flags.strip()}`\n" if config.get("dataset") else ""
    return (
        f"## Training\n\nData: {data}; loss: `{config.get('loss') or 'the task default'}`; best model chosen on "
        f"{config.get('eval_split')}.\n\n| hyperparameter | value |\n|---|---|\n{rows}{command}"
    )


def _scores(metrics: dict) -> str:
    names = sorted({k.split("_", 1)[1] for k in metrics if k.startswith(("test_", "eval_"))
                    and isinstance(metrics[k], float) and not k.endswith(("_runtime", "_per_second"))})  # fmt: skip
    if not names:
        return ""
    cell = lambda key: f"{metrics[key]:.4f}" if isinstance(metrics.get(key), float) else "-"  # noqa: E731
    rows = "".join(f"| {n} | {cell('untrained_' + n)} | {cell('eval_' + n)} | {cell('test_' + n)} |\n" for n in names)
    return f"## Scores\n\n| metric | before training (dev) | dev | test |\n|---|---|---|---|\n{rows}"


def _provenance(run: dict, max_length: int) -> str:
    env, metrics = run.get("environment", {}), run.get("metrics", {})
    if not env:
        return ""
    wall = f", {metrics['wall_time_s']:.0f} s wall" if "wall_time_s" in metrics else ""
    versions = ", ".join(f"{k} {env[k]}" for k in ("torch", "transformers", "xenc") if k in env)
    return (
        f"## Environment and limits\n\n{env.get('device', '')} on {env.get('cpu', 'an unrecorded CPU')}{wall}; "
        f"{versions}; commit {env.get('commit')}. English text; at most {max_length} tokens per pair.\n"
    )


def write_card(folder: str | Path, text: str) -> None:
    """Write `text` as `folder/README.md`, unless a README.md that xenc did not write is there: a user's own is kept
    (with a warning)."""
    path = Path(folder) / "README.md"
    if path.exists() and MARK not in path.read_text(errors="replace"):
        logger.warning("%s is not a card xenc wrote; kept as it is (no model card written).", path)
        return
    partial = path.with_name(f".README.md.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)
