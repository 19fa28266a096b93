"""The seed API: InputExample + DataLoader + evaluator + CrossEncoder.fit, as in the sentence-transformers docs."""

import json

import pandas as pd
import pytest
from torch.utils.data import DataLoader

from tests.conftest import FIXTURES
from xenc import CEClassificationEvaluator, CECorrelationEvaluator, CrossEncoder, InputExample

ROWS = pd.read_csv(FIXTURES / "sts_pairs.csv").to_dict("records")


def _examples():
    return [InputExample(texts=[r["sentence1"], r["sentence2"]], label=r["label"]) for r in ROWS]


@pytest.mark.heavy
def test_fit_with_evaluator_saves_the_best_model_and_logs_scores(tiny_model_dir, tmp_path):
    model = CrossEncoder(str(tiny_model_dir), num_labels=1, device="cpu")
    samples = _examples()
    evaluator = CECorrelationEvaluator.from_input_examples(samples, name="sts-dev")
    before = evaluator(model)["sts-dev_spearman"]
    seen = []
    model.fit(
        train_dataloader=DataLoader(samples, shuffle=True, batch_size=5),
        evaluator=evaluator,
        epochs=15,
        warmup_steps=2,
        optimizer_params={"lr": 3e-3},
        output_path=str(tmp_path / "out"),
        callback=lambda score, epoch, steps: seen.append(score),
        show_progress_bar=False,
    )
    assert len(seen) == 15 and max(seen) > before
    assert (tmp_path / "out" / "model.safetensors").exists()
    csv = tmp_path / "out" / "eval" / "CrossEncoderCorrelationEvaluator_sts-dev_results.csv"  # where ST's fit puts it
    assert csv.read_text().count("\n") == 16
    best = CrossEncoder(str(tmp_path / "out"), device="cpu")
    assert evaluator(best)["sts-dev_spearman"] == pytest.approx(max(seen), abs=1e-6)


def test_fit_refuses_an_output_path_that_holds_a_model(tiny_model_dir):
    model = CrossEncoder(str(tiny_model_dir), device="cpu")
    with pytest.raises(FileExistsError, match="already holds a model.*overwrite_output_path=True"):
        model.fit(DataLoader(_examples(), batch_size=4), output_path=str(tiny_model_dir))


def test_running_a_fit_script_twice_replaces_its_own_save_and_keeps_other_files(tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for lr in (1e-3, 3e-3):  # the same script run twice, as with sentence-transformers
        model = CrossEncoder(str(tiny_model_dir), device="cpu")
        model.fit(DataLoader(_examples(), batch_size=5), warmup_steps=0, optimizer_params={"lr": lr},
                  output_path=str(out), show_progress_bar=False)  # fmt: skip
        saved = CrossEncoder(str(out), device="cpu").predict([["a man", "a dog"]])
        assert saved == pytest.approx(model.predict([["a man", "a dog"]]), abs=1e-6)  # this run's model, not the last
    assert json.loads((out / "fit_args.json").read_text())["optimizer_params"] == {"lr": 3e-3}
    assert (out / "notes.txt").read_text() == "mine"


def test_fit_rejects_labels_outside_0_1_for_one_label(tiny_model_dir):
    model = CrossEncoder(str(tiny_model_dir), device="cpu")
    bad = [InputExample(texts=["a man", "a dog"], label=4.0)]
    with pytest.raises(ValueError, match="not a score in 0..1"):
        model.fit(DataLoader(bad, batch_size=1))


def test_input_example_needs_a_pair():
    with pytest.raises(ValueError, match="expected a pair"):
        InputExample(texts=["only one text"], label=1)


def test_classification_evaluator_counts_argmax_hits():
    class Fixed:
        def predict(self, pairs, **kw):
            import numpy as np

            return np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [2.0, 0.0, 0.0]])

    ev = CEClassificationEvaluator([["a", "b"]] * 4, [0, 1, 2, 1], name="nli")
    metrics = ev(Fixed())  # argmax hits 3 of 4: per class F1 2/3, 2/3, 1 -> macro 7/9 (sentence-transformers' keys)
    assert metrics["nli_f1_macro"] == pytest.approx(7 / 9) and metrics["nli_f1_micro"] == 0.75
    assert ev.primary_metric == "nli_f1_macro"


def test_evaluator_needs_one_label_per_pair():
    with pytest.raises(ValueError, match="2 pairs but 1 labels"):
        CECorrelationEvaluator([["a man", "a dog"], ["a cat", "a dog"]], [0.5])


def test_fit_applies_activation_fct_and_saves_it(tiny_model_dir, tmp_path):
    import torch

    model = CrossEncoder(str(tiny_model_dir), num_labels=1, device="cpu")
    model.fit(DataLoader(_examples(), batch_size=5), epochs=1, warmup_steps=0, activation_fct=torch.nn.Identity(),
              output_path=str(tmp_path / "out"), show_progress_bar=False)  # fmt: skip
    pair = _examples()[0].texts
    logit = model.predict(pair)
    assert (
        isinstance(model.activation_fn, torch.nn.Identity)
        and not 0 < logit < 1
        or logit == model.predict(pair, activation_fn=torch.nn.Identity())
    )
    assert isinstance(CrossEncoder(str(tmp_path / "out")).activation_fn, torch.nn.Identity)
