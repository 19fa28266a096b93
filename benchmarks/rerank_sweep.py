"""One SciFact reranker variant, trained and scored outside notebook 03: what was tried on the way to its settings.

Usage (from the repository root; about 8 minutes on 2 CPU cores for the first call, which caches the first stage):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/rerank_sweep.py listwise 4 128 3 8e-5 8
    arguments: loss (bce|listwise) epochs train_max_length num_negatives learning_rate batch_groups

As notebook 03: 80 train queries held out as dev (seed 42), hard negatives mined from BM25's top 50 (margin 0),
`minilm-l6` with a fresh one-output head, bf16 training, scoring at 256 tokens in bf16. Both dev and test rerank the
top 20 of the hybrid first stage (BM25 weight 0.7, the weight notebook 03 chose on dev). Prints one JSON line:
NDCG@10 of the first stage, of the reranker alone, and fused with the first stage at reranker weights 0.3/0.5/0.7.
"""

import json
import sys
import time
from functools import partial
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from transformers import AutoModelForSequenceClassification, AutoTokenizer, TrainingArguments

from xenc import CrossEncoder, CrossEncoderTrainer, ranking_metrics, resolve_model, retrieval
from xenc.bi_encoder import BiEncoder
from xenc.data import (
    RerankCollator,
    build_groups,
    flatten_groups,
    load,
    pair_collator,
    tokenize_groups,
    tokenize_pairs,
)

loss, epochs, tml, nneg, lr, bg = (
    sys.argv[1],
    float(sys.argv[2]),
    int(sys.argv[3]),
    int(sys.argv[4]),
    float(sys.argv[5]),
    int(sys.argv[6]),
)
cache = Path("runs/rerank_sweep/first_stage.json")
test, train = load("scifact", split="test"), load("scifact", split="train")
corpus = test["corpus"]
doc_text = {d: f"{t} {x}".strip() for d, t, x in zip(corpus["_id"], corpus["title"], corpus["text"])}
queries = {q: t for split in (test, train) for q, t in zip(split["queries"]["_id"], split["queries"]["text"])}
test_qrels, train_qrels = retrieval.qrels_from_dataset(test["qrels"]), retrieval.qrels_from_dataset(train["qrels"])
doc_ids = list(doc_text)
held_out = list(np.random.default_rng(42).permutation(sorted(train_qrels)))
dev_ids, fit_ids = held_out[:80], held_out[80:]
dev_qrels = {q: train_qrels[q] for q in dev_ids}
tokenize = partial(bm25s.tokenize, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)
bm25 = bm25s.BM25()
bm25.index(tokenize([doc_text[d] for d in doc_ids]), show_progress=False)


def search_bm25(qids, k=100):
    ids, scores = bm25.retrieve(tokenize([queries[q] for q in qids]), k=k, show_progress=False)
    return retrieval.to_run(qids, doc_ids, scores, ids)


if cache.exists():
    runs = json.loads(cache.read_text())
else:
    bi = BiEncoder("minilm-l6")
    emb = bi.encode([doc_text[d] for d in doc_ids], batch_size=32)

    def search_bi(qids, k=100):
        return retrieval.to_run(qids, doc_ids, *retrieval.exact_top_k(bi.encode([queries[q] for q in qids]), emb, k))

    runs = {}
    for name, ids in (("dev", dev_ids), ("test", list(test_qrels))):
        runs[name] = retrieval.fuse_runs([search_bm25(ids), search_bi(ids)], [0.7, 0.3])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(runs))
fit_scores = np.stack([bm25.get_scores(t) for t in tokenize([queries[q] for q in fit_ids], return_ids=False)])
position = {d: i for i, d in enumerate(doc_ids)}
positive_sets = [{position[d] for d in train_qrels[q] if d in position} for q in fit_ids]
mined = retrieval.mine_hard_negatives(fit_scores, positive_sets, num_negatives=nneg, depth=50, skip_top=0, margin=0.0)
negatives = {q: [doc_ids[j] for j in js] for q, js in zip(fit_ids, mined)}
fit_positives = [(q, d) for q in fit_ids for d in train_qrels[q] if d in doc_text]
groups = build_groups(queries, doc_text, fit_positives, negatives, nneg)
path, tok = Path(f"runs/rerank_sweep/{loss}"), AutoTokenizer.from_pretrained(resolve_model("minilm-l6"))
net = AutoModelForSequenceClassification.from_pretrained(resolve_model("minilm-l6"), num_labels=1)
if loss == "listwise":
    data, coll, batch = tokenize_groups(groups, tok, tml), RerankCollator(tok), bg
else:
    data = tokenize_pairs(flatten_groups(groups), tok, tml, "only_second", 1, text_columns=("query", "passage"))
    coll, batch = pair_collator(tok), bg * (1 + nneg)
args = TrainingArguments(
    output_dir=str(path),
    num_train_epochs=epochs,
    per_device_train_batch_size=batch,
    learning_rate=lr,
    warmup_steps=0.1,
    seed=42,
    use_cpu=True,
    bf16=True,
    save_strategy="no",
    logging_steps=20,
    report_to="none",
    disable_tqdm=True,
)
s = time.perf_counter()
tr = CrossEncoderTrainer(
    model=net, args=args, train_dataset=data, data_collator=coll, processing_class=tok, task="rerank", loss=loss
)
tr.train()
tr.save_model()
train_s = time.perf_counter() - s
ce = CrossEncoder(str(path), max_length=256, precision="bf16")
out = {"args": sys.argv[1:], "groups": len(groups), "train_s": round(train_s)}
for name, qrels in (("dev", dev_qrels), ("test", test_qrels)):
    run = runs[name]
    sc = retrieval.score_candidates(ce, queries, doc_text, retrieval.candidate_pairs(run, 20), batch_size=32)
    rr = retrieval.rerank_run(run, sc, 20)
    out[f"{name}_first"] = ranking_metrics(run, qrels)["ndcg@10"]
    out[f"{name}_alone"] = ranking_metrics(rr, qrels)["ndcg@10"]
    out[f"{name}_fused"] = {
        w: round(ranking_metrics(retrieval.fuse_runs([rr, run], [w, 1 - w]), qrels)["ndcg@10"], 4)
        for w in (0.3, 0.5, 0.7)
    }
print("RESULT", json.dumps(out), flush=True)
