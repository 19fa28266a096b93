"""Scale-out on CPU: 2 processes (gloo) through `accelerate launch`, distributed predict, notebook 04 in smoke mode.

The launches use `accelerate_configs/cpu_2proc.yaml` (torchrun under accelerate; `--cpu --num_processes 2` would run
one process) with a free port each, so they can run beside other tests.
"""

import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import BertForSequenceClassification, TrainingArguments

from tests.conftest import FIXTURES, tiny_config
from tests.distributed_train import RecordFinalParameters
from tests.test_notebooks import run_notebook, solutions_pass
from xenc import CrossEncoder
from xenc.distributed import predict_distributed
from xenc.train import check_world, main, parse_args

pytestmark = pytest.mark.heavy  # launches processes and trains
ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "accelerate_configs"
FAST = ["--max_train_samples", "32", "--max_eval_samples", "33", "--num_train_epochs", "1", "--use_cpu", "true",
        "--disable_tqdm", "true", "--max_length", "64"]  # fmt: skip


def launch_2_processes(script: str, *args: str) -> None:
    """`accelerate launch` a script under tests/ on 2 CPU processes; fail with its stderr."""
    with socket.socket() as s:  # a free port: other suites may be launching too
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CONFIGS / "cpu_2proc.yaml"),
           "--main_process_port", str(port), str(ROOT / "tests" / script), *args]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def deterministic_model_dir(tmp_path_factory, tiny_tokenizer):
    """The tiny BERT without dropout: 2 processes x batch 4 must then match 1 process x batch 8."""
    config = tiny_config(1)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    folder = tmp_path_factory.mktemp("tiny-bert-no-dropout")
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


