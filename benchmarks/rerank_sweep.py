"""One SciFact reranker variant, trained and scored outside notebook 03: what was tried on the way to its settings.

Usage (from the repository root; about 12 minutes with minilm-l6 on 2 CPU cores, about 8x that with mpnet-base):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/rerank_sweep.py listwise 4 128 3 8e-5 8 \
        [--base mpnet-base] [--k 20] [--fraction 0.25] [--name NAME] [--train_only] [--score_max_length 128] \
        [--seed 43]
    arguments: loss epochs train_max_length num_negatives learning_rate batch_groups

As notebook 03 (the same `xenc.beir` code): 80 train queries held out as dev (seed 42), hard negatives mined from
BM25's top 50 (margin 0), a fresh one-output head on `--base` (a one-output cross-encoder keeps its own), bf16
training, scoring at 256 tokens (`--score_max_length`) in bf16. Both dev and test rerank the top k of the two-way
hybrid (BM25 0.7 + `minilm-l6` bi-encoder 0.3, chosen on dev; notebook 03's first stage also adds `mpnet-base`),
cached in runs/rerank_sweep/first_stage.json.
The model goes to runs/rerank_sweep/<loss>[-<base>] or `--name`, with -seed-N for a seed other than 42 (kept: a
second call only scores). Prints one JSON
line: NDCG@10 of the first stage, of the reranker alone, and fused with the first stage at reranker weights 0.3 /
0.5 / 0.7; writes it to that folder's sweep.json, the pair scores to its scores.json (notebook 03 reuses them).
`--fraction` trains on a share of the train claims (a learning curve over data size); `--train_only` stops after
training (for a model that bench_backends.py scores).
"""

import argparse
import json
import time
from pathlib import Path

from xenc import CrossEncoder, ranking_metrics
from xenc.beir import BeirSplit, BM25Index, DenseIndex, mine_groups, score_top_k, train_reranker
from xenc.bi_encoder import BiEncoder
from xenc.retrieval import fuse_runs, rerank_run

HYBRID_BM25_WEIGHT = 0.7
FIRST_STAGE = Path("runs/rerank_sweep/first_stage.json")


def first_stage(split: BeirSplit, bm25: BM25Index, cache: Path) -> dict:
    """Hybrid (BM25 + minilm-l6 bi-encoder) top 100 of the dev and test queries, cached."""
    if cache.exists():
        return json.loads(cache.read_text())
    dense = DenseIndex(BiEncoder("minilm-l6"), split.docs)
    runs = {}
    for name, qrels in (("dev", split.dev), ("test", split.test)):
        texts = split.texts(qrels)
        both = [bm25.search(list(qrels), texts), dense.search(list(qrels), texts)]
        runs[name] = fuse_runs(both, [HYBRID_BM25_WEIGHT, 1 - HYBRID_BM25_WEIGHT])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(runs))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, kind in (("loss", str), ("epochs", float), ("train_max_length", int), ("num_negatives", int),
                       ("learning_rate", float), ("batch_groups", int)):  # fmt: skip
        parser.add_argument(name, type=kind)
    parser.add_argument("--base", default="minilm-l6")
    parser.add_argument("--k", type=int, default=20, help="rerank depth")
    parser.add_argument("--fraction", type=float, default=1.0, help="train on this share of the train claims")
    parser.add_argument("--name", help="model folder under runs/rerank_sweep (default: <loss>[-<base>])")
    parser.add_argument("--train_only", action="store_true", help="stop after training: no scoring")
    parser.add_argument("--score_max_length", type=int, default=256, help="tokens per scored pair")
    parser.add_argument("--seed", type=int, default=42, help="training seed (the dev split stays seed 42's)")
    args = parser.parse_args()
    split = BeirSplit.load("scifact")
    bm25 = BM25Index(split.docs)
    runs = first_stage(split, bm25, FIRST_STAGE)
    name = args.name or (args.loss if args.base == "minilm-l6" else f"{args.loss}-{args.base}")
    name += "" if args.fraction == 1 else f"-f{args.fraction:g}"
    path = Path("runs/rerank_sweep") / (name if args.seed == 42 else f"{name}-seed-{args.seed}")
    split.fit = dict(list(split.fit.items())[: round(len(split.fit) * args.fraction)])  # a seeded random subset
    start, train_s = time.perf_counter(), None
    if not (path / "model.safetensors").exists():
        groups, _ = mine_groups(split, bm25.score_matrix(split.texts(split.fit)), args.num_negatives)
        train_reranker(groups, args.base, path, args.loss, args.epochs, args.train_max_length, args.learning_rate,
                       args.batch_groups, use_cpu=True, seed=args.seed)  # fmt: skip
        train_s = round(time.perf_counter() - start)
        print(f"trained {path} in {train_s} s", flush=True)
    if args.train_only:
        return
    ce = CrossEncoder(str(path), max_length=args.score_max_length, precision="bf16")
    out = {"args": vars(args), "fit_claims": len(split.fit), "train_s": train_s}
    for name, qrels in (("dev", split.dev), ("test", split.test)):
        run, start = runs[name], time.perf_counter()
        scores = score_top_k(ce, split, run, args.k, cache=path / "scores.json", batch_size=32)
        out[f"{name}_score_s"] = round(time.perf_counter() - start)
        reranked = rerank_run(run, scores, args.k)
        out[f"{name}_first"] = round(ranking_metrics(run, qrels)["ndcg@10"], 4)
        out[f"{name}_alone"] = round(ranking_metrics(reranked, qrels)["ndcg@10"], 4)
        fused = {w: fuse_runs([reranked, run], [w, 1 - w]) for w in (0.3, 0.5, 0.7)}
        out[f"{name}_fused"] = {w: round(ranking_metrics(r, qrels)["ndcg@10"], 4) for w, r in fused.items()}
    (path / "sweep.json").write_text(json.dumps(out, indent=1))
    print("RESULT", json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
