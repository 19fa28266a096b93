"""OpenVINO scoring: exact fp32, int8 calibrated on pairs behind the quality guard, and the on-disk cache."""

import json
import shutil
import sys
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertTokenizerFast, MPNetConfig, MPNetForSequenceClassification

from tests.conftest import VOCAB, WORDS
from xenc import CrossEncoder
from xenc.backends import conversion_folder, weights_hash
from xenc.first_token import SCORER_VERSION, first_token_scorer
from xenc.metrics import rerank_metrics
from xenc.pipeline import AUTO_VERSION, scoring_model

pytest.importorskip("openvino", reason='the OpenVINO backend needs pip install "xenc[fast]"')
rng = np.random.default_rng(0)
PAIRS = [(" ".join(rng.choice(WORDS, 6)), " ".join(rng.choice(WORDS, 9))) for _ in range(64)]
LABELS = rng.random(64)


@pytest.fixture
def model_dir(tiny_model_dir, tmp_path):
    """A copy of the tiny model: conversions are cached inside the folder."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def test_openvino_fp32_gives_torch_scores_and_is_cached_beside_the_model(model_dir):
    ours = CrossEncoder(str(model_dir), backend="openvino").predict(PAIRS)
    np.testing.assert_allclose(ours, CrossEncoder(str(model_dir)).predict(PAIRS), atol=1e-5)
    cached = sorted(p.name for p in (model_dir / "openvino").iterdir())
    key = f"{weights_hash(CrossEncoder(str(model_dir)).model)}-first{SCORER_VERSION}"
    assert cached == [f"{key}-fp32.{ext}" for ext in ("bin", "sha256.json", "xml")]
    again = CrossEncoder(str(model_dir), backend="openvino")
    np.testing.assert_allclose(again.predict(PAIRS), ours, atol=1e-6)  # read back from the cache
    assert sorted(p.name for p in (model_dir / "openvino").iterdir()) == cached


@pytest.mark.parametrize("damage", ["changed in place", "cut short", "unrecorded"])
def test_a_damaged_cached_conversion_is_converted_again(model_dir, damage):
    exact = CrossEncoder(str(model_dir), backend="openvino").predict(PAIRS)
    xml = next((model_dir / "openvino").glob("*.xml"))
    weights = xml.with_suffix(".bin")
    data = bytearray(weights.read_bytes())
    if damage == "changed in place":  # same size, other numbers
        data[-64:] = bytes(64)
        weights.write_bytes(bytes(data))
    elif damage == "cut short":
        weights.write_bytes(bytes(data[: len(data) // 2]))
    else:
        xml.with_suffix(".sha256.json").unlink()
    with pytest.warns(UserWarning, match="does not match the hashes saved with it"):
        again = CrossEncoder(str(model_dir), backend="openvino").predict(PAIRS)
    np.testing.assert_allclose(again, exact, atol=1e-6)
    assert CrossEncoder(str(model_dir), backend="openvino").predict(PAIRS) == pytest.approx(exact, abs=1e-6)


def test_a_cache_folder_that_cannot_be_written_falls_back_to_a_temporary_one(model_dir, monkeypatch):
    monkeypatch.setattr("xenc.backends.conversion_folder", lambda path: Path("/proc/xenc-cannot-write"))
    with pytest.warns(UserWarning, match="cannot be written"):
        ours = CrossEncoder(str(model_dir), backend="openvino").predict(PAIRS)
    np.testing.assert_allclose(ours, CrossEncoder(str(model_dir)).predict(PAIRS), atol=1e-5)


def test_changed_weights_are_converted_again(model_dir):
    model = CrossEncoder(str(model_dir), backend="openvino")
    before = model.predict(PAIRS)
    with torch.no_grad():
        model.model.classifier.bias.add_(1.0)  # an in-place update bumps the version, as an optimizer step does
    after = model.predict(PAIRS)
    assert not np.allclose(before, after)
    model.backend = "torch"
    np.testing.assert_allclose(after, model.predict(PAIRS), atol=1e-5)
    assert len(list((model_dir / "openvino").glob("*.xml"))) == 2


@pytest.mark.heavy  # quantizes
def test_int8_is_calibrated_on_pairs_and_checked_against_fp32(model_dir):
    model = CrossEncoder(str(model_dir), backend="openvino", precision="int8", calibration_pairs=PAIRS[:32],
                         guard_pairs=(PAIRS[32:], LABELS[32:]), quality_tolerance=1.0)  # fmt: skip
    scores = model.predict(PAIRS)
    assert scores.shape == (64,) and np.isfinite(scores).all()
    check = model.quality_check
    assert check["metric"] == "spearman"
    assert set(check) == {"metric", "fp32", "fast", "path", "pairs", "change_bound", "tolerance", "token_keep"}
    assert check["path"] == "int8" and check["pairs"] == 32
    assert check["change_bound"] >= abs(check["fast"] - check["fp32"])  # the sample's noise on top of the change
    assert list((model_dir / "openvino").glob("*-int8-128-*.xml"))
    assert len(list((model_dir / "openvino").glob("*-int8-128-*.int8-guard2-*.json"))) == 1
    again = CrossEncoder(str(model_dir), backend="openvino", precision="int8", calibration_pairs=PAIRS[:32],
                         guard_pairs=(PAIRS[32:], LABELS[32:]), quality_tolerance=1.0)  # fmt: skip
    with patch("xenc.pipeline.chunk_logits", side_effect=AssertionError("scored")):
        scoring_model(again)  # the guard's result is read from its record: no pair is scored to check it
    assert again.quality_check == check


def test_prepare_makes_the_conversion_and_guard_now_and_a_later_model_reuses_them(model_dir):
    options = {"backend": "openvino", "precision": "bf16", "guard_pairs": (PAIRS, LABELS), "quality_tolerance": 1.0}
    model = CrossEncoder(str(model_dir), **options)
    report = model.prepare()
    assert report["scores_with"].startswith("openvino bf16") and Path(report["artifact"]).is_file()
    assert report["quality_check"] == model.quality_check and report["quality_check"]["pairs"] == 64
    assert report["auto_choice"] is None and report["precision"] == "bf16" and not report["guard_refused"]
    again = CrossEncoder(str(model_dir), **options)
    with patch("xenc.backends.convert", side_effect=AssertionError("converted")), \
            patch("xenc.pipeline.chunk_logits", side_effect=AssertionError("scored")):  # fmt: skip
        assert again.prepare() == report  # read from the saved conversion and guard record
    np.testing.assert_allclose(again.predict(PAIRS), model.predict(PAIRS), atol=1e-6)


def test_prepare_says_when_a_refused_guard_leaves_exact_fp32(model_dir):
    model = CrossEncoder(str(model_dir), backend="openvino", precision="bf16", guard_pairs=(PAIRS, LABELS),
                         quality_tolerance=-1.0)  # fmt: skip
    with pytest.warns(UserWarning, match="instead"):
        report = model.prepare()
    assert report["scores_with"].startswith("openvino fp32") and report["artifact"].endswith("-fp32.xml")
    assert report["guard_refused"] and report["precision"] == "fp32" and report["quality_check"]["path"] == "bf16"


def test_prepare_on_torch_names_the_torch_path(model_dir):
    assert CrossEncoder(str(model_dir)).prepare()["scores_with"] == "torch fp32"
    assert CrossEncoder(str(model_dir)).prepare()["artifact"] is None


def test_a_guard_record_holds_for_its_max_length_only(model_dir):
    for length in (32, 64):  # the guard scores at max_length: another length is measured again, not read
        CrossEncoder(str(model_dir), backend="openvino", precision="bf16", max_length=length,
                     guard_pairs=(PAIRS, LABELS), quality_tolerance=1.0).predict(PAIRS[:2])  # fmt: skip
    assert len(list((model_dir / "openvino").glob("*.bf16-guard2-*.json"))) == 2


def test_bf16_and_fp16_keep_their_own_guard_records(model_dir):
    checks = {}
    for precision in ("bf16", "fp16"):  # one fp32 conversion, run at two precisions
        model = CrossEncoder(str(model_dir), backend="openvino", precision=precision,
                             guard_pairs=(PAIRS, LABELS), quality_tolerance=1.0)  # fmt: skip
        model.predict(PAIRS[:2])
        checks[precision] = model.quality_check
    records = sorted(path.name.split(".")[1] for path in (model_dir / "openvino").glob("*-guard2-*.json"))
    assert [record.split("-guard2-")[0] for record in records] == ["bf16", "fp16"]  # fp16 never reads bf16's result
    assert (checks["bf16"]["path"], checks["fp16"]["path"]) == ("bf16", "fp16")


@pytest.mark.heavy  # quantizes
def test_a_guard_that_fails_falls_back_to_exact_fp32_with_a_warning(model_dir):
    model = CrossEncoder(str(model_dir), backend="openvino", precision="int8", calibration_pairs=PAIRS[:32],
                         guard_pairs=(PAIRS[32:], LABELS[32:]), quality_tolerance=-1.0)  # fmt: skip
    with pytest.warns(UserWarning, match="OpenVINO fp32 \\(exact\\) instead") as caught:
        scores = model.predict(PAIRS)
    guard = [w for w in caught if "instead" in str(w.message)]
    assert guard[0].filename == __file__  # the warning names the caller's line, not one inside xenc or torch
    np.testing.assert_allclose(scores, CrossEncoder(str(model_dir)).predict(PAIRS), atol=1e-5)


@pytest.mark.heavy  # quantizes
def test_int8_reads_calibration_and_guard_pairs_from_the_models_own_data(model_dir):
    (model_dir / "results.json").write_text(json.dumps({"config": {"dataset": "stsb", "train_split": "train",
                                                                   "eval_split": "validation"}}))  # fmt: skip
    model = CrossEncoder(str(model_dir), backend="openvino", precision="int8", quality_tolerance=1.0)
    model.predict(PAIRS[:4])
    assert model.quality_check["metric"] == "spearman"
    assert model.quality_check["pairs"] == 1500  # every STSb dev pair: 500 left the bound too wide for 0.005


def test_token_keep_runs_the_pruned_scorer_behind_the_guard(model_dir):
    model = CrossEncoder(str(model_dir), backend="openvino", token_keep=0.5, guard_pairs=(PAIRS[32:], LABELS[32:]),
                         quality_tolerance=1.0)  # fmt: skip
    scores = model.predict(PAIRS)
    exact = CrossEncoder(str(model_dir))
    batch = exact.tokenizer(*map(list, zip(*PAIRS)), padding=True, return_tensors="pt")
    with torch.inference_mode():
        pruned = first_token_scorer(exact.model, 0.5)(**batch)[:, 0].numpy()
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-pruned)), atol=1e-5)  # torch's pruned scores
    assert not np.allclose(scores, exact.predict(PAIRS), atol=1e-5)  # an approximation: checked by the guard
    assert model.quality_check["token_keep"] == 0.5
    assert list((model_dir / "openvino").glob("*-keep0.5-fp32.fp32-guard2-*.json"))


def test_a_failing_guard_on_token_keep_falls_back_to_every_token(model_dir):
    model = CrossEncoder(str(model_dir), backend="openvino", token_keep=0.5, guard_pairs=(PAIRS[32:], LABELS[32:]),
                         quality_tolerance=-1.0)  # fmt: skip
    with pytest.warns(UserWarning, match="token_keep=0.5 moves spearman"):
        scores = model.predict(PAIRS)
    np.testing.assert_allclose(scores, CrossEncoder(str(model_dir)).predict(PAIRS), atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"backend": "onnx"}, ValueError, "backend='onnx' is unknown"),
        ({"token_keep": 0.5}, ValueError, 'pass backend="openvino"'),
        ({"backend": "openvino", "token_keep": 0}, ValueError, "a fraction in \\(0, 1\\]"),
        ({"precision": "int8"}, ValueError, 'pass backend="openvino"'),
        ({"backend": "openvino", "precision": "int4"}, ValueError, "precision='int4' is unknown"),
    ],
)
def test_bad_backend_settings_name_the_fix(model_dir, kwargs, error, words):
    with pytest.raises(error, match=words):
        CrossEncoder(str(model_dir), **kwargs)


def test_token_keep_without_guard_pairs_names_what_to_pass(model_dir):
    with pytest.raises(ValueError, match="token_keep=0.5 is checked against fp32.*guard_pairs="):
        CrossEncoder(str(model_dir), backend="openvino", token_keep=0.5)  # at construction


@pytest.mark.parametrize(("missing", "words"), [("calibration", "calibration_pairs="), ("guard", "guard_pairs=")])
def test_int8_without_data_names_what_to_pass(model_dir, missing, words):
    given = {"calibration_pairs": PAIRS} if missing == "guard" else {}
    with pytest.raises(ValueError, match=words):
        CrossEncoder(str(model_dir), backend="openvino", precision="int8", **given)  # at construction


def test_installed_or_hub_models_are_converted_into_the_xenc_cache(model_dir, tmp_path, monkeypatch):
    assert conversion_folder(str(model_dir)) == model_dir / "openvino"
    monkeypatch.setenv("XENC_CACHE_DIR", str(tmp_path / "cache"))
    assert conversion_folder("org/some-model") == tmp_path / "cache" / "openvino"
    assert conversion_folder(sys.prefix) == tmp_path / "cache" / "openvino"  # never inside site-packages


def test_mpnet_scores_agree_across_backends(tmp_path):
    """MPNet goes through its own first-token scorer on both backends: the plain model's scores, within 1e-5."""
    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=37, num_labels=1)  # fmt: skip
    MPNetForSequenceClassification(config).save_pretrained(tmp_path)
    names = ["input_ids", "attention_mask"]
    BertTokenizerFast(vocab={t: i for i, t in enumerate(VOCAB)}, model_input_names=names).save_pretrained(tmp_path)
    assert "token_type_ids" not in AutoTokenizer.from_pretrained(tmp_path)("a", "b")  # as MPNet's own tokenizer
    pairs = [(" ".join(rng.choice(WORDS, n)), " ".join(rng.choice(WORDS, 2 * n))) for n in range(1, 9)]
    plain = CrossEncoder(str(tmp_path))
    with torch.inference_mode():
        enc = plain.tokenizer([a for a, _ in pairs], [b for _, b in pairs], padding=True, return_tensors="pt")
        assert enc["attention_mask"].min() == 0  # padded: the mask is exercised
        reference = torch.sigmoid(plain.model(**enc).logits[:, 0]).numpy()  # transformers' own forward
    assert type(scoring_model(plain)).__name__ == "MPNetFirstTokenScorer"
    np.testing.assert_allclose(plain.predict(pairs), reference, atol=1e-5)
    np.testing.assert_allclose(CrossEncoder(str(tmp_path), backend="openvino").predict(pairs), reference, atol=1e-5)


