"""Does the quality guard hold on test? For each trained model, precision and `token_keep`: the guard's decision on
the model's own dev pairs (its default) and the change of the test metric against exact torch fp32.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/guard_check.py \
        runs/reproduce-stsb/seed-42 runs/reproduce-stsb-mpnet/seed-42 runs/reproduce-sick-e/seed-42 \
        runs/reproduce-trecqa/seed-42 runs/rerank_sweep/listwise --tag NAME

Each fast path is scored whatever its guard says (`quality_tolerance=1.0`), so its test change is measured even where
the guard refuses it; the decision column applies the default tolerance to the guard's bound, as `predict` does. The
guard holds when every accepted path changes the test metric by at most the tolerance. A SciFact reranker of
`rerank_sweep.py` is read on NDCG@10 of its first stage's top 10 and guarded by MAP on the dev claims' top 10
(`_bench.scifact_rerank`). Writes results/guard_check[_<tag>].*.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from _bench import markdown_table, report, rerank_ndcg, scifact_rerank

from xenc import CrossEncoder
from xenc.backends import QUALITY_TOLERANCE
from xenc.guard import has_own_pairs, task_metric, trained_split

COLUMNS = {"model": ("model", "s"), "path": ("path", "s"), "metric": ("metric", "s"), "pairs": ("guard pairs", "d"),
           "dev_change": ("guard change", "+.4f"), "bound": ("guard bound", ".4f"), "decision": ("guard", "s"),
           "test_change": ("test change", "+.4f"), "holds": ("holds on test", "s")}  # fmt: skip


def test_task(model: str, first_stage: Path) -> tuple[list, Callable, dict]:
    """The model's test pairs, the test metric of their logits as (name, value), and its scoring options. A model
    trained by `xenc train` is read on its own test split and guarded on its own dev pairs; any other is taken for a
    SciFact reranker (`rerank_sweep.py`): NDCG@10 of the first stage's top 10 for the test claims at 256 tokens,
    calibrated on training claims, guarded on the first stage's candidates for the held-out dev claims (MAP)."""
    if has_own_pairs(model):
        test = trained_split(model, "test")
        labels, qids = np.asarray(test["label"]), np.asarray(test["qid"]) if "qid" in test.column_names else None
        return list(zip(test["sentence1"], test["sentence2"])), lambda x: task_metric(x, labels, qids), {}
    rerank = scifact_rerank(first_stage, 10)
    test, guard = rerank["test"], rerank["guard"]
    guard_pairs = ([tuple(p) for p in guard["pairs"]], np.asarray(guard["labels"]), np.asarray(guard["qids"]))
    calibration = [tuple(p) for p in rerank["calibration"]]
    options = {"max_length": 256, "calibration_pairs": calibration, "guard_pairs": guard_pairs}

    def ndcg(x: np.ndarray) -> tuple[str, float]:
        return "ndcg@10", rerank_ndcg(test["ids"], x[:, 0], test["run"], test["qrels"], 10)

    return test["pairs"], ndcg, options


def logits(model: CrossEncoder, pairs: list) -> np.ndarray:
    return np.asarray(model.predict(pairs, batch_size=32, activation_fn=torch.nn.Identity())).reshape(len(pairs), -1)


def check_model(model: str, tolerance: float, keeps: list[float], first_stage: Path) -> list[dict]:
    pairs, test_metric, options = test_task(model, first_stage)
    metric, exact = test_metric(logits(CrossEncoder(model, max_length=options.get("max_length")), pairs))
    rows = []
    for precision, keep in [(p, k) for k in keeps for p in ("bf16", "int8")]:
        fast = CrossEncoder(model, backend="openvino", precision=precision, token_keep=keep, quality_tolerance=1.0,
                            **options)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test_change = test_metric(logits(fast, pairs))[1] - exact
        check = fast.quality_check
        accepted = check["change_bound"] <= tolerance
        rows.append(
            {
                "model": model,
                "path": check["path"],
                "metric": metric if check["metric"] == metric else f"{check['metric']} / {metric}",
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
    parser.add_argument("models", nargs="+", help="xenc train / reproduce folders, or rerank_sweep.py's")
    parser.add_argument("--tolerance", type=float, default=QUALITY_TOLERANCE)
    parser.add_argument("--token_keep", type=float, nargs="+", default=[1.0, 0.5], help="each with bf16 and int8")
    parser.add_argument("--tag", help="appended to the results' file name (guard_check_<tag>)")
    parser.add_argument("--first_stage", default="runs/rerank_sweep/first_stage.json", help="rerank_sweep.py's cache")
    args = parser.parse_args()
    first_stage = Path(args.first_stage)
    rows = [row for model in args.models for row in check_model(model, args.tolerance, args.token_keep, first_stage)]
    accepted = [r for r in rows if r["decision"] == "accepts"]
    held = sum(r["holds"] == "yes" for r in accepted)
    title = (f"The quality guard on test (tolerance {args.tolerance}): {held} of {len(accepted)} accepted paths "
             f"within it, {len(rows) - len(accepted)} refused")  # fmt: skip
    report("guard_check" + (f"_{args.tag}" if args.tag else ""), title, markdown_table(rows, COLUMNS), {"rows": rows})


if __name__ == "__main__":
    main()
