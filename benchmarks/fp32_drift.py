"""How far apart are fp32 scores that differ only in the order of their arithmetic? torch fp32 (batch 32, the
threads torch has) against itself run again, at batch 1, on 1 thread, and against OpenVINO fp32 (xenc's exact path).

Usage (from the repository root; the model is a `xenc reproduce stsb-mpnet --seeds 42` run):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/fp32_drift.py \
        --model runs/reproduce-stsb-mpnet/seed-42 --tag amd-mpnet

Scores the 1,379 STSb test pairs each way; writes results/fp32_drift_TAG.json and .md: per way the largest and the
median absolute score difference from the reference, the pairs past 1e-5, the largest pair scored alone, and the
test Spearman change.
"""

import argparse

import numpy as np
import torch
from _bench import load_pairs, markdown_table, report

from xenc import CrossEncoder
from xenc.metrics import sts_metrics
from xenc.runs import environment


def scores(model: str, pairs: list, threads: int, batch: int, **options) -> np.ndarray:
    torch.set_num_threads(threads)
    encoder = CrossEncoder(model, **options)
    return np.asarray(encoder.predict(pairs, batch_size=batch, show_progress_bar=False), dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--tag", required=True)
    args = parser.parse_args()
    pairs, labels = load_pairs("stsb", None)
    threads = torch.get_num_threads()
    ref = scores(args.model, pairs, threads, 32)
    ways = {"torch fp32, batch 32 (again)": scores(args.model, pairs, threads, 32),
            "torch fp32, batch 1": scores(args.model, pairs, threads, 1),
            "torch fp32, 1 thread": scores(args.model, pairs, 1, 32),
            "OpenVINO fp32": scores(args.model, pairs, threads, 32, backend="openvino", precision="fp32")}  # fmt: skip
    torch.set_num_threads(threads)
    base = sts_metrics(ref, labels)["spearman"]
    rows = []
    for name, s in ways.items():
        diff = np.abs(s - ref)
        worst = int(np.argmax(diff))
        alone = scores(args.model, [pairs[worst]], threads, 1, **options_of(name))[0]
        change = sts_metrics(s, labels)["spearman"] - base
        rows.append({"way": name, "largest": diff.max(), "median": np.median(diff), "over": int((diff > 1e-5).sum()),
                     "alone": abs(alone - ref[worst]), "change": change})  # fmt: skip
    columns = {"way": ("against torch fp32, batch 32", "s"), "largest": ("largest difference", ".1e"),
               "median": ("median", ".1e"), "over": ("pairs > 1e-5", "d"), "alone": ("largest pair alone", ".1e"),
               "change": ("test Spearman change", "+.1e")}  # fmt: skip
    title = f"fp32 drift, STSb test ({len(pairs):,} pairs), model {args.model}, {threads} threads"
    table = markdown_table(rows, columns)
    report(f"fp32_drift_{args.tag}", title, table, {"rows": rows, "environment": environment()})


def options_of(name: str) -> dict:
    return {"backend": "openvino", "precision": "fp32"} if name.startswith("OpenVINO") else {}


if __name__ == "__main__":
    main()
