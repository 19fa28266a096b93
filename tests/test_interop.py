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
