"""Reranking as a task: TrecQA candidate lists, the ranking metrics in Trainer's evaluation, pairwise losses."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset

from xenc.data import RerankCollator, groups_from_pairs, load, tokenize_groups, tokenize_pairs
from xenc.metrics import rerank_metrics
from xenc.train import main, parse_args
from xenc.trainer import pair_loss

FAST = ["--max_train_samples", "48", "--max_eval_samples", "40", "--num_train_epochs", "1", "--use_cpu", "true",
        "--disable_tqdm", "true", "--max_length", "64"]  # fmt: skip
PAIRS = Dataset.from_dict({
    "sentence1": ["who plays guitar ?"] * 4 + ["who rides a bike ?"] * 3 + ["who eats ?"] * 2,
    "sentence2": ["a man plays guitar", "a dog runs", "a cat sits", "the sky",
                  "a child rides a bike", "a woman rides a bike", "water", "a man is eating", "people eat"],
    "label": [1, 0, 0, 0, 1, 1, 0, 1, 1],
    "qid": [0, 0, 0, 0, 1, 1, 1, 2, 2],
})  # fmt: skip


def test_rerank_metrics_on_hand_built_rankings():
    # query 0: relevant at ranks 2 and 3 of 4; query 1: relevant at rank 1; query 2: all relevant (not counted)
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.5, 0.2, 0.6, 0.6])
    grades = np.array([0, 1, 2, 0, 1, 0, 1, 1])
    qids = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    m = rerank_metrics(scores, grades, qids)
    assert m["queries"] == 2
    assert m["map"] == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1.0) / 2)
    assert m["mrr@10"] == pytest.approx((1 / 2 + 1) / 2)
    dcg = 1 / np.log2(3) + 2 / np.log2(4)
    ideal = 2 / np.log2(2) + 1 / np.log2(3)  # graded: the grade-2 candidate belongs first
    assert m["ndcg@10"] == pytest.approx((dcg / ideal + 1.0) / 2)
    with pytest.raises(ValueError, match="one each"):
        rerank_metrics(scores, grades[:-1], qids)


def test_trecqa_from_the_mirror_has_question_ids_and_the_clean_counts():
    data = load("trecqa")
    assert {k: len(v) for k, v in data.items()} == {"train": 4718, "validation": 1148, "test": 1517}
    assert data["test"].column_names == ["sentence1", "sentence2", "label", "qid"]
    for split, clean in (("validation", 65), ("test", 68)):  # SOURCES.md: questions with a right and a wrong answer
        m = rerank_metrics(np.zeros(len(data[split])), data[split]["label"], data[split]["qid"])
        assert m["queries"] == clean


def test_groups_from_pairs_keep_each_query_s_own_negatives():
    groups = groups_from_pairs(PAIRS, num_negatives=3, seed=0)
    assert groups["positive"] == ["a man plays guitar", "a child rides a bike", "a woman rides a bike"]  # q2: no neg
    assert sorted(groups[0]["negatives"]) == ["a cat sits", "a dog runs", "the sky"]  # without replacement first
    assert groups[1]["negatives"] == ["water"] * 3  # then with replacement: only one negative exists
    with pytest.raises(ValueError, match="nothing to rank"):
        groups_from_pairs(PAIRS.select([7, 8]), 3)


def _manual_pairwise(groups: torch.Tensor, weighted: bool) -> float:
    total = 0.0
    for row in groups:
        order = row.argsort(descending=True).argsort() + 1  # 1-based ranks
        terms = []
        for j in range(1, len(row)):
            weight = abs(1 / math.log2(1 + order[0].item()) - 1 / math.log2(1 + order[j].item())) if weighted else 1
            terms.append(weight * F.softplus(row[j] - row[0]).item())
        total += sum(terms) / len(terms)
    return total


@pytest.mark.parametrize("loss", ["ranknet", "lambda"])
def test_pairwise_losses_match_a_manual_computation(loss):
    logits = torch.tensor([[2.0], [0.5], [-1.0], [0.1], [0.3], [0.2]])  # 2 groups of 3, positive first
    manual = _manual_pairwise(logits.view(2, 3), weighted=loss == "lambda")
    assert pair_loss(loss)({"logits": logits}, torch.tensor([0, 0])).item() == pytest.approx(manual / 2, rel=1e-6)
    assert pair_loss(loss)({"logits": logits}, torch.tensor([0, 0]), 4).item() == pytest.approx(manual / 4, rel=1e-6)


def test_lambda_weights_a_top_mistake_more_than_a_bottom_one():
    top = pair_loss("lambda")({"logits": torch.tensor([[1.0], [2.0], [-5.0], [-6.0]])}, torch.tensor([0]))
    bottom = pair_loss("lambda")({"logits": torch.tensor([[-5.0], [2.0], [1.0], [-4.0]])}, torch.tensor([0]))
    ranknet_top = pair_loss("ranknet")({"logits": torch.tensor([[1.0], [2.0], [-5.0], [-6.0]])}, torch.tensor([0]))
    assert top.item() > 0 and bottom.item() > 0 and top.item() < ranknet_top.item()  # swaps weigh |dNDCG| <= 1


def test_collator_pads_flat_candidate_rows_for_evaluation(tiny_tokenizer):
    flat = tokenize_pairs(PAIRS, tiny_tokenizer, 32, "only_second")
    assert "qid" in flat.column_names
    batch = RerankCollator(tiny_tokenizer)([flat[i] for i in range(3)])
    assert batch["input_ids"].shape[0] == 3 and batch["qid"].tolist() == [0, 0, 0]
    grouped = RerankCollator(tiny_tokenizer)([tokenize_groups(groups_from_pairs(PAIRS, 2), tiny_tokenizer, 32)[0]])
    assert grouped["input_ids"].shape[0] == 3 and grouped["labels"].tolist() == [0]


@pytest.mark.heavy
@pytest.mark.parametrize("loss", ["bce", "listwise", "lambda"])
def test_xenc_train_rerank_on_trecqa_selects_the_best_epoch_by_map(tiny_model_dir, tmp_path, loss):
    out = tmp_path / "run"
    metrics = main(*parse_args(["--model", str(tiny_model_dir), "--dataset", "trecqa", "--loss", loss,
                                "--num_negatives", "3", "--output_dir", str(out), *FAST,
                                "--num_train_epochs", "2"]))  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["task"] == "rerank" and results["config"]["truncation"] == "only_second"
    assert results["training_args"]["metric_for_best_model"] == "map"
    evals = [h for h in results["log_history"] if "eval_map" in h and h["step"] > 0]  # 2 epochs, then the final one
    assert len(evals) == 3 and all(0 < h["eval_map"] <= 1 for h in evals)
    assert metrics["eval_map"] == pytest.approx(max(h["eval_map"] for h in evals[:2]))  # the best epoch was reloaded
    assert {"untrained_map", "test_map", "test_mrr@10", "test_ndcg@10"} <= set(metrics)
    assert metrics["test_queries"] > 0 and math.isfinite(metrics["eval_loss"])


def test_distillation_losses_match_a_manual_computation():
    student = torch.tensor([[2.0], [0.5], [-1.0], [0.1], [0.3], [0.2]])  # 2 groups of 3, positive first
    teacher = torch.tensor([[3.0, 0.0, -2.0], [1.0, 1.5, -1.0]])
    s = student.view(2, 3)
    margin = sum(((s[g, 0] - s[g, j]) - (teacher[g, 0] - teacher[g, j])) ** 2 for g in range(2) for j in (1, 2)) / 2
    p, log_q = F.softmax(teacher, 1), F.log_softmax(s, 1)
    kl = (p * (p.log() - log_q)).sum()
    assert pair_loss("margin_mse")({"logits": student}, teacher).item() == pytest.approx(margin.item() / 2, rel=1e-6)
    assert pair_loss("kl")({"logits": student}, teacher).item() == pytest.approx(kl.item() / 2, rel=1e-6)
    assert pair_loss("kl")({"logits": teacher.view(-1, 1)}, teacher).item() == pytest.approx(0.0, abs=1e-7)


def test_distillation_from_a_teacher_cross_encoder(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="need --teacher"):
        parse_args(["--dataset", "trecqa", "--loss", "margin_mse"])
    out = tmp_path / "student"
    metrics = main(*parse_args(["--model", str(tiny_model_dir), "--dataset", "trecqa", "--loss", "margin_mse",
                                "--teacher", str(tiny_model_dir), "--num_negatives", "3", "--output_dir", str(out),
                                *FAST]))  # fmt: skip
    assert math.isfinite(metrics["train_loss"]) and 0 < metrics["test_map"] <= 1


@pytest.mark.heavy
def test_xenc_train_prints_the_ranking_metrics(tiny_model_dir, tmp_path, capsys):
    from xenc.cli import main as cli

    cli(["train", "--model", str(tiny_model_dir), "--dataset", "trecqa", "--output_dir", str(tmp_path / "run"), *FAST])
    table = capsys.readouterr().out
    assert all(f"| {key}" in table for key in ("untrained_map", "eval_map", "test_map", "test_mrr@10", "test_ndcg@10"))