def test_the_guard_bound_grows_with_the_noise_of_its_sample():
    from xenc.guard import change_bound

    rng = np.random.default_rng(0)
    labels = rng.random(400)
    exact = (labels + rng.normal(0, 0.3, 400))[:, None]
    assert change_bound(exact, exact.copy(), labels) == 0.0  # the same scores: no change on any resample
    nudged = exact + rng.normal(0, 0.05, exact.shape)  # a small, random change of every score
    few, many = change_bound(nudged[:50], exact[:50], labels[:50]), change_bound(nudged, exact, labels)
    assert few > many > 0  # 50 pairs tell the change less precisely than 400


@pytest.mark.heavy  # quantizes
def test_auto_picks_a_precision_that_passed_its_guard_and_reuses_the_choice(model_dir, monkeypatch):
    monkeypatch.setattr("xenc.pipeline.cpu_flags", lambda: {"amx_bf16", "avx512_vnni", "avx512_bf16"})
    given = {"calibration_pairs": PAIRS[:32], "guard_pairs": (PAIRS[32:], LABELS[32:])}
    model = CrossEncoder(str(model_dir), backend="openvino", precision="auto", quality_tolerance=-1.0, **given)
    np.testing.assert_allclose(model.predict(PAIRS), CrossEncoder(str(model_dir)).predict(PAIRS), atol=1e-5)
    figures = model.auto_choice["figures"]
    assert list(figures) == ["fp32", "bf16", "int8"] and model.precision == "fp32"  # no guard can pass below 0
    assert all(f["pairs_per_s"] > 0 for f in figures.values()) and not figures["int8"]["passed"]
    loose = CrossEncoder(str(model_dir), backend="openvino", precision="auto", quality_tolerance=1.0, **given)
    loose.predict(PAIRS[:2])
    chosen = loose.auto_choice["precision"]
    assert chosen == max(loose.auto_choice["figures"].items(), key=lambda kv: kv[1]["pairs_per_s"])[0]
    again = CrossEncoder(str(model_dir), backend="openvino", precision="auto", quality_tolerance=1.0, **given)
    with patch("xenc.pipeline.probe_seconds", side_effect=AssertionError("timed")):
        again.predict(PAIRS[:2])  # the recorded choice: nothing timed again
    assert again.precision == chosen and again.auto_choice == loose.auto_choice
    assert len(list((model_dir / "openvino").glob(f"*-auto{AUTO_VERSION}-*.json"))) == 2  # strict and loose choices


