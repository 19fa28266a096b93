"""Long passages on SciFact: truncation at 128 / 256 tokens against overlapping windows (MaxP, FirstP), same reranker.

Usage (from the repository root, after `python benchmarks/rerank_sweep.py listwise 4 128 3 8e-5 8`, which trains
the reranker into runs/rerank_sweep/listwise and caches the hybrid first stage):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/scifact_windows.py \
        [--model runs/rerank_sweep/listwise] [--k 20] [--precision bf16]

The reranker re-scores the hybrid first stage's top k of every SciFact test query, once per setting: one window cut
at max_length (`truncation="only_second"`: the query is never cut), or `windows="first"` / `"max"` (the passage in
windows of max_length overlapping by `stride` tokens, the query whole in each; FirstP keeps the first window's score,
MaxP the best). Prints and writes results/scifact_windows.md and .json: NDCG@10 alone and fused with the first stage
(reranker weight 0.5), windows scored, wall time.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _bench import markdown_table, report

from xenc import CrossEncoder, ranking_metrics, retrieval
from xenc.beir import BeirSplit

SETTINGS = [(128, None), (256, None), (512, None), (128, "first"), (128, "max"), (256, "max")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/rerank_sweep/listwise")
    parser.add_argument("--first_stage", default="runs/rerank_sweep/first_stage.json")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--stride", type=int, default=32)
    parser.add_argument("--precision", default="bf16")
    args = parser.parse_args()
    split = BeirSplit.load("scifact")
    queries, docs, qrels = split.queries, split.docs, split.test
    run = json.loads(Path(args.first_stage).read_text())["test"]
    pairs = retrieval.candidate_pairs(run, args.k)
    rows = [{"setting": f"first stage (hybrid), top {args.k}", "alone": ranking_metrics(run, qrels)["ndcg@10"]}]
    for max_length, windows in SETTINGS:
        model = CrossEncoder(args.model, max_length=max_length, precision=args.precision)
        kw = {"windows": windows, "stride": args.stride} if windows else {}
        start = time.perf_counter()
        scores = retrieval.score_candidates(model, queries, docs, pairs, batch_size=32, **kw)
        seconds = time.perf_counter() - start
        reranked = retrieval.rerank_run(run, scores, args.k)
        fused = retrieval.fuse_runs([reranked, run], [0.5, 0.5])
        name = f"{max_length} tokens, " + (f"windows={windows!r} (stride {args.stride})" if windows else "truncated")
        lengths = model.tokenizer([queries[q] for q, _ in pairs], [docs[d] for _, d in pairs], return_length=True)
        rows.append({
            "setting": name, "alone": ranking_metrics(reranked, qrels)["ndcg@10"],
            "fused": ranking_metrics(fused, qrels)["ndcg@10"], "seconds": seconds, "pairs_s": len(pairs) / seconds,
            "cut": float(np.mean(np.asarray(lengths["length"]) > max_length)) if not windows else None,
        })  # fmt: skip
        print(rows[-1], flush=True)
    columns = {"setting": ("setting", "s"), "alone": ("NDCG@10 reranker alone", ".4f"),
               "fused": ("NDCG@10 fused (0.5)", ".4f"), "cut": ("pairs cut", ".0%"), "seconds": ("seconds", ".1f"),
               "pairs_s": ("pairs/s", ".1f")}  # fmt: skip
    title = f"SciFact test, {len(qrels)} queries: truncation vs windows, reranker {args.model} ({args.precision})"
    report("scifact_windows", title, markdown_table(rows, columns), {"rows": rows, "args": vars(args)})


if __name__ == "__main__":
    main()
