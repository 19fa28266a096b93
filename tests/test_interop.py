"""Saved models cross over: xenc -> sentence-transformers CrossEncoder and back, with the same scores."""

import numpy as np
import pytest

from tests.test_cross_encoder import PAIRS
from xenc import CrossEncoder

st = pytest.importorskip("sentence_transformers", reason="the interop tests need the minilm/bench extra")


def test_xenc_model_loads_in_sentence_transformers_with_sigmoid_scores(tiny_model_dir, tmp_path):
    ours = CrossEncoder(str(tiny_model_dir), device="cpu")
    ours.save_pretrained(tmp_path / "m")
    theirs = st.CrossEncoder(str(tmp_path / "m"), device="cpu")
    assert type(theirs.activation_fn).__name__ == "Sigmoid"
    assert np.abs(theirs.predict(PAIRS) - ours.predict(PAIRS)).max() < 1e-5


def test_sentence_transformers_model_loads_in_xenc(tiny_model_dir, tmp_path):
    theirs = st.CrossEncoder(str(tiny_model_dir), device="cpu")
    theirs.save_pretrained(str(tmp_path / "st"))
    ours = CrossEncoder(str(tmp_path / "st"), device="cpu")
    assert np.abs(ours.predict(PAIRS) - theirs.predict(PAIRS)).max() < 1e-5


@pytest.mark.parametrize("always_rerank_positives", [True, False])
def test_the_reranking_evaluator_reports_what_the_peers_does(tiny_model_dir, always_rerank_positives):
    from xenc import CrossEncoder, CrossEncoderRerankingEvaluator

    samples = [
        {"query": "a man eats", "positive": ["a man is eating food"], "documents": [
            "the market fell", "a man is eating food", "a dog runs", "rain again"]},
        {"query": "a dog runs", "positive": ["a dog is running", "the dog runs fast"], "documents": [
            "a dog is running", "a cat sleeps", "cars in traffic"]},  # one positive missing from the documents
        {"query": "stocks", "positive": ["the market fell"], "documents": ["a cat sleeps", "rain again"]},
    ]  # fmt: skip
    ours = CrossEncoderRerankingEvaluator(samples, always_rerank_positives=always_rerank_positives, write_csv=False)
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator as PeerEvaluator

    peer = PeerEvaluator(samples, always_rerank_positives=always_rerank_positives, write_csv=False)
    mine, theirs = ours(CrossEncoder(str(tiny_model_dir))), peer(st.CrossEncoder(str(tiny_model_dir)))
    assert {k for k in mine if k.startswith("base_")} == {"base_map", "base_mrr@10", "base_ndcg@10"}
    assert mine == pytest.approx({k: v for k, v in theirs.items() if k in mine}) and set(mine) <= set(theirs)


def test_the_reranking_evaluator_names_a_missing_key(tiny_model_dir):
    from xenc import CrossEncoder, CrossEncoderRerankingEvaluator

    evaluator = CrossEncoderRerankingEvaluator([{"positive": ["a"], "negative": ["b"]}], write_csv=False)
    with pytest.raises(ValueError, match="requires a 'query' key"):
        evaluator(CrossEncoder(str(tiny_model_dir)))
