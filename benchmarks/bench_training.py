"""Training speed, side by side: xenc `CrossEncoderTrainer` (the `stsb` recipe) vs sentence-transformers'.

Usage (from the repository root; about 4 minutes on 2 CPU cores):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/bench_training.py
    ... bench_training.py --xenc-flags "--dataloader_num_workers 1"      # try a Trainer option on xenc's side
    ... bench_training.py --n 160 --reps 1                                # a quick smoke run

Both train minilm-l6 with a fresh one-label head on STSb train for one epoch in this process: BCE, batch 16,
lr 8e-5, 10% warmup, seed 42. xenc runs its `stsb` recipe (`xenc.recipes.RECIPES`: pre-tokenized Dataset,
length batches in shuffled order, no padding to a multiple of 8 in fp32 on CPU) with evaluation and saving
off; the peer runs its own recipe (`train_peer_sts`). With `--reps` above 1 the order
alternates. Columns: samples/s of `trainer.train()` (median, min-max; xenc's untrained evaluation at step 0 is
subtracted), the ratio to the peer, peak memory above the level before training, STSb test Spearman. Writes
benchmarks/results/training_stsb.{md,json}. Needs the `bench` extra.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import tempfile

from _bench import PeakMemory, markdown_table, rate_summary, report

from xenc import resolve_model, sts_metrics
from xenc.data import load
from xenc.recipes import RECIPES
from xenc.train import main, parse_args

COLUMNS = {
    "name": ("contender", "s"), "rate": ("train samples/s (median)", ".1f"), "min_max": ("min-max", "s"),
    "x_peer": ("x peer", ".2f"), "peak_mib": ("peak MiB", ".0f"), "spearman": ("STSb test Spearman", ".4f"),
    "runtime": ("train time s (median)", ".0f"),
}  # fmt: skip
PEER = "sentence-transformers CrossEncoderTrainer (peer)"


def train_xenc(epochs: float, seed: int, n: int | None, extra: list[str]) -> tuple[float, int, float]:
    """Training time (s), samples and test Spearman of one run of the `stsb` recipe."""
    with tempfile.TemporaryDirectory() as tmp:
        flags = [*RECIPES["stsb"], "--num_train_epochs", str(epochs), "--seed", str(seed), "--output_dir", tmp,
                 "--eval_strategy", "no", "--save_strategy", "no", "--load_best_model_at_end", "false",
                 "--disable_tqdm", "true", *(["--max_train_samples", str(n)] if n else []), *extra]  # fmt: skip
        metrics = main(*parse_args(flags))
    runtime = metrics["train_runtime"] - metrics.get("untrained_runtime", 0.0)  # train() evaluates on start
    return runtime, round(metrics["train_pairs"] * epochs), metrics["test_spearman"]


def train_peer_sts(epochs: float, seed: int, n: int | None, test) -> tuple[float, int, float]:
    """Training time (s), samples and test Spearman of one run of the peer's STSb recipe (its `CrossEncoderTrainer`,
    BCE, batch 16, lr 8e-5, 10% warm-up)."""
    from sentence_transformers import cross_encoder as st
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    model = st.CrossEncoder(resolve_model("minilm-l6"), num_labels=1)
    with tempfile.TemporaryDirectory() as tmp:
        args = st.CrossEncoderTrainingArguments(
            output_dir=tmp, num_train_epochs=epochs, per_device_train_batch_size=16, learning_rate=8e-5,
            warmup_steps=0.1, seed=seed, save_strategy="no", eval_strategy="no", report_to="none",
        )  # fmt: skip
        train = load("stsb", split="train")
        train = train.select(range(min(n, len(train)))) if n else train
        loss = BinaryCrossEntropyLoss(model)
        metrics = st.CrossEncoderTrainer(model=model, args=args, train_dataset=train, loss=loss).train().metrics
    samples = round(metrics["train_samples_per_second"] * metrics["train_runtime"])
    scores = model.predict(list(zip(test["sentence1"], test["sentence2"])))
    return metrics["train_runtime"], samples, sts_metrics(scores, test["label"])["spearman"]


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--n", type=int, default=None, help="first n training pairs (smoke runs)")
    parser.add_argument("--xenc-flags", default="", help="extra `xenc train` flags for xenc's run")
    args = parser.parse_args()
    test = load("stsb")["test"]
    contenders = {
        PEER: lambda: train_peer_sts(args.epochs, args.seed, args.n, test),
        "xenc CrossEncoderTrainer, recipe stsb": lambda: train_xenc(
            args.epochs, args.seed, args.n, shlex.split(args.xenc_flags)
        ),
    }
    runs = {name: {"runtimes": [], "samples": 0, "spearman": [], "peak_mib": 0.0} for name in contenders}
    for rep in range(args.reps):
        for name in list(contenders)[rep % 2 :] + list(contenders)[: rep % 2]:
            with PeakMemory() as memory:
                runtime, samples, spearman = contenders[name]()
            run = runs[name]
            run["runtimes"].append(runtime)
            run["samples"] = samples
            run["spearman"].append(spearman)
            run["peak_mib"] = max(run["peak_mib"], memory.peak_mib)
    peer_rate = rate_summary(runs[PEER]["runtimes"], runs[PEER]["samples"])["rate"]
    rows = [
        {"name": name, **rate_summary(run["runtimes"], run["samples"], peer_rate), "peak_mib": run["peak_mib"],
         "spearman": statistics.median(run["spearman"]), "runtime": statistics.median(run["runtimes"])}
        for name, run in runs.items()
    ]  # fmt: skip
    title = (f"Training, STSb train ({runs[PEER]['samples']} samples, {args.epochs:g} epoch), minilm-l6, batch 16, "
             f"lr 8e-5, 10% warmup, seed {args.seed}, {args.reps} reps")  # fmt: skip
    report("training_stsb", title, markdown_table(rows, COLUMNS), {"rows": rows, "xenc_flags": args.xenc_flags})


if __name__ == "__main__":
    main_bench()
