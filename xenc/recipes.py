"""Named training recipes and their multi-seed reproduction: `xenc reproduce stsb` = 3 seeds + mean ± std."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

# flags on top of xenc.train.DEFAULTS; each recipe says what it reproduces
# shared by every CPU run below: minilm-l6, batch 16, lr 8e-5, 10% warmup, 128 tokens, length batches
_CPU = [
    "--model", "minilm-l6", "--learning_rate", "8e-5", "--per_device_train_batch_size", "16", "--warmup_steps", "0.1",
    "--max_length", "128", "--length_batches", "true",
]  # fmt: skip
_MPNET = [*_CPU, "--model", "mpnet-base", "--learning_rate", "3e-5", "--bf16", "true"]
_TRECQA = ["--dataset", "trecqa", "--loss", "listwise", "--num_negatives", "7", "--num_train_epochs", "3",
           "--per_device_train_batch_size", "4", "--max_length", "128"]  # fmt: skip
RECIPES: dict[str, list[str]] = {
    # STSb regression: BCE on 0..1 scores, 4 epochs
    "stsb": ["--dataset", "stsb", "--num_train_epochs", "4", *_CPU],
    # SICK entailment (3 classes), from the SNLI stage of `PRETRAIN`: cross-entropy with label smoothing 0.1, 4 epochs;
    # TRAIN in both directions (B-to-A pairs labelled by SICK's own entailment_BA), selected on TRIAL, reported on TEST
    "sick-e": ["--dataset", "sick-e-both", "--num_train_epochs", "4", *_CPU, "--label_smoothing_factor", "0.1"],
    # the same tasks from all-mpnet-base-v2 (110M): lr 3e-5, bf16 (CPU: ~2x fp32's speed); the best epoch on dev kept
    "stsb-mpnet": ["--dataset", "stsb", "--num_train_epochs", "3", *_MPNET],
    # TrecQA answer selection: listwise over 1 right + 7 wrong candidates of a question (chosen over lambda on dev MAP)
    "trecqa": [*_TRECQA, "--model", "minilm-l6", "--learning_rate", "5e-5"],
    # the same from all-mpnet-base-v2: lr 3e-5, bf16
    "trecqa-mpnet": [*_TRECQA, "--model", "mpnet-base", "--learning_rate", "3e-5", "--bf16", "true"],
    # the same from the `stsb-mpnet` recipe's cross-encoder (its `PRETRAIN` stage): a trained pair head to start from
    "trecqa-mpnet-sts": [*_TRECQA, "--learning_rate", "3e-5", "--bf16", "true"],
    "sick-e-mpnet": [
        "--dataset",
        "sick-e-both",
        "--num_train_epochs",
        "2",
        *_MPNET,
        "--label_smoothing_factor",
        "0.1",
    ],  # fmt: skip
}
# Bi-encoders on the same data, epochs and selection rule (best epoch on dev) as the cross-encoder recipe of the same
# name, with SBERT's bi-encoder settings (lr 2e-5, batch 16, 10% warm-up) and the task's bi-encoder loss: cosine for
# STSb, softmax over (u, v, |u - v|) for SICK-E (after the same SNLI stage), in-batch negatives for TrecQA
_BI = ["--encoder", "bi", "--learning_rate", "2e-5", "--per_device_train_batch_size", "16", "--warmup_steps", "0.1",
       "--max_length", "128"]  # fmt: skip
RECIPES.update({
    "stsb-bi": ["--dataset", "stsb", "--num_train_epochs", "4", "--model", "minilm-l6", *_BI,
                "--length_batches", "true"],
    "stsb-mpnet-bi": ["--dataset", "stsb", "--num_train_epochs", "3", "--model", "mpnet-base", *_BI,
                      "--length_batches", "true", "--bf16", "true"],
    "sick-e-bi": ["--dataset", "sick-e-both", "--num_train_epochs", "4", *_BI, "--length_batches", "true"],
    "trecqa-bi": ["--dataset", "trecqa", "--num_negatives", "7", "--num_train_epochs", "3", "--model", "minilm-l6",
                  *_BI],  # random batches: in-batch negatives of one length would be easier than the test's
})  # fmt: skip
# a first stage whose saved model is the base of the recipe's run (NLI before SICK-E: one epoch on SNLI's 9,842
# validation pairs, the only SNLI training data the mirror holds; SNLI test stays unseen apart from 1000 pairs scored)
PRETRAIN: dict[str, list[str]] = {
    "sick-e": [
        "--dataset", "snli", "--train_split", "validation", "--eval_split", "test", "--test_split", "none",
        "--max_eval_samples", "1000", "--num_train_epochs", "1", *_CPU, "--eval_strategy", "no",
        "--save_strategy", "no", "--load_best_model_at_end", "false",
    ],
    "trecqa-mpnet-sts": RECIPES["stsb-mpnet"],
}  # fmt: skip
PRETRAIN["sick-e-bi"] = [*PRETRAIN["sick-e"], "--model", "minilm-l6", *_BI]
SEEDS = (42, 43, 44)
SUMMARY_KEYS = ("test_spearman", "test_pearson", "test_accuracy", "test_macro_f1", "test_map", "test_mrr@10",
                "eval_spearman", "eval_accuracy", "eval_map", "eval_mrr@10")  # fmt: skip


def summarize_runs(run_dirs: list[str | Path]) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation (ddof=1) over runs of each test/eval metric and the wall time."""
    results = [json.loads((Path(d) / "results.json").read_text())["metrics"] for d in run_dirs]
    for result, folder in zip(results, run_dirs):  # a PRETRAIN stage's time counts too
        if (Path(folder) / "pretrain" / "results.json").exists():
            pretrain = json.loads((Path(folder) / "pretrain" / "results.json").read_text())["metrics"]
            result["pretrain_wall_time_s"] = pretrain["wall_time_s"]
    keys = [k for k in (*SUMMARY_KEYS, "wall_time_s", "pretrain_wall_time_s") if all(k in r for r in results)]
    return {
        k: (float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0)
        for k in keys
        for v in [[r[k] for r in results]]
    }


