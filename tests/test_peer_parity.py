"""Behaviour the peer's (sentence-transformers 6) own CrossEncoder tests pin down, in xenc's tests: falsy activations,
the notices of old argument names, `is_singular_input`, per-call `processing_kwargs`, an embedding model's prompts."""

import json
import logging
import shutil

import numpy as np
import pytest
import torch

from tests.test_cross_encoder import PAIRS
from xenc import CrossEncoder
from xenc.legacy import call_names, init_names

pytestmark = pytest.mark.usefixtures("fresh_notices")


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return CrossEncoder(str(tiny_model_dir), device="cpu")


def test_a_falsy_activation_is_applied_not_replaced_by_sigmoid(model, tiny_model_dir):
    empty = torch.nn.Sequential()  # the identity, and falsy: len() == 0
    assert not empty
    logits = model.predict(PAIRS, activation_fn=torch.nn.Identity(), convert_to_tensor=True)
    torch.testing.assert_close(model.predict(PAIRS, activation_fn=empty, convert_to_tensor=True), logits)
    torch.testing.assert_close(model.predict(PAIRS, convert_to_tensor=True), torch.sigmoid(logits))
    built = CrossEncoder(str(tiny_model_dir), activation_fn=torch.nn.Sequential())
    assert built.activation_fn is not None and len(built.activation_fn) == 0
    torch.testing.assert_close(built.predict(PAIRS, convert_to_tensor=True), logits)


def test_renamed_and_dropped_arguments_are_logged_once_per_process(model, caplog):
    scores = model.predict(PAIRS)
    assert model.predict(sentences=PAIRS, num_workers=4) == pytest.approx(scores)
    said = [r for r in caplog.records if r.name == "xenc.legacy" and r.levelno == logging.WARNING]
    assert [r.getMessage().split("`")[1] for r in said] == ["sentences", "num_workers"]
    caplog.clear()
    model.predict(sentences=PAIRS, num_workers=4)
    assert caplog.text == ""  # the same notice is not repeated


def test_classifier_dropout_is_logged_every_time(tiny_model_dir, caplog):
    for _ in range(2):
        caplog.clear()
        built = CrossEncoder(str(tiny_model_dir), classifier_dropout=0.25)
        assert "`config_kwargs={'classifier_dropout': 0.25}`" in caplog.text
        assert built.config.classifier_dropout == 0.25


def test_the_old_activation_property_raises_a_deprecation_warning(model):
    with pytest.warns(DeprecationWarning, match="`default_activation_function` property was renamed") as caught:
        assert model.default_activation_function is model.activation_fn
    assert caught[0].filename == __file__  # points at the line that read it


def test_call_names_wraps_any_function_and_drops_what_it_does_not_take(caplog):
    seen = {}

    @call_names
    def score(self, inputs, convert_to_numpy=True, **kwargs):
        seen.update(inputs=inputs, convert_to_numpy=convert_to_numpy, **kwargs)

    score(None, sentences=[["a", "b"]], activation_fct="old", activation_fn="new", num_workers=2,
          apply_softmax=True, convert_to_numpy=False, convert_to_tensor=True)  # fmt: skip
    assert seen == {"inputs": [["a", "b"]], "convert_to_numpy": False, "activation_fn": "new"}
    for name in ("sentences", "activation_fct", "num_workers", "apply_softmax", "convert_to_tensor"):
        assert f"CrossEncoder.score `{name}` argument" in caplog.text, name
    assert "convert_to_numpy" not in caplog.text  # `score` takes it: passed through, no notice


def test_tokenizer_args_become_processor_kwargs_which_the_constructor_takes(tiny_model_dir, caplog):
    seen = {}

    @init_names
    def init(self, *args, **kwargs):
        seen.update(kwargs)

    init(None, "m", tokenizer_args={"model_max_length": 40}, automodel_args={})
    assert seen == {"processor_kwargs": {"model_max_length": 40}, "model_kwargs": {}}
    assert "`tokenizer_args` argument was renamed and is now deprecated. Please use `processor_kwargs`" in caplog.text
    both = CrossEncoder(str(tiny_model_dir), tokenizer_kwargs={"model_max_length": 40, "do_lower_case": False},
                        processor_kwargs={"model_max_length": 36})  # fmt: skip
    assert both.tokenizer.model_max_length == 36 and both.tokenizer.do_lower_case is False  # per key, the peer's wins
    assert CrossEncoder(str(tiny_model_dir), tokenizer_args={"model_max_length": 36}).tokenizer.model_max_length == 36


@pytest.mark.parametrize(
    ("inputs", "single"),
    [
        (["a man", "a dog"], True),
        (("a man", "a dog"), True),
        (np.array(["a man", "a dog"]), True),
        ([["a man", "a dog"]], False),
        (np.array([["a man", "a dog"], ["a cat", "a car"]]), False),
        (np.array([], dtype=str), False),
        ([], False),
        ("ab", False),  # a string of two characters is not a pair
        (["a man", "a dog", "a cat"], False),
        ((p for p in [["a man", "a dog"]]), False),
    ],
)
def test_is_singular_input(model, inputs, single):
    assert model.is_singular_input(inputs) is single


def test_per_call_processing_kwargs_act_for_that_call_only(model, tiny_model_dir):
    full = model.predict(PAIRS)
    short = model.predict(PAIRS, processing_kwargs={"text": {"max_length": 9, "truncation": True}})
    assert model.last_truncated > 0 and not np.allclose(short, full)
    assert short == pytest.approx(CrossEncoder(str(tiny_model_dir), max_length=9).predict(PAIRS), abs=1e-6)
    assert model.max_length == model.tokenizer.model_max_length == 128  # restored
    passages_cut = model.predict(
        PAIRS, processing_kwargs={"common": {"max_length": 16}, "text": {"truncation": "only_second"}}
    )
    by_hand = CrossEncoder(str(tiny_model_dir), max_length=16).predict(PAIRS, truncation="only_second")
    assert passages_cut == pytest.approx(by_hand, abs=1e-6) and not np.allclose(passages_cut, full)
    with pytest.raises(ValueError, match=r"processing_kwargs \['image', 'text.padding'\] are not taken"):
        model.predict(PAIRS, processing_kwargs={"text": {"padding": "max_length"}, "image": {}})
    with pytest.raises(ValueError, match="max_length \\(per call\\)=4: this model takes 8 to 128 tokens"):
        model.predict(PAIRS, processing_kwargs={"text": {"max_length": 4}})
    assert model.max_length == 128


def test_an_embedding_models_prompts_are_not_carried_over(tiny_base_dir, tmp_path):
    for saved in ({"model_type": "SentenceTransformer"}, {}):  # sentence-transformers < 5 wrote no model_type
        folder = tmp_path / f"st{len(saved)}"
        shutil.copytree(tiny_base_dir, folder)
        config = {**saved, "prompts": {"query": "Represent this sentence: "}, "default_prompt_name": "query"}
        (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
        with pytest.warns(UserWarning, match="no classification head"):
            converted = CrossEncoder(str(folder))
        assert converted.prompts == {} and converted.default_prompt_name is None
    with pytest.warns(UserWarning, match="no classification head"):
        given = CrossEncoder(str(folder), prompts={"q": "q: "}, default_prompt_name="q")
    assert given.prompts == {"q": "q: "} and given.default_prompt_name == "q"  # a user's own prompts still apply
