"""The training entry and the `xenc` command on the tiny model: results.json, refusal to overwrite, eval, predict."""

import json
import math
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import FIXTURES
from xenc import CrossEncoder, nli_metrics, sts_metrics
from xenc.cli import main as cli
from xenc.train import load_splits, main, parse_args

FAST = ["--max_train_samples", "32", "--max_eval_samples", "32", "--num_train_epochs", "1", "--use_cpu", "true",
        "--disable_tqdm", "true", "--max_length", "64"]  # fmt: skip


@pytest.mark.parametrize("dataset, key", [("stsb", "test_spearman"), ("sick-e", "test_accuracy")])
def test_train_writes_model_and_results_json(tiny_model_dir, tmp_path, dataset, key):
    out = tmp_path / "run"
    metrics = main(
        *parse_args(["--model", str(tiny_model_dir), "--dataset", dataset, "--output_dir", str(out), *FAST])
    )
    results = json.loads((out / "results.json").read_text())
    assert math.isfinite(results["metrics"][key]) and results["metrics"][key] == metrics[key]
    assert {"device", "torch", "transformers"} <= set(results["environment"])
    assert results["config"]["dataset"] == dataset and (out / "model.safetensors").exists()
    assert json.loads((out / "tokenizer_config.json").read_text())["model_max_length"] == 64  # the training length
    assert not list(out.glob("checkpoint-*"))  # the run's own checkpoints are removed once the best is saved


def test_train_refuses_an_output_dir_that_holds_a_model(tiny_model_dir):
    with pytest.raises(FileExistsError, match="--overwrite_output_dir"):
        main(*parse_args(["--model", str(tiny_model_dir), "--output_dir", str(tiny_model_dir), *FAST]))


def test_test_split_none_means_no_test():
    assert parse_args(["--test_split", "none"])[0].test_split is None


def test_unknown_dataset_in_args_is_named():
    with pytest.raises(ValueError, match="dataset='nope' is unknown"):
        parse_args(["--dataset", "nope"])


def test_eval_of_an_nli_model_reports_accuracy_and_per_class_f1(tiny_nli_model, tiny_tokenizer, tmp_path, capsys):
    tiny_nli_model.config.label2id = {"entailment": 0, "neutral": 1, "contradiction": 2}
    tiny_nli_model.config.id2label = {0: "entailment", 1: "neutral", 2: "contradiction"}
    tiny_nli_model.save_pretrained(tmp_path / "nli")
    tiny_tokenizer.save_pretrained(tmp_path / "nli")
    data = pd.DataFrame({"sentence1": ["A man eats.", "A dog runs.", "It rains.", "Kids play."],
                         "sentence2": ["Someone eats.", "A cat sleeps.", "It is dry.", "Children play."],
                         "label": ["entailment", "neutral", "contradiction", "entailment"]})  # fmt: skip
    data.to_csv(tmp_path / "nli.csv", index=False)
    logits = CrossEncoder(str(tmp_path / "nli")).predict(list(zip(data.sentence1, data.sentence2)))
    expected = nli_metrics(logits, [0, 1, 2, 0])
    cli(["eval", "--model", str(tmp_path / "nli"), "--data", str(tmp_path / "nli.csv")])
    printed = capsys.readouterr().out
    for key in ("accuracy", "macro_f1", "f1_contradiction"):
        value = float(re.search(rf"\| {key}\s*\| ([-0-9.]+) \|", printed).group(1))
        assert value == pytest.approx(expected[key], abs=1e-4)


def test_eval_on_a_csv_and_predict_to_a_file(tiny_model_dir, tmp_path, capsys):
    data = pd.read_csv(FIXTURES / "sts_pairs.csv")
    pairs = list(zip(data.sentence1, data.sentence2))
    expected = CrossEncoder(str(tiny_model_dir)).predict(pairs)
    cli(["eval", "--model", str(tiny_model_dir), "--data", str(FIXTURES / "sts_pairs.csv")])
    printed = capsys.readouterr().out
    spearman = float(re.search(r"\| spearman\s*\| ([-0-9.]+) \|", printed).group(1))
    assert spearman == pytest.approx(sts_metrics(expected, data.label.to_numpy())["spearman"], abs=1e-4)
    out = tmp_path / "scores.csv"
    cli(["predict", "--model", str(tiny_model_dir), "--input", str(FIXTURES / "sts_pairs.csv"), "--output", str(out)])
    scores = pd.read_csv(out)
    assert list(scores.sentence1) == list(data.sentence1)  # input order kept
    assert scores["score"].to_numpy() == pytest.approx(expected, abs=1e-6)
    with pytest.raises(SystemExit) as stop:
        cli(
            [
                "predict",
                "--model",
                str(tiny_model_dir),
                "--input",
                str(FIXTURES / "sts_pairs.csv"),
                "--output",
                str(out),
            ]
        )
    assert stop.value.code == 2 and "exists; nothing was written" in capsys.readouterr().err


def test_predict_on_openvino_gives_the_same_scores(tiny_model_dir, tmp_path):
    pytest.importorskip("openvino", reason='needs pip install "xenc[fast]"')
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")  # the conversion is cached inside the folder
    data = pd.read_csv(FIXTURES / "sts_pairs.csv")
    out = tmp_path / "scores.csv"
    cli(["predict", "--model", str(model), "--input", str(FIXTURES / "sts_pairs.csv"), "--output", str(out),
         "--backend", "openvino"])  # fmt: skip
    expected = CrossEncoder(str(model)).predict(list(zip(data.sentence1, data.sentence2)))
    assert pd.read_csv(out)["score"].to_numpy() == pytest.approx(expected, abs=1e-5)


