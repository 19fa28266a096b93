"""TrecQA answer selection: BM25, bi-encoders and cross-encoders on the same candidate lists, dev and test.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/trecqa.py \
        [--bi minilm-l6 mpnet-base] [--cross NAME=RUN_DIR ...]

Every method ranks each question's own candidates; MAP and MRR@10 are averaged over the "clean" questions (at least
one right and one wrong candidate: 65 dev, 68 test), as `xenc.metrics.rerank_metrics` does. BM25 (bm25s, English
stopwords, Snowball stemming) is fitted per question on its candidates. Writes results/trecqa.md and .json.
"""

import argparse

import numpy as np
from _bench import markdown_table, report

from xenc import CrossEncoder
from xenc.beir import bm25_per_query
from xenc.bi_encoder import BiEncoder
from xenc.data import load
from xenc.metrics import rerank_metrics

SPLITS = ("validation", "test")


def bm25_scores(split) -> np.ndarray:
    """BM25 of each candidate for its question, with the question's candidates as the collection."""
    return bm25_per_query(split["sentence1"], split["sentence2"], split["qid"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bi", nargs="*", default=["minilm-l6"], help="bi-encoder bases (mean pooling, cosine)")
    parser.add_argument("--cross", nargs="*", default=[], help="NAME=MODEL_DIR of trained cross-encoders")
    args = parser.parse_args()
    data = load("trecqa")
    scorers = {"BM25 (per question)": bm25_scores}
    for name in args.bi:
        bi = BiEncoder(name)
        scorers[f"bi-encoder {name}"] = lambda s, bi=bi: bi.similarity(s["sentence1"], s["sentence2"], batch_size=32)
    for spec in args.cross:
        name, path = spec.split("=", 1)
        model = CrossEncoder(path)
        scorers[f"cross-encoder {name}"] = lambda s, m=model: m.predict(
            list(zip(s["sentence1"], s["sentence2"])), batch_size=32, truncation="only_second"
        )
    rows = []
    for method, score in scorers.items():
        row = {"method": method}
        for split in SPLITS:
            m = rerank_metrics(score(data[split]), data[split]["label"], data[split]["qid"])
            row.update({f"{split}_map": m["map"], f"{split}_mrr": m["mrr@10"], f"{split}_queries": m["queries"]})
        rows.append(row)
        print(row)
    columns = {"method": ("method", "s"), "validation_map": ("dev MAP", ".4f"), "validation_mrr": ("dev MRR", ".4f"),
               "test_map": ("test MAP", ".4f"), "test_mrr": ("test MRR", ".4f")}  # fmt: skip
    title = f"TrecQA answer selection, clean questions (dev {rows[0]['validation_queries']:.0f}, test " \
        f"{rows[0]['test_queries']:.0f})"  # fmt: skip
    report("trecqa", title, markdown_table(rows, columns), {"rows": rows})


if __name__ == "__main__":
    main()
