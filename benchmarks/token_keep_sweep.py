"""What `token_keep` buys and costs on one SciFact reranker: its OpenVINO int8 scorer at several keeps, side by side.

Usage (from the repository root, nothing else running; about 30 minutes for `mpnet-base`):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/token_keep_sweep.py \
        runs/rerank_sweep/listwise-mpnet-base [--keeps 1 0.7 0.5 0.3] [--rounds 3]

Every row is `CrossEncoder(model, backend="openvino", precision="int8", token_keep=keep)` as a user builds it,
calibrated and guarded on bench_backends.py's SciFact train pairs (the guard's tolerance lifted, so every keep is
measured), beside OpenVINO fp32 (exact, the reference). Columns: the guard's Spearman on its 400 held-out train pairs
(what xenc checks before use), NDCG@10 of the hybrid's top 10 reranked for the 300 test claims, and pairs/s on
bench_backends.py's 339 test pairs (batch 32, max_length 256), rounds in rotated order. Writes
results/token_keep_<model folder name>.{md,json}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _bench import markdown_table, rate_summary, report, time_alternating
from bench_backends import rerank_ndcg, scifact_calibration, scifact_candidates
from bench_inference import load_pairs

from xenc import CrossEncoder

COLUMNS = {"name": ("scorer", "s"), "guard": ("guard Spearman", ".4f"), "ndcg": ("SciFact NDCG@10", ".4f"),
           "delta": ("change", "+.4f"), "rate": ("pairs/s (median)", ".1f"), "min_max": ("min-max", "s"),
           "x_peer": ("x keep 1", ".2f")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a trained one-output SciFact reranker (BERT family or MPNet)")
    parser.add_argument("--keeps", nargs="+", type=float, default=[1.0, 0.7, 0.5, 0.3])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first_stage", default="runs/rerank_sweep/first_stage.json", help="rerank_sweep.py's cache")
    args = parser.parse_args()
    calibration, guard = scifact_calibration(np.random.default_rng(0))  # as bench_backends.py draws them
    guard = ([tuple(p) for p in guard["pairs"]], np.asarray(guard["labels"]))
    ids, candidates, run, qrels = scifact_candidates(Path(args.first_stage), 10)
    pairs, _ = load_pairs("scifact", None)
    scorers = {"openvino fp32": CrossEncoder(args.model, max_length=256, backend="openvino")}
    for keep in args.keeps:
        scorers[f"int8, token_keep {keep:g}"] = CrossEncoder(
            args.model, max_length=256, backend="openvino", precision="int8", calibration_pairs=calibration,
            guard_pairs=guard, quality_tolerance=1.0, token_keep=keep,
        )  # fmt: skip
    rows = []
    for name, ce in scorers.items():
        scores = ce.predict(candidates, batch_size=32, show_progress_bar=True)  # builds, checks, then reranks
        ndcg = rerank_ndcg(ids, scores, run, qrels, 10)
        check = ce.quality_check or {}
        rows.append({"name": name, "ndcg": ndcg, "guard": check.get("int8"), "fp32_guard": check.get("fp32")})
        print(f"{name}: NDCG@10 {ndcg:.4f}, guard {check}", flush=True)
    for row in rows:
        row["delta"] = row["ndcg"] - rows[0]["ndcg"]
    rows[0]["guard"] = rows[1]["fp32_guard"] if len(rows) > 1 else None  # torch fp32 on the guard pairs
    quiet = {"batch_size": 32, "show_progress_bar": False}
    runs = {name: lambda ce=ce: ce.predict(pairs, **quiet) for name, ce in scorers.items()}
    timed = time_alternating(runs, args.rounds)
    base = len(pairs) / np.median(timed[f"int8, token_keep {args.keeps[0]:g}"]["times"])
    for row in rows:
        row.update(rate_summary(timed[row["name"]]["times"], len(pairs), base))
    report(
        f"token_keep_{Path(args.model).name}",
        f"token_keep on {args.model}: OpenVINO int8, SciFact (NDCG@10: the hybrid's top 10 of the 300 test claims "
        f"reranked; pairs/s: {len(pairs)} test pairs, max_length 256, batch 32, {args.rounds} rotating rounds)",
        markdown_table(rows, COLUMNS),
        {"rows": rows, "times": {name: timed[name]["times"] for name in timed}},
    )


if __name__ == "__main__":
    main()
