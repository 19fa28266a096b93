"""xenc.beir: the SciFact split, BM25 (and per question), mined groups, reranker training, the score cache."""

import numpy as np
import pytest

from xenc import CrossEncoder
from xenc.beir import BeirSplit, BM25Index, bm25_per_query, mine_groups, score_top_k, train_reranker


def test_beir_split_is_disjoint_and_its_indexes_rank_judged_documents():
    split = BeirSplit.load("scifact", smoke=True)
    assert (len(split.test), len(split.dev), len(split.fit)) == (8, 8, 16)
    assert not set(split.dev) & set(split.fit) and not set(split.test) & (set(split.dev) | set(split.fit))
    assert BeirSplit.load("scifact", smoke=True).dev == split.dev  # the seeded draw repeats
    bm25 = BM25Index(split.docs)
    run = bm25.search(list(split.test), split.texts(split.test), k=10)
    assert set(run) == set(split.test) and all(len(docs) == 10 for docs in run.values())
    found = np.mean([bool(set(run[q]) & set(split.test[q])) for q in split.test])
    assert found >= 0.5  # BM25 finds a cited abstract in the top 10 for most claims among 300-odd documents
    scores = bm25.score_matrix(split.texts(split.fit))
    assert scores.shape == (16, len(split.docs))
    with pytest.raises(ValueError, match="dev_queries"):
        BeirSplit.load("scifact", dev_queries=0, smoke=True)


def test_mine_groups_and_train_a_reranker(tmp_path, tiny_model_dir):
    split = BeirSplit.load("scifact", smoke=True)
    groups, replaced = mine_groups(split, BM25Index(split.docs).score_matrix(split.texts(split.fit)), 2, depth=20)
    assert 0 <= replaced <= 2 and len(groups[0]["negatives"]) == 2
    judged = {split.queries[q]: {split.docs[d] for d in split.fit[q]} for q in split.fit}
    assert all(g["positive"] in judged[g["query"]] for g in groups)
    assert not any(n in judged[g["query"]] for g in groups for n in g["negatives"])  # never a cited abstract
    for loss in ("listwise", "bce"):
        folder = tmp_path / loss
        path = train_reranker(groups, str(tiny_model_dir), folder, loss, max_length=64, max_steps=2, bf16=False)
        model = CrossEncoder(str(path))
        assert model.num_labels == 1 and np.isfinite(model.predict([("a claim", "an abstract")])).all()
        assert model.max_length == 64  # the training length, saved with the model


def test_score_top_k_reuses_its_cache_and_drops_it_for_other_weights(tmp_path, tiny_model_dir):
    split = BeirSplit.load("scifact", smoke=True)
    run = BM25Index(split.docs).search(list(split.test), split.texts(split.test), k=5)
    model, cache = CrossEncoder(str(tiny_model_dir)), tmp_path / "scores.json"
    first = score_top_k(model, split, run, 3, cache=cache)
    assert all(len(docs) == 3 and set(docs) <= set(run[q]) for q, docs in first.items())
    calls = []
    model.predict = lambda pairs, **kw: calls.append(len(pairs)) or np.zeros(len(pairs))
    assert score_top_k(model, split, run, 3, cache=cache) == first and not calls  # all from the cache
    score_top_k(model, split, run, 5, cache=cache)
    assert calls == [2 * len(split.test)]  # only the two new ranks are scored
    model.precision = "bf16"
    score_top_k(model, split, run, 3, cache=cache)
    assert calls[-1] == 3 * len(split.test)  # another precision: scored again


def test_bm25_per_query_scores_each_candidate_against_its_own_question():
    queries = ["who wrote hamlet", "who wrote hamlet", "who wrote hamlet", "capital of france", "capital of france"]
    answers = ["Shakespeare wrote Hamlet.", "Paris is big.", "Hamlet is a play.", "Paris is the capital of France.",
               "Hamlet was written in 1600."]  # fmt: skip
    scores = bm25_per_query(queries, answers, [1, 1, 1, 2, 2])
    assert scores[0] > scores[2] > scores[1] == 0 and scores[3] > scores[4] == 0
