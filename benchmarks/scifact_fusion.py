"""SciFact: fuse two or more rerankers with the hybrid first stage, every weight and depth chosen on dev.

Usage (from the repository root, after `benchmarks/rerank_sweep.py` trained and scored the rerankers; seconds when
their score caches hold the pairs, else they are scored and cached as notebook 03 and the sweep do):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/scifact_fusion.py \
        runs/rerank_sweep/listwise runs/rerank_sweep/listwise-mpnet-base [--ks 10 20] [--precision fp32 bf16]

The set-up of `rerank_sweep.py` (its hybrid top 100 of the 80 dev and 300 test claims, built and cached when missing;
scoring at 256 tokens).
Each reranker reorders the hybrid's top k (`rerank_run`); the reordered runs and the hybrid are summed after per-query
min-max normalisation (`fuse_runs`) with weights on a 0.1 grid that sum to 1. For each subset of the pipelines the
weights and k with the best dev NDCG@10 are kept and read once on test.
Writes benchmarks/results/scifact_fusion.{md,json}.
"""

import argparse
import itertools
from pathlib import Path

import numpy as np
from _bench import markdown_table, report
from rerank_sweep import FIRST_STAGE, first_stage

from xenc import CrossEncoder, ranking_metrics
from xenc.beir import BeirSplit, BM25Index, score_top_k
from xenc.retrieval import fuse_runs, rerank_run


def simplex(n: int, step: float = 0.1):
    """Every weight vector of length n on a `step` grid that sums to 1 (each weight > 0)."""
    units = round(1 / step)
    for cut in itertools.combinations(range(1, units), n - 1):
        parts = np.diff([0, *cut, units])
        yield tuple(round(float(p) * step, 1) for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rerankers", nargs="+", help="reranker folders (their scores.json caches are reused)")
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 20], help="rerank depths tried on dev")
    parser.add_argument("--precision", nargs="+", default=["bf16"], help="scoring precision, one for all or one each")
    parser.add_argument("--max_length", type=int, default=256)
    args = parser.parse_args()
    if len(args.precision) not in (1, len(args.rerankers)):
        parser.error(f"--precision: give one value or one per reranker ({len(args.rerankers)}).")
    precisions = args.precision * len(args.rerankers) if len(args.precision) == 1 else args.precision
    split = BeirSplit.load("scifact")
    stage = first_stage(split, BM25Index(split.docs), FIRST_STAGE)  # the sweep's cached hybrid top 100
    qrels = {"dev": split.dev, "test": split.test}
    reordered = {}  # (reranker name, split, k) -> run
    for folder, precision in zip(args.rerankers, precisions):
        ce = CrossEncoder(folder, max_length=args.max_length, precision=precision)
        for name in qrels:
            scores = score_top_k(
                ce, split, stage[name], max(args.ks), cache=Path(folder) / "scores.json", batch_size=32
            )
            for k in args.ks:
                reordered[Path(folder).name, name, k] = rerank_run(stage[name], scores, k)
    ndcg = lambda run, name: ranking_metrics(run, qrels[name])["ndcg@10"]  # noqa: E731

    def runs_of(subset: tuple, fused: bool, name: str, k: int) -> list:
        return [reordered[n, name, k] for n in subset] + ([stage[name]] if fused else [])

    names = [Path(f).name for f in args.rerankers]
    rows = [{"pipeline": "hybrid", **{f"{s} NDCG@10": ndcg(stage[s], s) for s in qrels}}]
    for size in range(1, len(names) + 1):
        for subset in itertools.combinations(names, size):
            for fused in (False, True):
                grid = list(simplex(size + fused))
                dev = {(k, w): ndcg(fuse_runs(runs_of(subset, fused, "dev", k), w), "dev")
                       for k in args.ks for w in grid}  # fmt: skip
                k, weights = max(dev, key=dev.get)
                test = ndcg(fuse_runs(runs_of(subset, fused, "test", k), weights), "test")
                rows.append({"pipeline": " + ".join(subset) + (" + hybrid" if fused else ""), "k": k,
                             "weights": " / ".join(map(str, weights)), "dev NDCG@10": dev[k, weights],
                             "test NDCG@10": test})  # fmt: skip
    columns = {
        "pipeline": ("pipeline", ""),
        "k": ("k", ""),
        "weights": ("weights (in pipeline order)", ""),
        "dev NDCG@10": ("dev NDCG@10", ".4f"),
        "test NDCG@10": ("test NDCG@10", ".4f"),
    }
    title = "SciFact: rerankers fused with the hybrid first stage, k and weights chosen on dev"
    report("scifact_fusion", title, markdown_table(rows, columns), {"rows": rows, "args": vars(args)})


if __name__ == "__main__":
    main()