def test_auto_tries_token_keep_and_every_token_and_keeps_the_fastest_that_passes(model_dir, monkeypatch):
    monkeypatch.setattr("xenc.pipeline.cpu_flags", lambda: {"amx_bf16"})  # bf16 (int8 needs calibration pairs)
    given = {"guard_pairs": (PAIRS[32:], LABELS[32:]), "token_keep": 0.5}
    strict = CrossEncoder(str(model_dir), backend="openvino", precision="auto", quality_tolerance=-1.0, **given)
    np.testing.assert_allclose(strict.predict(PAIRS), CrossEncoder(str(model_dir)).predict(PAIRS), atol=1e-5)
    figures = strict.auto_choice["figures"]
    assert list(figures) == ["fp32", "bf16", "fp32 with token_keep=0.5", "bf16 with token_keep=0.5"]
    assert (strict.precision, strict.token_keep) == ("fp32", 1.0)  # nothing approximate passes: exact, every token
    assert strict.quality_tolerance == -1.0 and figures["fp32"]["change_bound"] is None  # the user's tolerance back
    loose = CrossEncoder(str(model_dir), backend="openvino", precision="auto", quality_tolerance=1.0, **given)
    loose.predict(PAIRS[:2])
    fastest = max(loose.auto_choice["figures"].values(), key=lambda figure: figure["pairs_per_s"])
    assert (loose.precision, loose.token_keep) == (fastest["precision"], fastest["token_keep"])
    assert loose.quality_check is None or loose.quality_check["token_keep"] == loose.token_keep


