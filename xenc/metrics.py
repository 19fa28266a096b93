"""STS, NLI and ranking metrics as pure functions on numpy arrays, and the offline `evaluate` modules around them
that Trainer's `compute_metrics` runs (`metrics_for_task`) and users load by name (`load_metric`).

`evaluate.load("spearmanr")` fetches a script from the Hub; the `evaluate.Metric` classes here run offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import datasets
import evaluate
import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from transformers import EvalPrediction

from .tasks import ID2LABEL, TASKS, get_task

METRIC_MODULES = Path(__file__).parent / "metric_modules"  # scripts for evaluate.load (see load_metric)
# task -> metric Trainer selects the best checkpoint by (Trainer prefixes "eval_"), from TASKS
BEST_METRIC = {name: task.best_metric for name, task in TASKS.items()}


def sts_metrics(predictions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Pearson and Spearman correlation between predicted and gold scores.

    Example:
        >>> sts_metrics(np.array([0.1, 0.4, 0.9]), np.array([0.0, 0.5, 1.0]))["spearman"]
        1.0
    """
    predictions, labels = np.asarray(predictions, dtype=float).ravel(), np.asarray(labels, dtype=float).ravel()
    return {"pearson": float(pearsonr(predictions, labels)[0]), "spearman": float(spearmanr(predictions, labels)[0])}


def nli_metrics(predictions: np.ndarray, labels: np.ndarray, label_names: Mapping[int, str] = ID2LABEL) -> dict:
    """Accuracy, macro-F1 and per-class F1; `predictions` are class ids or (n, num_classes) logits.

    Example:
        >>> nli_metrics(np.array([0, 1, 1]), np.array([0, 1, 2]))["accuracy"]
        0.6666666666666666
    """
    predictions = np.asarray(predictions)
    preds = predictions.argmax(-1) if predictions.ndim == 2 else predictions
    ids = sorted(label_names)
    per_class = f1_score(labels, preds, labels=ids, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "macro_f1": float(f1_score(labels, preds, labels=ids, average="macro", zero_division=0)),
        **{f"f1_{label_names[i]}": float(f) for i, f in zip(ids, per_class)},
    }


def confusion_table(predictions: np.ndarray, labels: np.ndarray, label_names: Mapping[int, str] = ID2LABEL):
    """Confusion matrix as a DataFrame: rows are gold labels, columns predicted labels."""
    predictions = np.asarray(predictions)
    preds = predictions.argmax(-1) if predictions.ndim == 2 else predictions
    ids = sorted(label_names)
    names = [label_names[i] for i in ids]
    matrix = confusion_matrix(labels, preds, labels=ids)
    return pd.DataFrame(matrix, index=pd.Index(names, name="gold"), columns=pd.Index(names, name="predicted"))


def ranking_metrics(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    k: int = 10,
    recall_at: Sequence[int] = (100,),
) -> dict[str, float]:
    """MRR@k, NDCG@k (linear gains, as BEIR/pytrec_eval), MAP and Recall@n, averaged over the judged queries.

    Tied scores rank the less relevant document first (the worst order): a model that gives many candidates the
    same score (a saturated head, bf16 rounding) gains nothing from the order in which they were listed. TrecQA lists
    each question's right answers first, so a first-listed tie-break would count every tie as a hit.

    Args:
        run: query id -> {doc id: score}; higher scores rank first.
        qrels: query id -> {doc id: relevance}; relevance > 0 counts as relevant. Queries missing from `run` score 0.
        k: cut-off for MRR and NDCG.
        recall_at: cut-offs for recall.

    Example:
        >>> ranking_metrics({"q": {"a": 2.0, "b": 1.0}}, {"q": {"b": 1}})["mrr@10"]
        0.5
    """
    rows = list(per_query_metrics(run, qrels, k, recall_at).values())
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]} if rows else {}


