"""Retrieve and rerank: exact top-k search, hard-negative mining, reranking a first-stage run, score fusion.

A *run* is `{query_id: {doc_id: score}}` and *qrels* are `{query_id: {doc_id: relevance}}`, as in BEIR and
`xenc.metrics.ranking_metrics`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from datasets import Dataset

Run = dict[str, dict[str, float]]


def exact_top_k(
    queries: np.ndarray | torch.Tensor, docs: np.ndarray | torch.Tensor, k: int = 100, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search (cosine for unit vectors) by matrix product; FAISS does the same at scale.

    Args:
        queries: (n_queries, dim) embeddings. docs: (n_docs, dim) embeddings.
        k: results per query (at most n_docs).

    Returns:
        `(scores, indices)`, both (n_queries, k), best first.

    Example:
        >>> scores, idx = exact_top_k(np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]]), k=1)
        >>> idx.tolist()
        [[1], [0]]
    """
    docs_t = torch.as_tensor(docs, dtype=torch.float32)
    k = min(k, docs_t.shape[0])
    scores, indices = [], []
    for start in range(0, len(queries), batch_size):
        sims = torch.as_tensor(queries[start : start + batch_size], dtype=torch.float32) @ docs_t.T  # (b, n_docs)
        top = sims.topk(k, dim=1)
        scores.append(top.values.numpy())
        indices.append(top.indices.numpy())
    return np.concatenate(scores), np.concatenate(indices)


def to_run(query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray) -> Run:
    """Turn `(scores, indices)` of a top-k search into a run `{query_id: {doc_id: score}}`."""
    return {
        qid: {doc_ids[j]: float(s) for s, j in zip(row_scores, row_idx)}
        for qid, row_scores, row_idx in zip(query_ids, scores, indices)
    }


def qrels_from_dataset(qrels: Dataset) -> dict[str, dict[str, int]]:
    """BEIR qrels rows (`query_id`, `corpus_id`, `score`) -> `{query_id: {doc_id: relevance}}`."""
    out: dict[str, dict[str, int]] = {}
    for qid, did, rel in zip(qrels["query_id"], qrels["corpus_id"], qrels["score"]):
        out.setdefault(str(qid), {})[str(did)] = int(rel)
    return out


def mine_hard_negatives(
    scores: np.ndarray,
    positives: Sequence[set[int]],
    num_negatives: int = 7,
    depth: int = 100,
    skip_top: int = 0,
    margin: float | None = 0.0,
) -> list[list[int]]:
    """Hard negatives per query from a first stage's scores, filtered against false negatives.

    Candidates are the `depth` best-scored documents that are not positives; the `skip_top` best of them are
    skipped (rank filter), and with `margin` a candidate must score below the query's lowest-scored positive by more
    than `margin` (in first-stage score units), since unjudged documents that beat a positive are often relevant.

    Args:
        scores: (n_queries, n_docs) first-stage similarities (e.g. bi-encoder cosine or BM25).
        positives: per query, the indices of its relevant documents (never returned as negatives).
        num_negatives: at most this many per query, hardest first.
        depth: mining depth (rank cut-off). skip_top: ranks skipped. margin: None disables the score filter.

    Returns:
        Per query, a list of document indices (may be shorter than `num_negatives`).

    Example:
        >>> mine_hard_negatives(np.array([[0.9, 0.8, 0.5, 0.1]]), [{1}], num_negatives=2, margin=0.2)
        [[3]]
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or len(positives) != scores.shape[0]:
        raise ValueError(f"scores must be (n_queries, n_docs) with one positives set per query; got {scores.shape} "
                         f"and {len(positives)} sets.")  # fmt: skip
    mined = []
    for row, pos in zip(scores, positives):
        ranked = np.argsort(-row, kind="stable")[:depth]
        candidates = [int(j) for j in ranked if int(j) not in pos][skip_top:]
        if margin is not None and pos:
            limit = min(row[j] for j in pos) - margin
            candidates = [j for j in candidates if row[j] < limit]
        mined.append(candidates[:num_negatives])
    return mined


def rerank_run(first_stage: Mapping[str, Mapping[str, float]], rerank_scores: Run, k: int) -> Run:
    """Reorder each query's top `k` first-stage documents by `rerank_scores`; the rest keep first-stage order below.

    Example:
        >>> rerank_run({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}, {"q": {"a": 0.1, "b": 0.9}}, k=2)
        {'q': {'b': 3.0, 'a': 2.0, 'c': 1.0}}
    """
    out = {}
    for qid, docs in first_stage.items():
        ranked = sorted(docs, key=lambda d: -docs[d])
        scored = rerank_scores.get(qid, {})
        missing = [d for d in ranked[:k] if d not in scored]
        if missing:
            raise ValueError(f"Query {qid}: {len(missing)} of the top {k} documents have no rerank score; "
                             f"score the top {k} of the run (candidate_pairs(run, {k})) first.")  # fmt: skip
        order = sorted(ranked[:k], key=lambda d: -scored[d]) + ranked[k:]
        out[qid] = {d: float(len(order) - i) for i, d in enumerate(order)}
    return out


def candidate_pairs(run: Mapping[str, Mapping[str, float]], k: int) -> list[tuple[str, str]]:
    """The `(query_id, doc_id)` pairs of each query's top `k` in a run: what a reranker must score."""
    return [(qid, d) for qid, docs in run.items() for d in sorted(docs, key=lambda d: -docs[d])[:k]]


