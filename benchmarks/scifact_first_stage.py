"""SciFact first stages: BM25, each bi-encoder in fp32 and in bf16, and their hybrids, weights chosen on dev.

Usage (from the repository root; about 31 minutes on 2 CPU cores, most of it `mpnet-base` embedding 5,183 abstracts
in fp32; the embedding seconds include loading the model):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/scifact_first_stage.py \
        [--bi_encoders minilm-l6 mpnet-base] [--precisions fp32 bf16]

Notebook 03 embeds `mpnet-base` in bf16 to stay in its time budget; this measures what that costs against fp32 and
how much the second bi-encoder adds to the BM25 + `minilm-l6` hybrid. The split is notebook 03's (`xenc.beir`: 80
train claims held out as dev). Hybrids sum per-query min-max normalised runs with weights on a 0.1 grid, the best
dev NDCG@10 kept (`xenc.retrieval.best_fusion`, as notebook 03 chooses its hybrid). The first bi-encoder is
embedded in the first precision only.
Writes benchmarks/results/scifact_first_stage.{md,json}.
"""

import argparse
import time

from _bench import markdown_table, report

from xenc import ranking_metrics
from xenc.beir import BeirSplit, BM25Index, DenseIndex
from xenc.bi_encoder import BiEncoder
from xenc.retrieval import best_fusion, fuse_nonzero


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bi_encoders", nargs="+", default=["minilm-l6", "mpnet-base"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], help="of every bi-encoder but the first")
    args = parser.parse_args()
    split = BeirSplit.load("scifact")
    qrels = {"dev": split.dev, "test": split.test}
    ndcg = lambda run, name: ranking_metrics(run, qrels[name])["ndcg@10"]  # noqa: E731
    runs, rows = {}, []

    def add(stage: str, index, seconds: float | None = None) -> None:
        runs[stage] = {name: index.search(list(q), split.texts(q)) for name, q in qrels.items()}
        rows.append(
            {"first stage": stage, "index s": seconds, **{f"{n} NDCG@10": ndcg(runs[stage][n], n) for n in qrels}}
        )
        print(rows[-1], flush=True)

    add("BM25", BM25Index(split.docs))
    for i, name in enumerate(args.bi_encoders):
        for precision in args.precisions[:1] if i == 0 else args.precisions:
            start = time.perf_counter()
            index = DenseIndex(BiEncoder(name, precision=precision), split.docs, show_progress_bar=True)
            add(f"{name} {precision}", index, time.perf_counter() - start)
    first = f"{args.bi_encoders[0]} {args.precisions[0]}"
    for precision in args.precisions:
        stages = ["BM25", first, *(f"{n} {precision}" for n in args.bi_encoders[1:])]
        for size in range(2 if precision == args.precisions[0] else 3, len(stages) + 1):  # BM25 + first: once
            parts = stages[:size]
            best, dev = best_fusion([runs[s]["dev"] for s in parts], lambda run: ndcg(run, "dev"))
            test = ndcg(fuse_nonzero([runs[s]["test"] for s in parts], best), "test")
            rows.append({"first stage": "hybrid: " + " + ".join(parts), "weights": " / ".join(map(str, best)),
                         "dev NDCG@10": dev, "test NDCG@10": test})  # fmt: skip
            print(rows[-1], flush=True)
    columns = {"first stage": ("first stage", ""), "weights": ("weights (dev)", "")}
    columns |= {f"{n} NDCG@10": (f"{n} NDCG@10", ".4f") for n in qrels} | {"index s": ("embedding (s)", ".0f")}
    title = "SciFact first stages: bi-encoders in fp32 and bf16, hybrids with weights chosen on dev"
    report("scifact_first_stage", title, markdown_table(rows, columns), {"rows": rows, "args": vars(args)})


if __name__ == "__main__":
    main()