def per_query_metrics(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    k: int = 10,
    recall_at: Sequence[int] = (100,),
) -> dict[str, dict[str, float]]:
    """`ranking_metrics` of each judged query: query id -> metrics (for wins and losses between two runs)."""
    out = {}
    for qid, judged in qrels.items():
        relevant = {d: r for d, r in judged.items() if r > 0}
        if relevant:  # equal scores: the less relevant first, so no metric gains from the order of the input
            ranked = sorted(run.get(qid, {}).items(), key=lambda kv: (-kv[1], relevant.get(kv[0], 0)))
            out[qid] = _query_metrics([d for d, _ in ranked], relevant, k, recall_at)
    return out


def _query_metrics(ranked: list[str], relevant: Mapping[str, int], k: int, recall_at: Sequence[int]) -> dict:
    hits = [d in relevant for d in ranked]
    first = next((i for i, h in enumerate(hits[:k]) if h), None)
    dcg = sum(relevant.get(d, 0) / np.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sum(r / np.log2(i + 2) for i, r in enumerate(sorted(relevant.values(), reverse=True)[:k]))
    precisions = [sum(hits[: i + 1]) / (i + 1) for i, h in enumerate(hits) if h]
    out = {f"mrr@{k}": 0.0 if first is None else 1.0 / (first + 1), f"ndcg@{k}": dcg / ideal}
    out["map"] = sum(precisions) / len(relevant)
    for n in recall_at:
        out[f"recall@{n}"] = sum(hits[:n]) / len(relevant)
    return out


def rerank_metrics(scores: np.ndarray, grades: np.ndarray, query_ids: np.ndarray, k: int = 10) -> dict[str, float]:
    """MAP, MRR@k and NDCG@k (graded) of flat candidate lists, over the "clean" queries only.

    Each query ranks its own candidates by score. A query counts when it has at least one relevant (grade > 0) and
    one irrelevant candidate: with none or all relevant every order scores the same (TrecQA's "clean" setting).

    Args:
        scores: (n,) or (n, 1) model scores. grades: (n,) relevance, 0 = not relevant. query_ids: (n,) ints.

    Returns:
        `map`, `mrr@k`, `ndcg@k` and `queries` (how many counted).

    Example:
        >>> rerank_metrics(np.array([0.9, 0.1, 0.2, 0.8]), np.array([0, 1, 1, 0]), np.array([7, 7, 8, 8]))["mrr@10"]
        0.5
    """
    run, clean = clean_run(scores, grades, query_ids)
    metrics = ranking_metrics(run, clean, k=k, recall_at=())
    return {"map": metrics.get("map", 0.0), f"mrr@{k}": metrics.get(f"mrr@{k}", 0.0),
            f"ndcg@{k}": metrics.get(f"ndcg@{k}", 0.0), "queries": float(len(clean))}  # fmt: skip


def clean_run(scores: np.ndarray, grades: np.ndarray, query_ids: np.ndarray) -> tuple[dict, dict]:
    """Flat candidate rows -> `(run, qrels)` keyed by query id and row index, qrels of the "clean" queries only
    (at least one relevant and one irrelevant candidate). `rerank_metrics` and per-query comparisons read them."""
    scores, grades = np.asarray(scores, dtype=float).reshape(-1), np.asarray(grades, dtype=float).reshape(-1)
    query_ids = np.asarray(query_ids).reshape(-1)
    if not len(scores) == len(grades) == len(query_ids):
        raise ValueError(f"Got {len(scores)} scores, {len(grades)} grades, {len(query_ids)} query ids; need one each.")
    run: dict[str, dict[str, float]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i, (qid, score, grade) in enumerate(zip(query_ids.tolist(), scores, grades)):
        run.setdefault(str(qid), {})[str(i)] = float(score)
        qrels.setdefault(str(qid), {})[str(i)] = int(grade)
    return run, {q: rels for q, rels in qrels.items() if 0 < sum(r > 0 for r in rels.values()) < len(rels)}


def metrics_for_task(task: str) -> Callable[[EvalPrediction], dict[str, float]]:
    """A `compute_metrics` for `Trainer` that runs this task's `evaluate` module (`metric_for_task`): STS logits go
    through a sigmoid (as `predict` does), class logits through argmax, rerank scores are ranked per query
    (`label_ids` = (grades, query ids), see `CrossEncoderTrainer`)."""
    module = metric_for_task(task)
    if get_task(task).best_metric == "map":
        return lambda p: module.compute(
            predictions=np.ravel(p.predictions),
            references=np.ravel(p.label_ids[0]),
            query_ids=np.ravel(p.label_ids[1]),
        )
    if get_task(task).score == "sigmoid":
        return lambda p: module.compute(
            predictions=1 / (1 + np.exp(-np.ravel(p.predictions).astype(float))), references=np.ravel(p.label_ids)
        )
    return lambda p: module.compute(
        predictions=np.asarray(p.predictions).argmax(-1), references=p.label_ids,
        label_names=_names_for(p.predictions, task),
    )  # fmt: skip


def metric_for_task(task: str) -> evaluate.Metric:
    """The offline `evaluate` module of a task, kept in memory (no cache files, so DDP processes never collide)."""
    kind = get_task(task)
    module = (
        RerankMetrics if kind.best_metric == "map" else STSCorrelation if kind.score == "sigmoid" else NLIAccuracyF1
    )
    return module(keep_in_memory=True)


def load_metric(name: str) -> evaluate.EvaluationModule:
    """`evaluate.load` of one of xenc's modules by name (`sts_correlation`, `nli_accuracy_f1`, `rerank_metrics`),
    from the local scripts in `xenc/metric_modules/`: offline, and combinable with `evaluate.combine`."""
    folder = METRIC_MODULES / name
    if not (folder / f"{name}.py").exists():
        known = sorted(p.name for p in METRIC_MODULES.iterdir() if p.is_dir())
        raise ValueError(f"No xenc metric module {name!r}; use one of {known}, or evaluate.load for the Hub's.")
    return evaluate.load(str(folder))


def _names_for(predictions: np.ndarray, task: str) -> dict[int, str]:
    label2id = get_task(task).label2id or {str(i): i for i in range(np.shape(predictions)[-1])}
    return {i: name for name, i in label2id.items()}


class _ArrayMetric(evaluate.Metric):
    """An offline `evaluate` module around one of the pure functions above."""

    dtype, summary = "float64", ""

    def _info(self) -> evaluate.MetricInfo:
        value = datasets.Value(self.dtype)
        return evaluate.MetricInfo(
            description=f"{self.summary} (xenc, offline).",
            citation="",
            inputs_description=f"predictions, references: {self.dtype} arrays",
            features=datasets.Features({"predictions": value, "references": value}),
        )


class STSCorrelation(_ArrayMetric):
    """Offline `evaluate` module: `STSCorrelation().compute(predictions=..., references=...)`."""

    summary = "Pearson and Spearman correlation"

    def _compute(self, predictions, references) -> dict[str, float]:
        return sts_metrics(np.asarray(predictions), np.asarray(references))


class NLIAccuracyF1(_ArrayMetric):
    """Offline `evaluate` module for class ids: accuracy, macro-F1 and per-class F1 under `LABEL2ID`."""

    dtype, summary = "int64", "Accuracy and F1 for 3-way NLI"

    def _compute(self, predictions, references, label_names: Mapping[int, str] | None = None) -> dict[str, float]:
        return nli_metrics(np.asarray(predictions), np.asarray(references), label_names or ID2LABEL)


class RerankMetrics(evaluate.Metric):
    """Offline `evaluate` module for flat candidate lists: `compute(predictions=scores, references=grades,
    query_ids=ids)` gives MAP, MRR@10 and NDCG@10 over the clean queries (`rerank_metrics`)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="MAP, MRR@10, NDCG@10 of each query's candidates, clean queries only (xenc, offline).",
            citation="",
            inputs_description="predictions: scores; references: grades (0 = irrelevant); query_ids: ints",
            features=datasets.Features(
                {
                    "predictions": datasets.Value("float64"),
                    "references": datasets.Value("float64"),
                    "query_ids": datasets.Value("int64"),
                }
            ),  # fmt: skip
        )

    def _compute(self, predictions, references, query_ids) -> dict[str, float]:
        return rerank_metrics(np.asarray(predictions), np.asarray(references), np.asarray(query_ids))
