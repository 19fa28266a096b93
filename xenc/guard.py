"""The quality guard: how much an approximate scorer (bf16, int8, `token_keep`) moves the task metric against exact
fp32 on held-out pairs, and how far that change may reach on other pairs like them (a paired bootstrap bound).

The metric is the task's: Spearman for one output, accuracy for classes, and for rerankers (guard pairs with query
ids) MAP over each query's candidates, resampled by query, so a reranker is judged on ranking its candidates rather
than on telling easy positives from random pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from .metrics import rerank_metrics

GUARD_VERSION, GUARD_RESAMPLES = 2, 1000  # 2: the change's bootstrap bound decides (1: the change itself)


def has_own_pairs(model_path: str) -> bool:
    """Whether `own_pairs` can stand in for calibration and guard pairs (a model trained by `xenc train`)."""
    return (Path(model_path) / "results.json").is_file()


def trained_split(model_path: str, split: str):
    """The `train`, `eval` or `test` split of the data set a model was trained on, named by the `results.json` that
    `xenc train` writes beside it."""
    from .data import load

    config = json.loads((Path(model_path) / "results.json").read_text())["config"]
    return load(config["dataset"])[config[f"{split}_split"]]


def whole_queries(qids: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of whole queries, drawn in random order until they hold at least `limit` rows."""
    groups = [np.flatnonzero(qids == q) for q in rng.permutation(np.unique(qids))]
    count = int(np.searchsorted(np.cumsum([len(g) for g in groups]), limit)) + 1
    return np.concatenate(groups[:count])


def own_pairs(model_path: str, split: str, limit: int) -> tuple | None:
    """A seeded sample of the pairs and labels the model was trained (`train`) or selected (`eval`) on
    (`trained_split`); None for a model without a `results.json`. For ranking data (a `qid` column) whole queries
    are drawn until `limit` pairs, and their ids come third: `(pairs, labels, qids)`."""
    if not has_own_pairs(model_path):
        return None
    data, rng = trained_split(model_path, split), np.random.default_rng(0)
    if "qid" not in data.column_names:
        data = data.select(rng.permutation(len(data))[:limit])
        return list(zip(data["sentence1"], data["sentence2"])), np.asarray(data["label"])
    data = data.select(whole_queries(np.asarray(data["qid"]), limit, rng))
    return list(zip(data["sentence1"], data["sentence2"])), np.asarray(data["label"]), np.asarray(data["qid"])


def task_metric(logits, labels: np.ndarray, qids: np.ndarray | None = None) -> tuple[str, float]:
    """MAP over each query's candidates with `qids`; else Spearman with the labels for one output, accuracy for
    classes: what the guard compares."""
    logits = np.asarray(logits)
    if qids is not None:
        return "map", rerank_metrics(logits[:, 0], labels, qids)["map"]
    if logits.shape[-1] == 1:
        return "spearman", float(spearmanr(logits[:, 0], labels).statistic)
    return "accuracy", float((logits.argmax(-1) == labels).mean())


def change_bound(exact: np.ndarray, fast: np.ndarray, labels: np.ndarray, qids: np.ndarray | None = None,
                 seed: int = 0) -> float:  # fmt: skip
    """How far the task metric's change (fast - fp32) may reach on other pairs like the guard's: the 95th
    percentile of its size over paired bootstrap resamples of the guard pairs (the same pairs for both scorers;
    whole queries with `qids`)."""
    rng, n = np.random.default_rng(seed), len(labels)
    groups = None if qids is None else [np.flatnonzero(qids == q) for q in np.unique(qids)]
    changes = []
    for _ in range(GUARD_RESAMPLES):
        rows, ids = (rng.integers(0, n, n), None) if groups is None else resampled_queries(groups, rng)
        changes.append(task_metric(fast[rows], labels[rows], ids)[1] - task_metric(exact[rows], labels[rows], ids)[1])
    return float(np.quantile(np.abs(np.nan_to_num(changes, nan=np.inf)), 0.95))


def resampled_queries(groups: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows of len(groups) queries drawn with replacement, and a query id per row (a query drawn twice counts as
    two queries)."""
    drawn = [groups[i] for i in rng.integers(0, len(groups), len(groups))]
    return np.concatenate(drawn), np.repeat(np.arange(len(drawn)), [len(g) for g in drawn])