def test_two_processes_train_in_sync_and_write_results_once(deterministic_model_dir, tmp_path):
    two, one = tmp_path / "two", tmp_path / "one"
    (two / "ranks").mkdir(parents=True)
    (one / "ranks").mkdir(parents=True)
    launch_2_processes("distributed_train.py", str(two / "ranks"), "--model", str(deterministic_model_dir),
                       "--output_dir", str(two / "run"), "--per_device_train_batch_size", "4", *FAST)  # fmt: skip
    ranks = [json.loads((two / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["train_steps"] for r in ranks] == [4, 4]  # 32 pairs / (2 processes x 4): each trained on its shard
    assert [r["wrote_results"] for r in ranks] == [True, False]  # results.json comes from rank 0 only
    params = [torch.load(two / "ranks" / f"params-rank{r}.pt") for r in (0, 1)]
    assert params[0].keys() == params[1].keys()
    assert all(torch.equal(params[0][k], params[1][k]) for k in params[0])  # DDP kept the replicas identical
    initial = load_file(deterministic_model_dir / "model.safetensors")
    assert any(not torch.equal(params[0][k], initial[k]) for k in params[0])  # and they did train
    saved = load_file(two / "run" / "model.safetensors")
    assert all(torch.equal(params[0][k], saved[k]) for k in saved)

    results = json.loads((two / "run" / "results.json").read_text())["metrics"]
    assert results["num_processes"] == 2 and results["effective_batch_size"] == 8
    assert all(math.isfinite(results[k]) for k in ("untrained_spearman", "eval_spearman", "test_spearman"))

    # the same effective batch on one process (8 x 1) reaches the same parameters and eval metrics
    single = main(*parse_args(["--model", str(deterministic_model_dir), "--output_dir", str(one / "run"),
                               "--per_device_train_batch_size", "8", *FAST]),
                  callbacks=[RecordFinalParameters(one / "ranks")])  # fmt: skip
    reference = torch.load(one / "ranks" / "params-rank0.pt")
    assert all(torch.allclose(params[0][k], reference[k], atol=1e-6) for k in reference)
    # metrics come from every process's predictions gathered (33 eval pairs: one process pads, the pad is dropped)
    assert results["untrained_spearman"] == pytest.approx(single["untrained_spearman"], abs=1e-6)
    assert results["eval_spearman"] == pytest.approx(single["eval_spearman"], abs=1e-6)


def test_rerank_metrics_gather_every_process_s_candidates(deterministic_model_dir, tmp_path):
    # 41 candidate rows: one process gets a padded duplicate, which the gather must drop before ranking
    flags = ["--model", str(deterministic_model_dir), "--dataset", "trecqa", "--per_device_train_batch_size", "4",
             *FAST, "--max_train_samples", "16", "--max_eval_samples", "41", "--test_split", "none"]  # fmt: skip
    (tmp_path / "ranks").mkdir()
    launch_2_processes("distributed_train.py", str(tmp_path / "ranks"), *flags, "--output_dir", str(tmp_path / "two"))
    two = json.loads((tmp_path / "two" / "results.json").read_text())["metrics"]
    one = main(*parse_args([*flags, "--per_device_train_batch_size", "8", "--output_dir", str(tmp_path / "one")]))
    assert two["untrained_queries"] == one["untrained_queries"] > 0
    for key in ("untrained_map", "untrained_mrr@10", "untrained_ndcg@10"):  # the same weights: the same rankings
        assert two[key] == pytest.approx(one[key], abs=1e-9), key


def test_predict_distributed_matches_one_process_in_input_order(tiny_model_dir, tmp_path):
    data = pd.read_csv(FIXTURES / "sts_pairs.csv")
    pairs = [[a, b] for a, b in zip(data.sentence1, data.sentence2)][:19]  # odd: the shards are 10 and 9 pairs
    pairs_file = tmp_path / "pairs.json"
    pairs_file.write_text(json.dumps(pairs))
    launch_2_processes("distributed_predict.py", str(tiny_model_dir), str(pairs_file), str(tmp_path))
    expected = CrossEncoder(str(tiny_model_dir), device="cpu").predict(pairs, batch_size=4)
    assert len(np.unique(expected)) > 15  # distinct scores (near 0.5 for random weights), so a reordering would show
    for rank in (0, 1):
        assert (tmp_path / f"world-rank{rank}.txt").read_text() == "2"  # really split, not scored twice
        got = np.load(tmp_path / f"all-rank{rank}.npy")
        assert got.shape == (19,)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.load(tmp_path / f"one-rank{rank}.npy"), expected[:1], rtol=0, atol=1e-6)


def test_predict_distributed_in_one_process_is_predict(tiny_model_dir):
    model = CrossEncoder(str(tiny_model_dir), device="cpu")
    pairs = [["A man plays a guitar.", "A person plays guitar."], ["A dog runs.", "The sky is blue."]]
    np.testing.assert_allclose(predict_distributed(model, pairs), model.predict(pairs), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="expected a pair"):
        predict_distributed(model, ["just one text"])


def test_a_launch_that_training_args_do_not_see_is_refused(tmp_path, monkeypatch):
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    assert args.world_size == 1
    monkeypatch.setenv("WORLD_SIZE", "2")  # what torchrun sets; without use_cpu=True on a CPU box, args see 1
    with pytest.raises(RuntimeError, match="use_cpu"):
        check_world(args)


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIGS / name))
    assert config.num_processes == yaml.safe_load((CONFIGS / name).read_text())["num_processes"]


@pytest.mark.notebooks
def test_04_scaling_with_accelerate_smoke(tiny_model_dir, tmp_path):
    out = run_notebook("04_scaling_with_accelerate.ipynb", tmp_path, model=str(tiny_model_dir))
    summary = json.loads((out / "results.json").read_text())
    runs = {r["processes"]: r for r in summary["runs"]}
    assert set(runs) == {1, 2}
    assert all(math.isfinite(r["test_spearman"]) and r["wall_time_s"] > 0 for r in runs.values())
    assert runs[2]["effective_batch_size"] == runs[1]["effective_batch_size"]  # the same run, batch split in 2
    assert summary["predict_max_abs_diff"] < 1e-5
    table = pd.read_csv(out / "results.csv")
    assert table["status"].str.startswith("measured here").sum() == 2 and not table.isna().any().any()
    assert summary["provenance"]["mode"] == "learner" and solutions_pass(tmp_path / "executed.ipynb")
    cells = json.loads((tmp_path / "executed.ipynb").read_text())["cells"]
    printed = "".join(str(o) for c in cells if c["cell_type"] == "code" for o in c["outputs"])
    assert "CUDAs" not in printed and "OMP_NUM_THREADS/MKL_NUM_THREADS unset" not in printed  # no launcher noise
    assert table["setting"].tolist()[:2] == ["1 process(es), CPU", "2 process(es), CPU, DDP over gloo"]
    assert "1 process, 1 GPU" in table["setting"].tolist()  # read from benchmarks/results/training_stsb_cuda.json
    assert (out / "figures" / "scaling.png").exists()
