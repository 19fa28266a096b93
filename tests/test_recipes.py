"""Multi-seed summaries and the bi-encoder baseline helper."""

import json

import numpy as np
import pytest

from xenc.bi_encoder import BiEncoder
from xenc.recipes import (
    PRETRAIN,
    RECIPES,
    recipe_results,
    record_runs,
    reproduce,
    summarize_runs,
    train_seed,
    write_record,
)


def test_summarize_runs_gives_mean_and_sample_std(tmp_path):
    for i, value in enumerate([0.80, 0.82, 0.84]):
        (tmp_path / f"s{i}").mkdir()
        metrics = {"test_spearman": value, "test_pearson": 0.5, "wall_time_s": 10.0 * (i + 1)}
        (tmp_path / f"s{i}" / "results.json").write_text(json.dumps({"metrics": metrics}))
    summary = summarize_runs([tmp_path / f"s{i}" for i in range(3)])
    assert summary["test_spearman"] == pytest.approx((0.82, 0.02))
    assert summary["wall_time_s"] == pytest.approx((20.0, 10.0)) and "test_accuracy" not in summary


def test_recipe_results_name_seeds_and_commits(tmp_path):
    assert recipe_results("stsb", tmp_path) == ([], "")
    for seed, commit in ((42, "abc1234"), (43, None)):
        (tmp_path / f"seed-{seed}").mkdir()
        record = {"metrics": {"test_spearman": seed / 100}, "environment": {"commit": commit}}
        (tmp_path / f"seed-{seed}" / "results.json").write_text(json.dumps(record))
    (tmp_path / "seed-44").mkdir()  # unfinished: no results.json
    results, line = recipe_results("stsb", tmp_path)
    assert [r["metrics"]["test_spearman"] for r in results] == [0.42, 0.43]
    assert line.startswith("`xenc reproduce stsb`, seeds 42/43, commit abc1234, not recorded, 20")