def fuse_runs(runs: Sequence[Mapping[str, Mapping[str, float]]], weights: Sequence[float]) -> Run:
    """Weighted sum of per-query min-max normalised scores (a document missing from a run gets 0 there)."""
    if len(runs) != len(weights):
        raise ValueError(f"Got {len(runs)} runs and {len(weights)} weights; pass one weight per run.")
    fused: Run = {}
    for run, weight in zip(runs, weights):
        for qid, docs in run.items():
            values = np.array(list(docs.values()), dtype=float)
            low, span = values.min(), np.ptp(values) or 1.0
            target = fused.setdefault(qid, {})
            for d, s in docs.items():
                target[d] = target.get(d, 0.0) + weight * (s - low) / span
    return fused


def weight_grid(count: int, step: float = 0.1) -> list[tuple[float, ...]]:
    """Every `count` weights on a `step` grid (0, step, ..., 1) that sum to 1."""
    values = np.round(np.linspace(0, 1, round(1 / step) + 1), 10).tolist()
    return [w for w in itertools.product(values, repeat=count) if np.isclose(sum(w), 1)]


def fuse_nonzero(runs: Sequence[Mapping[str, Mapping[str, float]]], weights: Sequence[float]) -> Run:
    """`fuse_runs` of the runs whose weight is not zero: a zero weight leaves its run, and its documents, out."""
    kept = [(run, w) for run, w in zip(runs, weights, strict=True) if w]
    return fuse_runs([run for run, _ in kept], [w for _, w in kept])


def best_fusion(
    runs: Sequence[Mapping[str, Mapping[str, float]]], score: Callable[[Run], float], step: float = 0.1
) -> tuple[tuple[float, ...], float]:
    """The `weight_grid` weights whose `fuse_nonzero` run scores highest by `score` (say, NDCG@10 on dev queries),
    and that score; the first of equal ones."""
    scores = {w: score(fuse_nonzero(runs, w)) for w in weight_grid(len(runs), step)}
    best = max(scores, key=scores.get)
    return best, scores[best]


def score_candidates(
    model, queries: Mapping[str, str], docs: Mapping[str, str], pairs: Sequence[tuple[str, str]], **predict_kwargs
) -> Run:
    """Score `(query_id, doc_id)` pairs with a one-label `CrossEncoder` (passages truncated, never the query).

    Example:
        >>> scores = score_candidates(model, queries, docs, candidate_pairs(bm25_run, 20))  # doctest: +SKIP
        >>> reranked = rerank_run(bm25_run, scores, k=20)  # doctest: +SKIP
    """
    texts = [(queries[q], docs[d]) for q, d in pairs]
    scores = model.predict(texts, truncation="only_second", **predict_kwargs) if texts else []
    out: Run = {}
    for (qid, did), score in zip(pairs, scores):
        out.setdefault(qid, {})[did] = float(score)
    return out


def add_teacher_scores(groups: Dataset, teacher, batch_size: int = 32) -> Dataset:
    """Add `teacher_scores`: a trained `CrossEncoder`'s logits for each group's [positive, *negatives].

    The student then learns them with the `margin_mse` or `kl` loss (`tokenize_groups` turns them into labels).

    Example:
        >>> groups = add_teacher_scores(groups, CrossEncoder("runs/trecqa-mpnet"))  # doctest: +SKIP
    """
    texts = [
        (q, p) for q, pos, negs in zip(groups["query"], groups["positive"], groups["negatives"]) for p in [pos, *negs]
    ]
    logits = teacher.predict(texts, batch_size=batch_size, activation_fn=torch.nn.Identity(), truncation="only_second")
    size = 1 + len(groups[0]["negatives"])
    return groups.add_column("teacher_scores", np.asarray(logits, dtype=np.float32).reshape(-1, size).tolist())