def recipe_results(
    recipe: str, folder: str | Path, recorded: str | Path | None = None, seeds: list[int] | None = None
) -> tuple[list[dict], str]:
    """The `results.json` of each finished seed of `xenc reproduce recipe` in `folder` (only `seeds` when given),
    and one line naming the runs for a results table (recipe, seeds, commit, date); `([], "")` when no seed has
    finished.

    With `recorded` (a folder of `record_runs` files, e.g. the repository's `benchmarks/results/recipes`), a recipe
    never run here is read from its committed record instead, and the line starts with "recorded:".
    """
    files = sorted(Path(folder).glob("seed-*/results.json"))
    if seeds is not None:  # the runs compared with others of these seeds only
        files = [p for p in files if p.parent.name.removeprefix("seed-") in {str(s) for s in seeds}]
    if not files:
        return read_record(recipe, recorded) if recorded else ([], "")
    results = [json.loads(p.read_text()) for p in files]
    seeds = "/".join(p.parent.name.removeprefix("seed-") for p in files)
    commits = sorted({r.get("environment", {}).get("commit") or "not recorded" for r in results})
    day = time.strftime("%Y-%m-%d", time.gmtime(max(p.stat().st_mtime for p in files)))
    return results, f"`xenc reproduce {recipe}`, seeds {seeds}, commit {', '.join(commits)}, {day}, {folder}"


RECORD_KEYS = (*SUMMARY_KEYS, "wall_time_s", "train_runtime")


def record_runs(recipe: str, folder: str | Path, extra: list[str] | None = None) -> dict:
    """A small record of the finished seeds in `folder` to commit (no weights): the command, the recipe's flags and
    per seed the test/dev metrics, wall time, date and environment (commit, CPU, versions)."""
    files = sorted(Path(folder).glob("seed-*/results.json"))
    if not files:
        raise FileNotFoundError(f"No finished seed (seed-N/results.json) in {folder}: run `xenc reproduce {recipe}`.")
    seeds = {}
    for path in files:
        result = json.loads(path.read_text())
        metrics = {k: v for k, v in result["metrics"].items() if k in RECORD_KEYS}
        day = time.strftime("%Y-%m-%d", time.gmtime(path.stat().st_mtime))
        seeds[path.parent.name.removeprefix("seed-")] = {"metrics": metrics, "date": day,
                                                         "environment": result.get("environment", {})}  # fmt: skip
    command = " ".join(["xenc reproduce", recipe, *(["--extra", *extra] if extra else [])])
    return {"recipe": recipe, "command": command, "flags": RECIPES.get(recipe), "seeds": seeds}