def test_a_recipe_with_a_pretrain_stage_starts_from_its_model(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(RECIPES, "tiny", ["--dataset", "sick-e"])
    monkeypatch.setitem(PRETRAIN, "tiny", ["--dataset", "snli", "--train_split", "validation", "--eval_split", "test",
                                           "--test_split", "none"])  # fmt: skip
    fast = ["--max_train_samples", "16", "--max_eval_samples", "16", "--num_train_epochs", "1", "--use_cpu", "true",
            "--disable_tqdm", "true", "--max_length", "64"]  # fmt: skip
    # a `--model` among the extra flags is the first stage's base; the second stage starts from the first's model
    summary = reproduce("tiny", str(tmp_path), seeds=(1,), extra=[*fast, "--model", str(tiny_model_dir)])
    run = tmp_path / "seed-1"
    assert json.loads((run / "results.json").read_text())["config"]["model"] == str(run / "pretrain")
    pretrain = json.loads((run / "pretrain" / "results.json").read_text())["config"]
    assert pretrain["dataset"] == "snli" and pretrain["model"] == str(tiny_model_dir)
    assert {"test_accuracy", "wall_time_s", "pretrain_wall_time_s"} <= set(summary)
    finished = (run / "results.json").stat().st_mtime_ns
    again = reproduce("tiny", str(tmp_path), seeds=(1,), extra=fast)  # a finished seed is kept, not re-run
    assert (run / "results.json").stat().st_mtime_ns == finished and again == summary
    assert train_seed("tiny", run, 1) == run and (run / "results.json").stat().st_mtime_ns == finished


def test_bi_encoder_embeddings_come_in_input_order(tiny_model_dir):
    bi = BiEncoder(str(tiny_model_dir), device="cpu")
    texts = ["a man is playing a guitar", "a dog", "the red car is on the street with a big dog"]
    together = bi.encode(texts, batch_size=2)
    alone = np.stack([bi.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert bi.similarity(texts[:1], texts[:1])[0] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="equal length"):
        bi.similarity(texts, texts[:1])
    low = BiEncoder(str(tiny_model_dir), device="cpu", precision="bf16").encode(texts, batch_size=2)
    assert low.dtype == np.float32 and np.allclose(low, together, atol=0.05) and not np.array_equal(low, together)
    with pytest.raises(ValueError, match="precision='int8' is unknown"):
        BiEncoder(str(tiny_model_dir), precision="int8")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_parses(name):
    from xenc.train import parse_args

    cfg, args = parse_args([*RECIPES[name], "--output_dir", "unused"])
    assert cfg.dataset and args.num_train_epochs >= 1


@pytest.mark.parametrize("name", sorted(PRETRAIN))
def test_every_pretrain_stage_parses(name):
    from xenc.train import parse_args

    cfg, args = parse_args([*PRETRAIN[name], "--output_dir", "unused"])
    assert cfg.dataset and args.num_train_epochs >= 1


def test_a_committed_record_stands_in_for_runs_not_made_here(tmp_path):
    runs, records = tmp_path / "runs", tmp_path / "records"
    (runs / "seed-42").mkdir(parents=True)
    result = {"metrics": {"test_spearman": 0.83, "eval_spearman": 0.87, "untrained_loss": 0.7},
              "environment": {"commit": "abc1234", "cpu": "Some CPU (flags), 2 cores"}}  # fmt: skip
    (runs / "seed-42" / "results.json").write_text(json.dumps(result))
    path = write_record("stsb", runs, records, extra=["--bf16", "true"])
    record = json.loads(path.read_text())
    assert record["command"] == "xenc reproduce stsb --extra --bf16 true" and record["flags"] == RECIPES["stsb"]
    assert record["seeds"]["42"]["metrics"] == {"test_spearman": 0.83, "eval_spearman": 0.87}  # no training detail
    # where the runs are, they win; where they are not, the record answers and says so
    assert recipe_results("stsb", runs, records)[1].startswith("`xenc reproduce stsb`, seeds 42")
    results, line = recipe_results("stsb", tmp_path / "elsewhere", records)
    assert [r["metrics"]["test_spearman"] for r in results] == [0.83]
    assert line.startswith("recorded: `xenc reproduce stsb --extra --bf16 true`, seeds 42, commit abc1234, 20")
    assert "Some CPU" in line and recipe_results("stsb-mpnet", tmp_path / "elsewhere", records) == ([], "")
    with pytest.raises(FileNotFoundError, match="xenc reproduce stsb"):
        record_runs("stsb", tmp_path / "elsewhere")


def test_reproduce_refuses_a_repeated_seed_and_another_recipes_folder(tmp_path):
    with pytest.raises(ValueError, match="repeat"):
        reproduce("stsb", str(tmp_path), seeds=[42, 42])
    (tmp_path / "seed-42").mkdir()
    (tmp_path / "seed-42" / "recipe.txt").write_text("sick-e\n")
    with pytest.raises(FileExistsError, match="recipe 'sick-e', not 'stsb'"):
        train_seed("stsb", tmp_path / "seed-42", 42)


def test_a_run_killed_after_its_final_save_counts_as_finished(tiny_model_dir, tmp_path, monkeypatch):
    """The model and results.json move in one step (config.json last); a kill before the checkpoints are removed
    leaves a finished run that `xenc reproduce` keeps, not a model without results that resume refuses."""
    monkeypatch.setitem(RECIPES, "tiny", ["--dataset", "stsb", "--model", str(tiny_model_dir)])
    fast = ["--max_train_samples", "16", "--max_eval_samples", "16", "--num_train_epochs", "1", "--disable_tqdm",
            "true", "--max_length", "64"]  # fmt: skip

    def killed(out):
        raise KeyboardInterrupt  # the process stops right after the final files were moved

    import xenc.train

    remove_checkpoints = xenc.train.remove_checkpoints
    monkeypatch.setattr("xenc.train.remove_checkpoints", killed)
    with pytest.raises(KeyboardInterrupt):
        train_seed("tiny", tmp_path / "seed-42", 42, fast)
    folder = tmp_path / "seed-42"
    assert (folder / "results.json").exists() and (folder / "config.json").exists()
    assert list(folder.glob("checkpoint-*"))  # not yet removed
    monkeypatch.setattr("xenc.train.remove_checkpoints", remove_checkpoints)
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert train_seed("tiny", folder, 42, fast) == folder  # finished: kept, not trained again
    assert (folder / "model.safetensors").stat().st_mtime_ns == before
    assert json.loads((folder / "results.json").read_text())["metrics"]["train_steps"] > 0


def test_recipe_results_can_take_only_the_seeds_compared(tmp_path):
    for seed in (42, 43, 44):
        (tmp_path / f"seed-{seed}").mkdir()
        (tmp_path / f"seed-{seed}" / "results.json").write_text(json.dumps({"metrics": {"test_spearman": seed / 100}}))
    runs, line = recipe_results("stsb", tmp_path, seeds=[42, 43])
    assert [r["metrics"]["test_spearman"] for r in runs] == [0.42, 0.43] and "seeds 42/43," in line
    assert len(recipe_results("stsb", tmp_path)[0]) == 3
