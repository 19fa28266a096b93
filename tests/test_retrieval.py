"""Retrieve and rerank: exact search, mining, reranking a run, fusion, rerank groups and the listwise loss."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset

from xenc.data import RerankCollator, build_groups, flatten_groups, tokenize_groups
from xenc.metrics import ranking_metrics
from xenc.retrieval import (
    best_fusion,
    candidate_pairs,
    exact_top_k,
    fuse_nonzero,
    fuse_runs,
    mine_hard_negatives,
    qrels_from_dataset,
    rerank_run,
    score_candidates,
    to_run,
    weight_grid,
)
from xenc.trainer import pair_loss

QUERIES = {"q1": "a man is playing a guitar", "q2": "a dog is running in the park"}
PASSAGES = ["a man playing guitar", "a woman playing piano", "a dog running", "a cat sitting",
            "two people riding bikes", "a red car", "a child eating food", "an old horse in a field"]  # fmt: skip
DOCS = {f"d{i}": text for i, text in enumerate(PASSAGES)}


def test_exact_top_k_matches_a_full_sort():
    rng = np.random.default_rng(0)
    queries, docs = rng.normal(size=(5, 8)), rng.normal(size=(40, 8))
    scores, idx = exact_top_k(queries, docs, k=7, batch_size=2)
    full = queries @ docs.T
    assert idx.tolist() == np.argsort(-full, axis=1)[:, :7].tolist()
    assert np.allclose(scores, np.take_along_axis(full, idx, 1), atol=1e-5)
    assert exact_top_k(queries, docs[:3], k=10)[1].shape == (5, 3)  # k capped at the corpus size


def test_to_run_and_qrels_from_dataset():
    run = to_run(["q1"], ["a", "b", "c"], np.array([[0.9, 0.1]]), np.array([[2, 0]]))
    assert run == {"q1": {"c": pytest.approx(0.9), "a": pytest.approx(0.1)}}
    qrels = Dataset.from_dict({"query_id": ["1", "1", "2"], "corpus_id": ["a", "b", "c"], "score": [1, 1, 1]})
    assert qrels_from_dataset(qrels) == {"1": {"a": 1, "b": 1}, "2": {"c": 1}}


def test_mining_never_returns_a_positive_and_applies_the_filters():
    rng = np.random.default_rng(1)
    scores = rng.random((20, 50))
    positives = [set(rng.choice(50, size=3, replace=False).tolist()) for _ in range(20)]
    for margin in (None, 0.0, 0.05):
        mined = mine_hard_negatives(scores, positives, num_negatives=10, depth=30, margin=margin)
        for row, pos, negs in zip(scores, positives, mined):
            assert not set(negs) & pos and len(negs) <= 10
            assert all(j in np.argsort(-row)[:30] for j in negs)  # within the mining depth
            assert list(negs) == sorted(negs, key=lambda j: -row[j])  # hardest first
            if margin is not None:
                assert all(row[j] < min(row[p] for p in pos) - margin for j in negs)


def test_mining_rank_filter_and_margin_on_a_hand_built_row():
    row = np.array([[0.95, 0.9, 0.8, 0.7, 0.4, 0.2]])  # doc 2 is the positive
    assert mine_hard_negatives(row, [{2}], num_negatives=3, margin=None) == [[0, 1, 3]]
    assert mine_hard_negatives(row, [{2}], num_negatives=3, margin=None, skip_top=2) == [[3, 4, 5]]
    assert mine_hard_negatives(row, [{2}], num_negatives=3, margin=0.2) == [[4, 5]]  # 0.7 is within the margin
    with pytest.raises(ValueError, match="one positives set per query"):
        mine_hard_negatives(row, [{2}, {1}])


def test_rerank_run_reorders_only_the_top_k():
    first = {"q": {"a": 5.0, "b": 4.0, "c": 3.0, "d": 2.0}}
    reranked = rerank_run(first, {"q": {"a": 0.1, "b": 0.2, "c": 0.9}}, k=3)
    assert list(sorted(reranked["q"], key=lambda d: -reranked["q"][d])) == ["c", "b", "a", "d"]
    qrels = {"q": {"c": 1}}
    assert ranking_metrics(reranked, qrels)["mrr@10"] == 1.0 and ranking_metrics(first, qrels)["mrr@10"] == 1 / 3
    with pytest.raises(ValueError, match="no rerank score"):
        rerank_run(first, {"q": {"a": 0.1}}, k=2)
    assert candidate_pairs(first, 2) == [("q", "a"), ("q", "b")]


def test_fuse_runs_normalises_per_query():
    fused = fuse_runs([{"q": {"a": 10.0, "b": 0.0}}, {"q": {"a": 0.0, "b": 0.5, "c": 1.0}}], [0.5, 0.5])
    assert fused["q"] == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5})
    with pytest.raises(ValueError, match="one weight per run"):
        fuse_runs([{}], [0.5, 0.5])


def test_best_fusion_searches_the_weight_grid_on_the_given_score():
    grid = weight_grid(3)
    assert len(grid) == 66 and all(np.isclose(sum(w), 1) for w in grid) and (0.3, 0.3, 0.4) in grid
    right, wrong = {"q": {"a": 1.0, "b": 0.0}}, {"q": {"a": 0.0, "b": 1.0, "c": 0.5}}
    assert fuse_nonzero([right, wrong], [1.0, 0.0]) == fuse_runs([right], [1.0])  # "c" of the dropped run is gone
    qrels = {"q": {"a": 1}}
    best, score = best_fusion([wrong, right], lambda run: ranking_metrics(run, qrels)["ndcg@10"])
    assert score == 1.0 and best == (0.0, 1.0)  # the first of equal weightings: `right` alone
    worst, _ = best_fusion([wrong, right], lambda run: -ranking_metrics(run, qrels)["ndcg@10"])
    assert worst[0] > worst[1]


def test_score_candidates_groups_scores_by_query():
    class Echo:  # scores a pair by the length of its passage
        def predict(self, pairs, truncation, **kw):
            assert truncation == "only_second"
            return np.array([len(p) for _, p in pairs], dtype=float)

    pairs = [("q1", "d0"), ("q2", "d2"), ("q1", "d5")]
    scores = score_candidates(Echo(), QUERIES, DOCS, pairs)
    assert scores == {"q1": {"d0": len(DOCS["d0"]), "d5": len(DOCS["d5"])}, "q2": {"d2": len(DOCS["d2"])}}


def _groups(num_negatives=3):
    negatives = {"q1": ["d1", "d3", "d4", "d5"], "q2": ["d3", "d6"]}
    return build_groups(QUERIES, DOCS, [("q1", "d0"), ("q2", "d2")], negatives, num_negatives)


def test_build_and_flatten_groups():
    groups = _groups()
    assert len(groups) == 1 and groups[0]["negatives"] == [DOCS["d1"], DOCS["d3"], DOCS["d4"]]  # q2 has too few
    assert len(_groups(2)) == 2
    flat = flatten_groups(groups)
    assert flat["label"] == [1.0, 0.0, 0.0, 0.0] and flat["passage"][0] == DOCS["d0"]
    with pytest.raises(ValueError, match="mine deeper"):
        _groups(5)


def test_rerank_collator_flattens_groups_positive_first(tiny_tokenizer):
    encoded = tokenize_groups(_groups(2), tiny_tokenizer, max_length=16)
    batch = RerankCollator(tiny_tokenizer)([encoded[0], encoded[1]])
    assert batch["input_ids"].shape[0] == 6 and batch["input_ids"].shape[1] % 8 == 0
    assert batch["labels"].tolist() == [0, 0]
    positive = tiny_tokenizer(QUERIES["q1"], DOCS["d0"])["input_ids"]
    assert batch["input_ids"][0, : len(positive)].tolist() == positive
    with pytest.raises(ValueError, match="same num_negatives"):
        RerankCollator(tiny_tokenizer)([encoded[0], {**encoded[1], "input_ids": encoded[1]["input_ids"][:2]}])


def test_listwise_loss_matches_a_manual_softmax_cross_entropy():
    logits = torch.tensor([[2.0], [0.5], [-1.0], [0.1], [0.3], [0.2]])  # 2 groups of 3 pairs
    labels = torch.tensor([0, 0])
    manual = -(
        F.log_softmax(torch.tensor([2.0, 0.5, -1.0]), 0)[0] + F.log_softmax(torch.tensor([0.1, 0.3, 0.2]), 0)[0]
    )
    loss = pair_loss("listwise")({"logits": logits}, labels)
    assert loss.item() == pytest.approx(manual.item() / 2)
    assert pair_loss("listwise")({"logits": logits}, labels, num_items_in_batch=4).item() == pytest.approx(
        manual.item() / 4
    )


@pytest.mark.heavy
@pytest.mark.parametrize("loss", ["listwise", "bce"])
def test_rerank_training_lowers_the_loss(make_trainer, tiny_model, tiny_tokenizer, tmp_path, loss):
    groups = _groups(2)
    groups = Dataset.from_dict({k: list(groups[k]) * 8 for k in groups.column_names})
    if loss == "listwise":
        train, collator = tokenize_groups(groups, tiny_tokenizer, 32), RerankCollator(tiny_tokenizer)
    else:
        from xenc.data import tokenize_pairs

        train = tokenize_pairs(flatten_groups(groups), tiny_tokenizer, 32, "only_second", 1, ("query", "passage"))
        collator = None
    kw = {"data_collator": collator} if collator else {}
    trainer = make_trainer(tmp_path, tiny_model, task="rerank", loss=loss, train_dataset=train,
                           per_device_train_batch_size=4, num_train_epochs=8, learning_rate=3e-3, logging_steps=1,
                           **kw)  # fmt: skip
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
