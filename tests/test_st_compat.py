"""sentence-transformers `CrossEncoder` behaviour that scripts rely on: predict's output forms, constructor names."""

import copy
import json

import numpy as np
import pytest
import torch
from transformers import BertModel

from tests.conftest import WORDS, tiny_config
from tests.test_cross_encoder import PAIRS
from xenc import CrossEncoder

pytestmark = pytest.mark.usefixtures("fresh_notices")


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return CrossEncoder(str(tiny_model_dir), device="cpu")


def test_predict_output_forms(model):
    scores = model.predict(PAIRS)
    assert isinstance(scores, np.ndarray) and scores.shape == (len(PAIRS),)
    tensor = model.predict(PAIRS, convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and torch.allclose(tensor, torch.as_tensor(scores))
    as_list = model.predict(PAIRS, convert_to_numpy=False)
    assert isinstance(as_list, list) and len(as_list) == len(PAIRS)
    single = model.predict(PAIRS[0])
    assert isinstance(single, np.floating) and single == pytest.approx(scores[0])
    assert model.predict(np.array(PAIRS[0])) == pytest.approx(scores[0])  # a 1-D array of two texts is one pair
    empty = model.predict([])
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)
    assert isinstance(model.predict([], convert_to_tensor=True), torch.Tensor)


def test_activation_names_old_and_new(model, tiny_model_dir, caplog):
    logits = model.predict(PAIRS, activation_fn=torch.nn.Identity())
    assert model.predict(PAIRS, activation_fct=torch.nn.Identity()) == pytest.approx(logits)  # the old keyword
    assert "`activation_fct` argument was renamed and is now deprecated. Please use `activation_fn`" in caplog.text
    assert model.predict(PAIRS) == pytest.approx(1 / (1 + np.exp(-logits)), abs=1e-6)
    with pytest.warns(DeprecationWarning, match="`default_activation_function` property was renamed"):
        assert model.default_activation_function is model.activation_fn
    assert isinstance(model.activation_fn, torch.nn.Sigmoid)
    legacy = CrossEncoder(str(tiny_model_dir), default_activation_function=torch.nn.Identity())
    assert "`default_activation_function` argument was renamed" in caplog.text
    assert legacy.predict(PAIRS) == pytest.approx(logits, abs=1e-6)


def test_old_call_names_warn_and_keep_working(model, caplog):
    scores = model.predict(PAIRS)
    assert model.predict(inputs=PAIRS) == pytest.approx(scores)  # the peer's name since 4
    assert model.predict(sentences=PAIRS) == pytest.approx(scores)
    assert "CrossEncoder.predict `sentences` argument was renamed and is now deprecated. Please use `inputs`" in (
        caplog.text
    )
    assert model.predict(PAIRS, num_workers=2) == pytest.approx(scores)
    assert "CrossEncoder.predict `num_workers` argument is deprecated and has no effect" in caplog.text
    query, docs = PAIRS[0][0], [b for _, b in PAIRS]
    ranked = model.rank(query, docs)
    for old in ("apply_softmax", "convert_to_numpy", "convert_to_tensor"):
        assert model.rank(query, docs, **{old: True}) == ranked
        assert f"CrossEncoder.rank `{old}` argument is deprecated and has no effect, as `rank`" in caplog.text
    model.max_seq_length = 17  # the peer's name for max_length
    assert model.max_length == 17 == model.max_seq_length