def write_record(recipe: str, folder: str | Path, records: str | Path, extra: list[str] | None = None) -> Path:
    """`record_runs` written to `records/recipe.json`; returns its path."""
    path = Path(records) / f"{recipe}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record_runs(recipe, folder, extra), indent=2) + "\n")
    return path


def read_record(recipe: str, records: str | Path) -> tuple[list[dict], str]:
    """A committed record as `recipe_results` returns runs: `([], "")` when `records` holds none for `recipe`."""
    path = Path(records) / f"{recipe}.json"
    if not path.exists():
        return [], ""
    record = json.loads(path.read_text())
    results = [{"metrics": s["metrics"], "environment": s["environment"]} for s in record["seeds"].values()]
    seeds = record["seeds"].values()
    commits = ", ".join(sorted({s["environment"].get("commit") or "not recorded" for s in seeds}))
    cpus = ", ".join(sorted({s["environment"].get("cpu", "CPU not recorded").split(" (")[0] for s in seeds}))
    day = max(s["date"] for s in seeds)
    line = f"`{record['command']}`, seeds {'/'.join(record['seeds'])}, commit {commits}, {day}, {cpus}"
    return results, f"recorded: {line} ({path.name})"


def _output(folder: Path) -> list[str]:
    """`--output_dir folder`, resuming from its last complete checkpoint when an earlier attempt was stopped."""
    stopped = any(folder.glob("checkpoint-*/trainer_state.json"))
    return ["--output_dir", str(folder), *(["--resume_from_checkpoint", "true"] if stopped else [])]


def claim_folder(folder: Path, recipe: str) -> None:
    """Mark `folder` as `recipe`'s (`recipe.txt`); refuse a folder that another recipe's runs already hold."""
    mark = folder / "recipe.txt"
    if mark.exists() and mark.read_text().strip() != recipe:
        raise FileExistsError(f"{folder} holds a run of recipe {mark.read_text().strip()!r}, not {recipe!r}; "
                              "pass another --output_dir.")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    mark.write_text(recipe + "\n")


def train_seed(recipe: str, folder: str | Path, seed: int, extra: list[str] | None = None) -> Path:
    """Train `recipe` once, with `seed`, into `folder` (kept when its `results.json` exists); returns the folder.

    A recipe with a `PRETRAIN` stage first trains that into `folder/pretrain` and starts the recipe's run from it;
    `extra` flags go to both stages (a `--model` in them picks the first stage's base). A run stopped mid-way resumes
    from its last complete checkpoint.
    """
    from .train import main, parse_args

    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; known: {list(RECIPES)}.")
    folder, extra = Path(folder), list(extra or [])
    claim_folder(folder, recipe)
    if (folder / "results.json").exists():
        logger.warning("%s: finished (results.json); kept, not run again.", folder)
        return folder
    base = []
    if recipe in PRETRAIN:
        pretrain = folder / "pretrain"
        if not (pretrain / "results.json").exists():
            main(*parse_args([*PRETRAIN[recipe], "--seed", str(seed), *_output(pretrain), *extra]))
        base = ["--model", str(pretrain)]
    main(*parse_args([*RECIPES[recipe], "--seed", str(seed), *_output(folder), *extra, *base]))
    return folder


def reproduce(recipe: str, output_dir: str, seeds=SEEDS, extra: list[str] | None = None) -> dict:
    """Run `recipe` once per seed into `output_dir/seed-N` (`train_seed`) and return the summary of the runs.

    A seed whose `results.json` exists is finished and kept, so a reproduction stopped continues where it stopped
    when the same command runs again: finished seeds are kept, a seed stopped mid-run resumes from its last complete
    checkpoint.
    """
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"Seeds {list(seeds)} repeat one; a repeated seed is the same run, not another sample.")
    dirs = [train_seed(recipe, Path(output_dir) / f"seed-{seed}", seed, extra) for seed in seeds]
    return summarize_runs(dirs)
