"""Ranking losses on equal footing: one `minilm-l6` reranker per loss (and seed) on TrecQA, same data and candidates.

Usage (from the repository root; about 6 minutes per run on 2 CPU cores):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/trecqa_losses.py \
        --teacher runs/reproduce-trecqa-mpnet/seed-42 [--losses bce listwise ...] [--seeds 42 43 44]

Every run is the `trecqa` recipe with only `--loss` changed (and `--teacher` for the distillation losses): groups of
1 right + 7 wrong candidates of a question, batch 4 groups (bce: the same 4,718 flat pairs, batch 32 = 4 x 8),
3 epochs with the best epoch on dev MAP kept. Finished runs (results.json) are kept, so a stopped sweep continues.
Writes results/trecqa_losses[_<tag>].md and .json: dev / test MAP and MRR@10 over the clean questions, mean ± std over
seeds (the .json also keeps every run's own metrics, so later seeds can be pooled with these).
"""

import argparse
import json
from pathlib import Path

import numpy as np
from _bench import markdown_table, report

from xenc.recipes import RECIPES
from xenc.tasks import GROUP_LOSSES
from xenc.train import main, parse_args

KEYS = {"eval_map": "dev MAP", "eval_mrr@10": "dev MRR", "test_map": "test MAP", "test_mrr@10": "test MRR"}


def run(loss: str, seed: int, teacher: str | None, output_dir: Path, train: bool = True) -> dict | None:
    folder = output_dir / f"{loss}-seed-{seed}"
    if not (folder / "results.json").exists():
        if not train:
            return None
        flags = [*RECIPES["trecqa"], "--loss", loss, "--seed", str(seed), "--output_dir", str(folder)]
        if loss == "bce":  # flat pairs: as many pairs per step as 4 groups of 8
            flags += ["--per_device_train_batch_size", "32"]
        if loss in ("margin_mse", "kl"):
            flags += ["--teacher", teacher]
        main(*parse_args(flags))
    return json.loads((folder / "results.json").read_text())["metrics"]


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", nargs="*", default=["bce", *GROUP_LOSSES])
    parser.add_argument("--seeds", nargs="*", type=int, default=[42])
    parser.add_argument("--teacher", help="a trained cross-encoder for margin_mse / kl")
    parser.add_argument("--output_dir", default="runs/trecqa-losses")
    parser.add_argument("--finished", action="store_true", help="train nothing: the table of the runs already done")
    parser.add_argument("--tag", help="appended to the results' file name (trecqa_losses_<tag>)")
    args = parser.parse_args()
    rows, per_run = [], {}
    for loss in args.losses:
        if loss in ("margin_mse", "kl") and not args.teacher:
            raise SystemExit(f"--loss {loss} needs --teacher (a trained cross-encoder folder).")
        results = [run(loss, seed, args.teacher, Path(args.output_dir), not args.finished) for seed in args.seeds]
        kept = (*KEYS, "train_runtime")
        per_run[loss] = {seed: {k: r[k] for k in kept} for seed, r in zip(args.seeds, results) if r}
        results = [r for r in results if r is not None]
        if not results:
            continue
        row = {"loss": loss, "seeds": len(results), "train_s": np.mean([r["train_runtime"] for r in results])}
        for key in KEYS:
            values = [r[key] for r in results]
            row[key] = f"{np.mean(values):.4f}" + (f" ± {np.std(values, ddof=1):.4f}" if len(values) > 1 else "")
        rows.append(row)
        print(row, flush=True)
    columns = {"loss": ("loss", "s"), "seeds": ("seeds", "d"), **{k: (v, "s") for k, v in KEYS.items()},
               "train_s": ("training s (mean)", ".0f")}  # fmt: skip
    seeds = f"seeds {args.seeds}" + (" (those finished: the seeds column)" if args.finished else "")
    title = f"TrecQA rerankers by loss, minilm-l6, {seeds}" + (f", teacher {args.teacher}" if args.teacher else "")
    name = "trecqa_losses" + (f"_{args.tag}" if args.tag else "")
    report(name, title, markdown_table(rows, columns), {"rows": rows, "runs": per_run, "args": vars(args)})


if __name__ == "__main__":
    main_()
