"""Every saved cross-encoder carries what it is: the peer's saved-config file and a model card that the Hub's parser
reads, with the metrics the run measured; a user's own README.md is never replaced."""

import json

import numpy as np
import pytest
from huggingface_hub import ModelCard

from xenc import CrossEncoder
from xenc.cards import MARK
from xenc.train import main, parse_args

PAIRS = [("a man is eating", "a man eats food"), ("a dog runs", "the market fell")]


def test_a_save_writes_the_peers_config_file_and_a_card(tiny_model_dir, tmp_path):
    CrossEncoder(str(tiny_model_dir)).save_pretrained(tmp_path / "m")
    st_config = json.loads((tmp_path / "m" / "config_sentence_transformers.json").read_text())
    assert st_config["model_type"] == "CrossEncoder" and st_config["activation_fn"].endswith("Sigmoid")
    assert set(st_config) == {"__version__", "activation_fn", "default_prompt_name", "model_type", "prompts"}
    card = ModelCard.load(tmp_path / "m" / "README.md")  # the Hub's own parser, offline
    assert card.data.library_name == "sentence-transformers" and card.data.pipeline_tag == "text-ranking"
    assert MARK in card.text and "AutoModelForSequenceClassification" in card.text


def test_a_users_own_readme_is_kept(tiny_model_dir, tmp_path, caplog):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README.md").write_text("my notes")
    CrossEncoder(str(tiny_model_dir)).save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / "README.md").read_text() == "my notes" and "kept as it is" in caplog.text
    CrossEncoder(str(tmp_path / "m")).save_pretrained(tmp_path / "m", overwrite=True)  # still the user's
    assert (tmp_path / "m" / "README.md").read_text() == "my notes"


def test_a_training_run_card_holds_its_data_command_and_measured_scores(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    flags = ["--model", str(tiny_model_dir), "--dataset", "stsb", "--max_train_samples", "16", "--max_eval_samples",
             "16", "--max_steps", "2", "--disable_tqdm", "true", "--output_dir", str(out)]  # fmt: skip
    metrics = main(*parse_args(flags))
    card = ModelCard.load(out / "README.md")
    results = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert results[("test", "spearman")] == pytest.approx(metrics["test_spearman"])
    assert results[("validation", "spearman")] == pytest.approx(metrics["eval_spearman"])
    assert card.data.datasets == ["stsb"] and card.data.base_model == str(tiny_model_dir)
    assert "xenc train --model" in card.text and "--dataset stsb" in card.text and "learning_rate" in card.text
    assert json.loads((out / "config_sentence_transformers.json").read_text())["model_type"] == "CrossEncoder"
    copy = CrossEncoder(str(out))  # a copy saved elsewhere keeps the run's card: same weights, same record
    copy.save_pretrained(tmp_path / "copy")
    assert f"{metrics['test_spearman']:.4f}" in (tmp_path / "copy" / "README.md").read_text()


def test_the_peer_reads_the_saved_config_and_scores_the_same(tiny_model_dir, tmp_path):
    st = pytest.importorskip("sentence_transformers", reason="the interop tests need the bench extra")
    ours = CrossEncoder(str(tiny_model_dir))
    ours.save_pretrained(tmp_path / "m")
    peer = st.CrossEncoder(str(tmp_path / "m"))
    assert type(peer.activation_fn).__name__ == "Sigmoid"
    np.testing.assert_allclose(peer.predict(PAIRS), ours.predict(PAIRS), atol=1e-6)
