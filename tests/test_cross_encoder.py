"""CrossEncoder: predict (order, streams, chunks, activation, single pair, precision), rank, bad input, save."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from tests.conftest import FIXTURES
from xenc import CrossEncoder

PAIRS = [list(p) for p in pd.read_csv(FIXTURES / "sts_pairs.csv")[["sentence1", "sentence2"]].itertuples(index=False)]


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return CrossEncoder(str(tiny_model_dir), device="cpu")


def test_sorted_batches_give_the_scores_of_one_by_one_in_input_order(model):
    batched = model.predict(PAIRS, batch_size=4)
    single = np.array([model.predict(p) for p in PAIRS])
    assert batched.shape == (len(PAIRS),) and np.allclose(batched, single, atol=1e-6)
    assert ((batched > 0) & (batched < 1)).all()  # sigmoid for one label


def test_activation_override_and_raw_logits(model):
    logits = model.predict(PAIRS[:3], activation_fn=torch.nn.Identity())
    assert np.allclose(1 / (1 + np.exp(-logits)), model.predict(PAIRS[:3]), atol=1e-6)


def test_classes_give_logits_or_softmax(tmp_path, tiny_nli_model, tiny_tokenizer):
    tiny_nli_model.save_pretrained(tmp_path), tiny_tokenizer.save_pretrained(tmp_path)
    nli = CrossEncoder(str(tmp_path), device="cpu")
    probs = nli.predict(PAIRS[:5], apply_softmax=True)
    assert probs.shape == (5, 3) and np.allclose(probs.sum(1), 1, atol=1e-6)


def test_generator_and_chunks_give_the_scores_of_a_list_in_input_order(model):
    whole = model.predict(PAIRS, batch_size=4)
    streamed = model.predict((p for p in PAIRS), batch_size=4, chunk_size=3)  # 3 pairs read at a time
    chunked = model.predict(PAIRS, batch_size=2, chunk_size=5)
    reversed_ = model.predict(PAIRS[::-1], batch_size=4, chunk_size=7)
    assert streamed.shape == (len(PAIRS),) and np.allclose(streamed, whole, atol=1e-6)
    assert np.allclose(chunked, whole, atol=1e-6) and np.allclose(reversed_[::-1], whole, atol=1e-6)
    assert model.predict(iter([])).shape == (0,) and np.allclose(model.predict(np.array(PAIRS[:3])), whole[:3])


def test_bad_pair_in_a_later_chunk_names_its_position(model):
    with pytest.raises(ValueError, match=r"pairs\[4:\]\[1\]\[1\] is empty"):
        model.predict(iter(PAIRS[:5] + [["a man", ""]]), chunk_size=4)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_low_precision_scores_are_close_to_fp32(tiny_model_dir, model, precision):
    fast = CrossEncoder(str(tiny_model_dir), device="cpu", precision=precision)
    scores = fast.predict(PAIRS, batch_size=4)
    assert scores.dtype == np.float32 and np.abs(scores - model.predict(PAIRS, batch_size=4)).max() < 2e-2
    assert next(fast.model.parameters()).dtype == torch.float32  # predict runs a low-precision copy
    with torch.no_grad():  # an in-place update (as an optimizer step makes) must reach the copy
        fast.model.classifier.bias.add_(1.0)
    fast.precision, exact = "fp32", fast.predict(PAIRS, batch_size=4)
    fast.precision = precision
    assert np.abs(fast.predict(PAIRS, batch_size=4) - exact).max() < 2e-2 and np.abs(exact - scores).min() > 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"precision": "int4"}, r"precision='int4' is unknown; use one of \['fp32', 'bf16', 'fp16'\]"),
        ({"batch_size": 0}, r"batch_size=0, chunk_size=10000: both must be positive"),
        ({"chunk_size": 0}, r"chunk_size=0: both must be positive"),
    ],
)
def test_bad_settings_name_the_fix(tiny_model_dir, model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        if "precision" in kwargs:
            CrossEncoder(str(tiny_model_dir), device="cpu", **kwargs)
        else:
            model.predict(PAIRS, **kwargs)


def test_rank_sorts_best_first_and_returns_ids(model):
    docs = [p[1] for p in PAIRS[:6]]
    hits = model.rank(PAIRS[0][0], docs, return_documents=True)
    scores = model.predict([(PAIRS[0][0], d) for d in docs], truncation="only_second")
    assert [h["corpus_id"] for h in hits] == list(np.argsort(-scores, kind="stable"))
    assert hits[0]["text"] == docs[hits[0]["corpus_id"]] and len(model.rank("a man", docs, top_k=2)) == 2


@pytest.mark.parametrize(
    "bad, message",
    [
        (["a man", "a dog", "a cat"], r"expected a pair"),
        ([["a man"]], r"expected a pair"),
        ([["a man", ""]], r"is empty"),
        ([["a man", 3]], r"must be str"),
        ("a man", r"list of \[text_a, text_b\] pairs"),
        (3, r"list of \[text_a, text_b\] pairs"),
        ((p for p in [["a man", "a dog"], "a cat"]), r"pairs\[1\] is 'a cat': expected a pair"),
    ],
)
def test_bad_input_names_the_problem(model, bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        model.predict(bad)


def test_saved_model_reloads_in_plain_transformers_with_identical_logits(model, tmp_path):
    model.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / "model.safetensors").exists()
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["sentence_transformers"]["activation_fn"] == "torch.nn.modules.activation.Sigmoid"
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()
    batch = model.tokenizer([p[0] for p in PAIRS], [p[1] for p in PAIRS], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(plain(**batch).logits, model.model.eval()(**batch).logits)
    reloaded = CrossEncoder(str(tmp_path / "m"), device="cpu")
    assert np.allclose(reloaded.predict(PAIRS), model.predict(PAIRS), atol=1e-6)


def test_save_refuses_to_overwrite_a_model(model, tmp_path):
    model.save_pretrained(tmp_path)
    before = (tmp_path / "model.safetensors").read_bytes()
    with pytest.raises(FileExistsError, match="already holds a model"):
        model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == before
    model.save_pretrained(tmp_path, overwrite=True)


def test_windows_score_long_passages_by_their_best_or_first_window(tiny_model_dir):
    model = CrossEncoder(str(tiny_model_dir), max_length=16)
    query, short = "a man is playing", "a man plays"
    long = "the sky is blue and the park is green . " * 3 + "a man is playing guitar ."  # far past 16 tokens
    pairs = [(query, long), (query, short)]
    cut = model.predict(pairs, truncation="only_second")
    first = model.predict(pairs, windows="first", stride=4)
    best = model.predict(pairs, windows="max", stride=4)
    assert first == pytest.approx(cut, abs=1e-6)  # FirstP is what truncating the passage scores
    assert best[1] == pytest.approx(cut[1], abs=1e-6)  # a passage that fits has one window
    enc = model.tokenizer(query, long, truncation="only_second", max_length=16, stride=4,
                          return_overflowing_tokens=True, return_tensors="pt", padding=True)  # fmt: skip
    enc.pop("overflow_to_sample_mapping")
    with torch.inference_mode():
        each = torch.sigmoid(model.model(**enc).logits.view(-1))
    assert len(each) > 2 and best[0] == pytest.approx(each.max().item(), abs=1e-5)  # MaxP: the best window
    hits = model.rank(query, [short, long], windows="max", stride=4)
    assert sorted(h["score"] for h in hits) == pytest.approx(sorted(best.tolist()), abs=1e-6)
    with pytest.raises(ValueError, match="MaxP"):
        model.predict(pairs, windows="mean")