def test_prepare_prints_what_will_score_and_where_it_is_saved(tiny_model_dir, tmp_path, capsys):
    pytest.importorskip("openvino", reason='needs pip install "xenc[fast]"')
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    cli(["prepare", "--model", str(model), "--backend", "openvino"])
    report = json.loads(capsys.readouterr().out)
    assert report["scores_with"].startswith("openvino fp32") and report["artifact"].startswith(str(model / "openvino"))
    with pytest.raises(SystemExit) as done:  # int8 with neither calibration pairs nor the model's own data
        cli(["prepare", "--model", str(model), "--backend", "openvino", "--precision", "int8"])
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after transformers' loading bar
    assert done.value.code == 2 and error.startswith("xenc prepare: error:") and "calibration_pairs" in error


@pytest.mark.heavy
def test_train_runs_unchanged_under_accelerate_launch(tiny_model_dir, tmp_path):
    out = tmp_path / "launched"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1", "-m", "xenc.train",
           "--model", str(tiny_model_dir), "--output_dir", str(out), *FAST]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    launched = json.loads((out / "results.json").read_text())["metrics"]
    here = main(*parse_args(["--model", str(tiny_model_dir), "--output_dir", str(tmp_path / "here"), *FAST]))
    for key in ("untrained_spearman", "eval_spearman", "test_spearman", "train_loss", "train_steps"):
        assert launched[key] == pytest.approx(here[key], abs=1e-6), key  # the same run, launched or not


def test_swap_pairs_adds_each_training_pair_reversed():
    cfg, _ = parse_args(["--max_train_samples", "5", "--swap_pairs", "true"])
    train = load_splits(cfg)["train"]
    assert len(train) == 10
    assert (train[5]["sentence1"], train[5]["sentence2"]) == (train[0]["sentence2"], train[0]["sentence1"])
    assert train[5]["label"] == train[0]["label"]


@pytest.mark.heavy
def test_nli_then_sts_swaps_the_head(tiny_model_dir, tmp_path):
    nli, sts = tmp_path / "nli", tmp_path / "sts"
    main(*parse_args(["--model", str(tiny_model_dir), "--dataset", "sick-e", "--output_dir", str(nli), *FAST]))
    assert json.loads((nli / "config.json").read_text())["id2label"] == {"0": "entailment", "1": "neutral",
                                                                       "2": "contradiction"}  # fmt: skip
    metrics = main(*parse_args(["--model", str(nli), "--dataset", "stsb", "--output_dir", str(sts), *FAST]))
    config = json.loads((sts / "config.json").read_text())
    assert config["id2label"] == {"0": "LABEL_0"} and math.isfinite(metrics["test_spearman"])


def test_bf16_training_picks_the_cpu_by_itself_without_a_gpu(monkeypatch):
    from xenc import train

    monkeypatch.setattr(train, "has_accelerator", lambda: False)
    _, args = train.parse_args(["--bf16", "true", "--output_dir", "unused"])  # refused without use_cpu before
    assert args.bf16 and args.use_cpu
    _, args = train.parse_args(["--use_cpu", "false", "--output_dir", "unused"])  # the user's flag still wins
    assert not args.use_cpu


def test_train_from_dict_and_the_cli_share_one_set_of_defaults():
    from xenc.train import DEFAULTS, args_from_dict, parse_args

    flags = ["--dataset", "sick-e", "--output_dir", "runs/x", "--num_train_epochs", "2", "--bf16", "true"]
    from_dict = args_from_dict({"dataset": "sick-e", "output_dir": "runs/x", "num_train_epochs": 2, "bf16": True})
    assert from_dict == parse_args(flags)
    _, args = from_dict
    assert args.load_best_model_at_end and args.eval_strategy == "epoch" and args.num_train_epochs == 2
    assert args.per_device_train_batch_size == DEFAULTS["per_device_train_batch_size"] == 16


def test_results_name_the_commit_they_were_produced_with():
    from xenc.train import environment

    commit = environment()["commit"]  # the suite runs in a git checkout (CI: a fresh clone)
    assert commit and commit.split("-")[0].isalnum()


def test_the_cpu_description_names_the_generation_and_the_speed_flags():
    from xenc.train import cpu_description

    one = "processor\t: {}\nmodel name\t: AMD EPYC\ncpu family\t: {}\nmodel\t: 2\nflags\t: fpu avx2 avx512_bf16\n\n"
    text = cpu_description(one.format(0, 26) + one.format(1, 25))  # the first processor's fields
    assert text.startswith("AMD EPYC (family 26 model 2; avx512_bf16 avx2), ")
    assert cpu_description("model name\t: Some CPU\nflags\t: sse2\n").startswith("Some CPU (no avx2), ")


def test_train_help_names_every_loss_from_the_loss_tables(capsys):
    """A loss added to `xenc.losses` (or `xenc.bi_losses`) shows in `xenc train --help` without another edit."""
    from xenc.bi_losses import BI_LOSSES
    from xenc.losses import CROSS_LOSSES, DISTILLATION_LOSSES, GROUP_LOSSES

    with pytest.raises(SystemExit):
        cli(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    loss_help = text[text.rindex("--loss LOSS") : text.rindex("--teacher TEACHER")]  # the option, not usage
    assert all(name in loss_help for name in [*CROSS_LOSSES, *BI_LOSSES]), loss_help
    assert f"rerank with {' / '.join(DISTILLATION_LOSSES)}:" in text
    assert f"rerank with {' / '.join(GROUP_LOSSES)}:" in text
