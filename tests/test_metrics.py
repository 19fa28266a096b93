"""Metrics against hand-computed values, standalone, as compute_metrics, and as offline evaluate modules."""

import evaluate
import numpy as np
import pytest
from transformers import EvalPrediction

from xenc.metrics import (
    NLIAccuracyF1,
    STSCorrelation,
    clean_run,
    confusion_table,
    load_metric,
    metrics_for_task,
    nli_metrics,
    per_query_metrics,
    ranking_metrics,
    rerank_metrics,
    sts_metrics,
)


def test_sts_metrics_by_hand():
    pred, gold = np.array([1.0, 2.0, 3.0, 5.0]), np.array([1.0, 3.0, 2.0, 4.0])
    # Spearman: ranks (1,2,3,4) vs (1,3,2,4): 1 - 6*2/(4*15) = 0.8
    assert sts_metrics(pred, gold)["spearman"] == pytest.approx(0.8)
    pc, gc = pred - pred.mean(), gold - gold.mean()
    assert sts_metrics(pred, gold)["pearson"] == pytest.approx(pc @ gc / np.sqrt((pc @ pc) * (gc @ gc)))


def test_nli_metrics_from_logits_and_ids():
    gold = np.array([0, 0, 1, 2])
    logits = np.array([[3, 0, 0], [0, 3, 0], [0, 3, 0], [0, 0, 3]], dtype=float)
    m = nli_metrics(logits, gold)
    assert m["accuracy"] == 0.75
    # entailment P=1 R=.5 F1=2/3; neutral P=.5 R=1 F1=2/3; contradiction 1
    assert m["f1_entailment"] == pytest.approx(2 / 3) and m["f1_contradiction"] == 1.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    table = confusion_table(logits, gold)
    assert table.loc["entailment", "neutral"] == 1 and table.to_numpy().sum() == 4


def test_ranking_metrics_on_a_known_permutation():
    run = {"q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7}, "q2": {"x": 1.0, "y": 0.5}}
    qrels = {"q1": {"d2": 1, "d3": 1}, "q2": {"x": 1}, "q3": {"z": 1}}  # q3 never retrieved: counts as 0
    m = ranking_metrics(run, qrels, k=10, recall_at=(1, 100))
    ndcg_q1 = (1 / np.log2(3) + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    assert m["ndcg@10"] == pytest.approx((ndcg_q1 + 1 + 0) / 3)
    assert m["mrr@10"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["map"] == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1 + 0) / 3)
    assert m["recall@1"] == pytest.approx((0 + 1 + 0) / 3) and m["recall@100"] == pytest.approx(2 / 3)


def test_tied_scores_rank_the_relevant_document_last_whatever_the_input_order():
    qrels = {"q": {"right": 1}}
    for run in ({"q": {"right": 0.9, "wrong": 0.9, "low": 0.1}}, {"q": {"wrong": 0.9, "right": 0.9, "low": 0.1}}):
        metrics = ranking_metrics(run, qrels)
        assert metrics["mrr@10"] == 0.5 and metrics["map"] == 0.5  # listed first or second: ranked second
    # rerank_metrics over flat rows (TrecQA lists the right answers first): a constant scorer gets the worst order
    scores, grades, queries = np.zeros(4), np.array([1, 0, 0, 0]), np.array([3, 3, 3, 3])
    assert rerank_metrics(scores, grades, queries)["map"] == 0.25


def test_ranking_cutoff_drops_hits_below_k():
    run = {"q": {f"d{i}": -i for i in range(20)}}
    assert ranking_metrics(run, {"q": {"d12": 1}}, k=10)["ndcg@10"] == 0.0


def test_compute_metrics_for_sts_applies_sigmoid_like_predict():
    logits = np.array([[-2.0], [0.0], [3.0]])
    m = metrics_for_task("sts")(EvalPrediction(predictions=logits, label_ids=np.array([0.1, 0.5, 0.95])))
    assert m["spearman"] == pytest.approx(1.0)
    assert m["pearson"] == pytest.approx(sts_metrics(1 / (1 + np.exp(-logits[:, 0])), [0.1, 0.5, 0.95])["pearson"])


def test_evaluate_modules_run_offline():
    assert STSCorrelation().compute(predictions=[0.1, 0.5, 0.2], references=[0.0, 1.0, 0.5])["spearman"] == 1.0
    assert NLIAccuracyF1().compute(predictions=[0, 1, 2, 1], references=[0, 1, 1, 1])["accuracy"] == 0.75


def test_compute_metrics_of_every_task_run_the_evaluate_module_and_match_the_functions():
    rng = np.random.default_rng(0)
    logits, classes, grades, qids = rng.normal(size=(12, 1)), rng.normal(size=(12, 3)), rng.integers(0, 2, 12), \
        np.repeat([1, 2, 3], 4)  # fmt: skip
    sts = metrics_for_task("sts")(EvalPrediction(predictions=logits, label_ids=rng.random(12)))
    assert set(sts) == {"pearson", "spearman"}
    nli = metrics_for_task("nli")(EvalPrediction(predictions=classes, label_ids=grades + 1))
    assert nli == pytest.approx(nli_metrics(classes, grades + 1))
    rerank = metrics_for_task("rerank")(EvalPrediction(predictions=logits, label_ids=(grades, qids)))
    assert rerank == pytest.approx(rerank_metrics(logits, grades, qids))
    other = metrics_for_task("classification")(EvalPrediction(predictions=classes[:, :2], label_ids=grades))
    assert set(other) == {"accuracy", "macro_f1", "f1_0", "f1_1"}  # names from the head size, not NLI's


def test_load_metric_by_name_offline_and_combine():
    sts = load_metric("sts_correlation")
    assert sts.compute(predictions=[0.1, 0.5, 0.2], references=[0.0, 1.0, 0.5])["spearman"] == 1.0
    ranking = load_metric("rerank_metrics").compute(predictions=[0.9, 0.1, 0.2, 0.8], references=[0, 1, 1, 0],
                                                   query_ids=[7, 7, 8, 8])  # fmt: skip
    assert ranking["mrr@10"] == 0.5 and ranking["queries"] == 2
    both = evaluate.combine([sts, load_metric("nli_accuracy_f1")])
    assert isinstance(both, evaluate.CombinedEvaluations)
    with pytest.raises(ValueError, match="sts_correlation"):
        load_metric("spearmanr")


def test_per_query_metrics_average_to_ranking_metrics_and_clean_run_drops_one_sided_queries():
    run = {"a": {"x": 2.0, "y": 1.0}, "b": {"x": 1.0, "y": 2.0}}
    qrels = {"a": {"y": 1}, "b": {"y": 1}}
    each = per_query_metrics(run, qrels)
    assert each["a"]["mrr@10"] == 0.5 and each["b"]["mrr@10"] == 1.0
    assert ranking_metrics(run, qrels)["mrr@10"] == 0.75
    flat_run, clean = clean_run(np.array([0.1, 0.9, 0.5, 0.4]), np.array([1, 0, 1, 1]), np.array([3, 3, 4, 4]))
    assert set(flat_run) == {"3", "4"} and clean == {"3": {"0": 1, "1": 0}}  # question 4 has no wrong answer
