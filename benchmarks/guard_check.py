"""Does the quality guard hold on test? For each trained model, precision and `token_keep`: the guard's decision on
the model's own dev pairs (its default) and the change of the test metric against exact torch fp32.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/guard_check.py \
        runs/reproduce-stsb/seed-42 runs/reproduce-stsb-mpnet/seed-42 runs/reproduce-sick-e/seed-42 \
        runs/reproduce-trecqa/seed-42

Each fast path is scored whatever its guard says (`quality_tolerance=1.0`), so its test change is measured even where
the guard refuses it; the decision column applies the default tolerance to the guard's bound, as `predict` does. The
guard holds when every accepted path changes the test metric by at most the tolerance. Writes results/guard_check.*.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _bench import markdown_table, report

from xenc import CrossEncoder
from xenc.backends import QUALITY_TOLERANCE
from xenc.guard import task_metric, trained_split

COLUMNS = {"model": ("model", "s"), "path": ("path", "s"), "metric": ("metric", "s"), "pairs": ("guard pairs", "d"),
           "dev_change": ("guard change", "+.4f"), "bound": ("guard bound", ".4f"), "decision": ("guard", "s"),
           "test_change": ("test change", "+.4f"), "holds": ("holds on test", "s")}  # fmt: skip


def test_split(model: str) -> tuple[list, np.ndarray, np.ndarray | None]:
    """The test pairs, labels and (ranking data) query ids of the data set the model was trained on."""
    test = trained_split(model, "test")
    qids = np.asarray(test["qid"]) if "qid" in test.column_names else None
    return list(zip(test["sentence1"], test["sentence2"])), np.asarray(test["label"]), qids


def logits(model: CrossEncoder, pairs: list) -> np.ndarray:
    return np.asarray(model.predict(pairs, batch_size=32, activation_fn=torch.nn.Identity())).reshape(len(pairs), -1)


def check_model(model: str, tolerance: float, keeps: list[float]) -> list[dict]:
    pairs, labels, qids = test_split(model)
    metric, exact = task_metric(logits(CrossEncoder(model), pairs), labels, qids)
    rows = []
    for precision, keep in [(p, k) for k in keeps for p in ("bf16", "int8")]:
        fast = CrossEncoder(model, backend="openvino", precision=precision, token_keep=keep, quality_tolerance=1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test_change = task_metric(logits(fast, pairs), labels, qids)[1] - exact
        check = fast.quality_check
        accepted = check["change_bound"] <= tolerance
        rows.append(
            {
                "model": model,
                "path": check["path"],
                "metric": metric,
                "pairs": check["pairs"],
                "dev_change": check["fast"] - check["fp32"],
                "bound": check["change_bound"],
                "decision": "accepts" if accepted else "refuses",
                "test_change": test_change,
                "holds": ("yes" if abs(test_change) <= tolerance else "NO") if accepted else "n/a (exact)",
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="folders written by `xenc train` / `xenc reproduce`")
    parser.add_argument("--tolerance", type=float, default=QUALITY_TOLERANCE)
    parser.add_argument("--token_keep", type=float, nargs="+", default=[1.0, 0.5], help="each with bf16 and int8")
    parser.add_argument("--tag", help="appended to the results' file name (guard_check_<tag>)")
    args = parser.parse_args()
    rows = [row for model in args.models for row in check_model(model, args.tolerance, args.token_keep)]
    accepted = [r for r in rows if r["decision"] == "accepts"]
    held = sum(r["holds"] == "yes" for r in accepted)
    title = (f"The quality guard on test (tolerance {args.tolerance}): {held} of {len(accepted)} accepted paths "
             f"within it, {len(rows) - len(accepted)} refused")  # fmt: skip
    report("guard_check" + (f"_{args.tag}" if args.tag else ""), title, markdown_table(rows, COLUMNS), {"rows": rows})


if __name__ == "__main__":
    main()