def test_an_interrupted_auto_choice_leaves_the_model_to_choose_again(model_dir, monkeypatch):
    monkeypatch.setattr("xenc.pipeline.cpu_flags", lambda: {"amx_bf16"})
    model = CrossEncoder(str(model_dir), backend="openvino", precision="auto", token_keep=0.5,
                         guard_pairs=(PAIRS[32:], LABELS[32:]))  # fmt: skip
    with patch("xenc.pipeline.probe_seconds", side_effect=KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
        model.predict(PAIRS[:2])
    assert (model.precision, model.token_keep, model.quality_tolerance) == ("auto", 0.5, 0.005)
    assert model.quality_check is None and not list((model_dir / "openvino").glob("*-auto*"))  # no record written
    model.predict(PAIRS[:2])
    assert model.auto_choice is not None and model.precision != "auto"


def test_the_cpu_decides_which_precisions_auto_tries():
    from xenc.machine import fast_precisions

    assert fast_precisions({"amx_bf16", "avx512_bf16", "avx512_vnni"}) == ["bf16", "int8"]  # Intel with AMX
    assert fast_precisions({"avx512_bf16", "avx512_vnni"}) == ["int8", "bf16"]  # AMD EPYC (Zen 4/5)
    assert fast_precisions({"avx2", "avx_vnni"}) == ["int8"] and fast_precisions({"avx2"}) == []
    with pytest.raises(ValueError, match='precision="auto" runs on OpenVINO'):
        CrossEncoder(precision="auto")


def test_a_rerankers_guard_compares_map_over_its_queries(model_dir):
    qids = np.repeat(np.arange(8), 4)  # 8 queries of 4 candidates, one relevant each
    grades = np.tile([1, 0, 0, 0], 8)
    model = CrossEncoder(str(model_dir), backend="openvino", token_keep=0.5,
                         guard_pairs=(PAIRS[32:], grades, qids), quality_tolerance=1.0)  # fmt: skip
    model.predict(PAIRS[:2])
    assert model.quality_check["metric"] == "map"
    exact = CrossEncoder(str(model_dir)).predict(PAIRS[32:], activation_fn=torch.nn.Identity())  # logits: no ties
    assert model.quality_check["fp32"] == pytest.approx(rerank_metrics(exact, grades, qids)["map"], abs=1e-6)


def test_the_ranking_bound_resamples_whole_queries():
    from xenc.guard import change_bound, task_metric

    rng = np.random.default_rng(1)
    qids, grades = np.repeat(np.arange(20), 5), np.tile([1, 0, 0, 0, 0], 20)
    exact = rng.random((100, 1))
    assert task_metric(exact, grades, qids)[0] == "map"
    assert change_bound(exact, exact.copy(), grades, qids) == 0.0
    swapped = exact.copy()
    swapped[::5] = -1.0  # every relevant candidate ranked last: MAP falls on every resample
    drop = task_metric(exact, grades, qids)[1] - task_metric(swapped, grades, qids)[1]
    assert drop < change_bound(exact, swapped, grades, qids) < 2 * drop  # the drop, plus its spread over queries


def test_own_guard_pairs_of_ranking_data_are_whole_queries(tmp_path):
    from xenc.data import load
    from xenc.guard import own_pairs

    config = {"dataset": "trecqa", "eval_split": "validation"}
    (tmp_path / "results.json").write_text(json.dumps({"config": config}))
    pairs, labels, qids = own_pairs(str(tmp_path), "eval", 100)
    every = np.asarray(load("trecqa")["validation"]["qid"])
    assert len(pairs) == len(labels) == len(qids) >= 100
    assert all((qids == q).sum() == (every == q).sum() for q in np.unique(qids))  # no query cut short
