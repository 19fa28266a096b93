"""Published reference numbers, in one table that the notebooks and docs read (each with its source)."""

from __future__ import annotations

TANDA = "Garg, Vu & Moschitti, AAAI 2020, TANDA, arXiv:1911.04118"
TANDA_MRR = TANDA + " (MRR as listed on Papers with Code)"
BEIR = "BEIR, Thakur et al. 2021, Table 2"
SBERT = "Reimers & Gurevych 2019, SBERT paper, Table 2"
ST_MODELS = "sentence-transformers pretrained cross-encoders"
ST_CARD = "sentence-transformers model card"

# (benchmark, system, metric, value, source)
PUBLISHED = [
    ("stsb", "BERT-STSb-base cross-encoder", "spearman", 0.8430, SBERT),
    ("stsb", "BERT-NLI-STSb-base cross-encoder", "spearman", 0.8833, SBERT),
    ("stsb", "SBERT-NLI-STSb-base bi-encoder", "spearman", 0.8535, SBERT),
    ("stsb", "cross-encoder/stsb-TinyBERT-L4", "spearman", 0.8550, ST_MODELS),
    ("stsb", "cross-encoder/stsb-distilroberta-base", "spearman", 0.8792, ST_MODELS),
    ("stsb", "cross-encoder/stsb-roberta-base", "spearman", 0.9017, ST_MODELS),
    ("stsb", "cross-encoder/stsb-roberta-large", "spearman", 0.9147, ST_MODELS),
    ("mnli", "cross-encoder/nli-distilroberta-base", "MNLI mismatched accuracy", 0.8398, ST_CARD),
    ("mnli", "cross-encoder/nli-MiniLM2-L6-H768", "MNLI mismatched accuracy", 0.8689, ST_CARD),
    ("mnli", "cross-encoder/nli-deberta-v3-base", "MNLI mismatched accuracy", 0.9004, ST_CARD),
    ("snli", "cross-encoder/nli-deberta-v3-base", "SNLI test accuracy", 0.9238, ST_CARD),
    ("trecqa", "TANDA RoBERTa-large (ASNQ, then TREC-QA; clean test)", "map", 0.943, TANDA),
    (
        "trecqa",
        "TANDA RoBERTa-large (ASNQ, then TREC-QA; clean test)",
        "mrr",
        0.974,
        TANDA + ", MRR via Papers with Code",
    ),
    ("scifact", "BM25 (Elasticsearch)", "ndcg@10", 0.665, BEIR),
    ("scifact", "BM25 top 100 + cross-encoder ms-marco MiniLM-L6 (not trained on SciFact)", "ndcg@10", 0.688, BEIR),
]


def published(benchmark: str) -> list[dict]:
    """The published rows of `benchmark` (stsb, mnli, snli, trecqa, scifact) as dicts."""
    rows = [dict(zip(("benchmark", "system", "metric", "value", "source"), r)) for r in PUBLISHED if r[0] == benchmark]
    if not rows:
        raise ValueError(f"No published numbers for {benchmark!r}; known: {sorted({r[0] for r in PUBLISHED})}.")
    return rows