def test_a_custom_activation_round_trips_in_both_libraries(tiny_model_dir, tmp_path):
    st = pytest.importorskip("sentence_transformers", reason="the interop tests need the minilm/bench extra")
    ours = CrossEncoder(str(tiny_model_dir), activation_fn=torch.nn.Tanh())
    ours.save_pretrained(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["sentence_transformers"]["activation_fn"] == (
        "torch.nn.modules.activation.Tanh"
    )
    assert isinstance(CrossEncoder(str(tmp_path / "m")).activation_fn, torch.nn.Tanh)
    theirs = st.CrossEncoder(str(tmp_path / "m"), device="cpu")
    assert type(theirs.activation_fn).__name__ == "Tanh"
    assert np.abs(theirs.predict(PAIRS) - ours.predict(PAIRS)).max() < 1e-5
    theirs.save_pretrained(str(tmp_path / "st"))
    assert isinstance(CrossEncoder(str(tmp_path / "st")).activation_fn, torch.nn.Tanh)


def test_a_base_checkpoint_without_a_head_gets_one_label(tiny_tokenizer, tmp_path):
    BertModel(tiny_config(1)).save_pretrained(tmp_path / "base")  # no classifier: a pretrained encoder
    tiny_tokenizer.save_pretrained(tmp_path / "base")
    with pytest.warns(UserWarning, match="no classification head"):
        model = CrossEncoder(str(tmp_path / "base"))
    assert model.num_labels == 1 and model.predict(PAIRS).shape == (len(PAIRS),)
    with pytest.warns(UserWarning, match="no classification head"):
        assert CrossEncoder(str(tmp_path / "base"), num_labels=3).num_labels == 3


def test_constructor_kwargs_old_and_new_names(tiny_model_dir, caplog):
    new = CrossEncoder(str(tiny_model_dir), model_kwargs={"torch_dtype": torch.float32},
                       tokenizer_kwargs={"model_max_length": 33},
                       config_kwargs={"attention_probs_dropout_prob": 0.2, "classifier_dropout": 0.3},
                       local_files_only=True, revision=None, cache_folder=None)  # fmt: skip
    peer_6 = CrossEncoder(model_name_or_path=str(tiny_model_dir), processor_kwargs={"model_max_length": 33},
                          config_kwargs={"attention_probs_dropout_prob": 0.2})  # fmt: skip
    caplog.clear()
    old = CrossEncoder(model_name=str(tiny_model_dir), automodel_args={"torch_dtype": torch.float32},
                       tokenizer_args={"model_max_length": 33}, config_args={"attention_probs_dropout_prob": 0.2},
                       cache_dir=None, classifier_dropout=0.3)  # fmt: skip
    said = caplog.text
    for name in ("model_name", "automodel_args", "tokenizer_args", "config_args", "cache_dir", "classifier_dropout"):
        assert f"`{name}` argument" in said, name
    for m in (new, peer_6, old):
        assert m.tokenizer.model_max_length == 33 and m.config.attention_probs_dropout_prob == 0.2
    assert new.config.classifier_dropout == 0.3 == old.config.classifier_dropout
    with pytest.raises(TypeError, match="unexpected keyword argument 'automodel_arg'"):
        CrossEncoder(str(tiny_model_dir), automodel_arg={})


def _parity(ours, theirs, our_model, their_model, tmp_path):
    mine, peer = ours(our_model, output_path=str(tmp_path / "a")), theirs(their_model, output_path=str(tmp_path / "b"))
    assert mine.keys() == peer.keys() and ours.primary_metric == theirs.primary_metric
    for key in mine:
        # thresholds with the same best F1 may differ (scores equal to ~1e-7 order ties differently), and with them
        # the precision and recall at that threshold; the F1, accuracy and average precision they give may not
        # (xenc's first-token scorer sums in another order than the full forward: scores ~1e-7 apart, which on the
        # tiny model's near-equal scores moves a correlation by ~1e-5; a wrong metric is off by far more)
        if not key.endswith(("threshold", "precision", "recall")) or key.endswith("average_precision"):
            assert mine[key] == pytest.approx(peer[key], abs=1e-4), key
    assert [p.name for p in (tmp_path / "a").iterdir()] == [p.name for p in (tmp_path / "b").iterdir()]
    mine_csv, peer_csv = ((tmp_path / d / ours.csv_file).read_text().splitlines() for d in "ab")
    assert mine_csv[0] == peer_csv[0]  # same columns


@pytest.mark.parametrize("kind", ["correlation", "binary", "multiclass", "reranking"])
def test_evaluators_match_sentence_transformers(tiny_model, tiny_nli_model, tiny_tokenizer, tmp_path, kind):
    st = pytest.importorskip("sentence_transformers", reason="the interop tests need the minilm/bench extra")
    from sentence_transformers.cross_encoder import evaluation as st_eval

    import xenc

    # a random tiny model scores every pair within ~1e-3 of the same value, so its metrics would turn on float
    # differences of 1e-7 between the libraries' batching: a larger head spreads the scores out
    model = copy.deepcopy(tiny_nli_model if kind == "multiclass" else tiny_model)
    with torch.no_grad():
        model.classifier.weight.mul_(30.0)
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    ours, theirs = CrossEncoder(str(folder)), st.CrossEncoder(str(folder), device="cpu")
    # pairs of distinct in-vocabulary words: pairs that tokenize alike ([UNK]s) tie, and float noise of 1e-7 between
    # the libraries would then decide their order, and with it Spearman and average precision
    words = WORDS[:40]
    pairs = [[f"{words[i]} {words[i + 1]}", f"{words[-1 - i]} {words[i + 2]}"] for i in range(24)]
    if kind == "correlation":
        args = (pairs, np.linspace(0, 1, len(pairs)).tolist())
        names = ("CECorrelationEvaluator", "CrossEncoderCorrelationEvaluator")
    elif kind in ("binary", "multiclass"):
        args = (pairs, [i % (2 if kind == "binary" else 3) for i in range(len(pairs))])
        names = ("CEBinaryClassificationEvaluator", "CrossEncoderClassificationEvaluator")
    else:
        docs = [p[1] for p in PAIRS]
        args = ([{"query": p[0], "positive": [docs[i]], "negative": docs[:i] + docs[i + 1 :]}
                 for i, p in enumerate(PAIRS)],)  # fmt: skip
        names = ("CERerankingEvaluator", "CrossEncoderRerankingEvaluator")
    for name in names:
        _parity(getattr(xenc, name)(*args, name="dev"), getattr(st_eval, name)(*args, name="dev"), ours, theirs,
                tmp_path / name)  # fmt: skip


def test_max_length_device_and_modes(tiny_model_dir, tmp_path):
    model = CrossEncoder(str(tiny_model_dir), max_length=24)
    assert model.max_length == 24 and model.tokenizer.model_max_length == 24
    model.max_length = 20
    assert model.tokenizer.model_max_length == 20
    model.save_pretrained(tmp_path / "m")
    assert CrossEncoder(str(tmp_path / "m")).max_length == 20  # kept with the model
    assert model.to("cpu") is model and model.train().model.training and not model.eval().model.training
    docs = [p[1] for p in PAIRS]
    hits = model.rank(PAIRS[0][0], docs, activation_fn=torch.nn.Identity())
    logits = model.predict([(PAIRS[0][0], d) for d in docs], activation_fn=torch.nn.Identity())
    assert [h["score"] for h in hits] == pytest.approx(sorted(logits.tolist(), reverse=True), abs=1e-6)


def test_an_activation_outside_torch_nn_is_never_imported(tiny_model_dir, tmp_path, caplog):
    model = CrossEncoder(str(tiny_model_dir))
    model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["sentence_transformers"]["activation_fn"] = "os.system"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    (tmp_path / "m" / "config_sentence_transformers.json").unlink()  # the config.json way (sentence-transformers 3)
    loaded = CrossEncoder(str(tmp_path / "m"))
    assert isinstance(loaded.activation_fn, torch.nn.Sigmoid) and "not imported" in caplog.text
    model.save_pretrained(tmp_path / "m2")
    st_config = json.loads((tmp_path / "m2" / "config_sentence_transformers.json").read_text())
    st_config["activation_fn"] = "os.system"  # the 4-6 way
    (tmp_path / "m2" / "config_sentence_transformers.json").write_text(json.dumps(st_config))
    caplog.clear()
    loaded = CrossEncoder(str(tmp_path / "m2"))
    assert isinstance(loaded.activation_fn, torch.nn.Sigmoid) and "not imported" in caplog.text


def test_a_sentence_transformers_3_activation_in_config_json_is_read(tiny_model_dir, tmp_path):
    CrossEncoder(str(tiny_model_dir)).save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["sentence_transformers"]  # as sentence-transformers 3.x wrote it
    config["sbert_ce_default_activation_function"] = "torch.nn.modules.activation.Tanh"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    (tmp_path / "m" / "config_sentence_transformers.json").unlink()
    loaded = CrossEncoder(str(tmp_path / "m"))
    assert isinstance(loaded.activation_fn, torch.nn.Tanh)
    assert np.all(np.abs(loaded.predict([("a man", "a dog")])) < 1)  # tanh scores, not sigmoid


def test_prompts_go_before_the_first_text_and_travel_with_the_model(tiny_model_dir, tmp_path):
    st = pytest.importorskip("sentence_transformers", reason="the interop tests need the minilm/bench extra")
    prompts = {"query": "Represent the question: ", "short": "q: "}
    ours = CrossEncoder(str(tiny_model_dir), prompts=prompts, default_prompt_name="query")
    by_hand = ours.predict([(prompts["query"] + a, b) for a, b in PAIRS], prompt="")  # "" switches the prompt off
    assert ours.predict(PAIRS) == pytest.approx(by_hand)  # the default prompt
    assert ours.predict(iter(PAIRS), prompt_name="short") == pytest.approx(
        ours.predict([(prompts["short"] + a, b) for a, b in PAIRS], prompt="")
    )  # a generator streams with its prompt too
    query, docs = PAIRS[0][0], [b for _, b in PAIRS]
    assert [r["score"] for r in ours.rank(query, docs, prompt_name="short")] == pytest.approx(
        sorted(ours.predict([(prompts["short"] + query, d) for d in docs], prompt=""), reverse=True)
    )
    ours.save_pretrained(tmp_path / "m")
    theirs = st.CrossEncoder(str(tmp_path / "m"), device="cpu")
    assert theirs.prompts == prompts and theirs.default_prompt_name == "query"
    assert np.abs(theirs.predict(PAIRS) - ours.predict(PAIRS)).max() < 1e-5
    assert np.abs(theirs.predict(PAIRS, prompt_name="short") - ours.predict(PAIRS, prompt_name="short")).max() < 1e-5
    theirs.save_pretrained(str(tmp_path / "st"))
    back = CrossEncoder(str(tmp_path / "st"))
    assert back.prompts == prompts and back.default_prompt_name == "query"


def test_no_pickle_is_written_even_when_asked(model, tmp_path):
    with pytest.warns(UserWarning, match="safetensors only"):
        model.save_pretrained(tmp_path / "m", safe_serialization=False)
    assert (tmp_path / "m" / "model.safetensors").exists() and not list((tmp_path / "m").glob("*.bin"))
