"""Resume: a run stopped by Ctrl-C or a kill, resumed with --resume_from_checkpoint, ends exactly where the
uninterrupted run with the same seed ends (weights and metrics)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from xenc.recipes import _output
from xenc.train import main, parse_args

pytestmark = pytest.mark.heavy  # launches processes and trains
ROOT = Path(__file__).resolve().parents[1]


def flags(model_dir, out) -> list[str]:
    """12 steps (48 pairs, batch 8, 2 epochs), a checkpoint and an evaluation every 3 steps."""
    return ["--model", str(model_dir), "--dataset", "stsb", "--max_train_samples", "48", "--max_eval_samples", "16",
            "--num_train_epochs", "2", "--per_device_train_batch_size", "8", "--max_length", "64",
            "--eval_strategy", "steps", "--eval_steps", "3", "--save_strategy", "steps", "--save_steps", "3",
            "--disable_tqdm", "true", "--output_dir", str(out)]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "uninterrupted"
    main(*parse_args(flags(tiny_model_dir, out)))
    return out


class CountSteps(TrainerCallback):
    """The optimizer steps this process really ran (a resume that restarted at step 0 would run all 12)."""

    def __init__(self):
        self.steps = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def assert_same_run(a: Path, b: Path) -> None:
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    ma, mb = (json.loads((p / "results.json").read_text())["metrics"] for p in (a, b))
    for key in ("untrained_spearman", "eval_spearman", "eval_loss", "test_spearman", "train_steps"):
        assert ma[key] == mb[key], key
    assert not list(b.glob("checkpoint-*"))  # the resumed run cleans up its checkpoints like any run


def stop_at_step_7(signal: str, flags_: list[str], out: Path) -> None:
    """Run the flags in a new process that sends itself SIGINT or SIGKILL after step 7, between checkpoints 6 and 9."""
    cmd = [sys.executable, str(ROOT / "tests" / "interrupted_train.py"), "7", signal, *flags_]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode != 0 and not (out / "results.json").exists()  # it really stopped
    assert max(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*")) == 6  # rotation may keep the best too


@pytest.fixture(scope="module")
def killed(tiny_model_dir, tmp_path_factory) -> Path:
    """The output dir of a run killed (SIGKILL, as the out-of-memory killer does) after step 7; tests resume copies."""
    out = tmp_path_factory.mktemp("resume") / "killed"
    stop_at_step_7("KILL", flags(tiny_model_dir, out), out)
    return out


def resume_and_compare(tiny_model_dir, out: Path, uninterrupted: Path, resume: list[str]) -> None:
    ran = CountSteps()
    main(*parse_args([*flags(tiny_model_dir, out), *resume]), callbacks=[ran])
    assert ran.steps == list(range(7, 13))  # from checkpoint-6 on
    assert_same_run(uninterrupted, out)


def test_a_run_stopped_by_ctrl_c_resumes_to_the_same_weights_and_metrics(tiny_model_dir, uninterrupted, tmp_path):
    out = tmp_path / "stopped"
    stop_at_step_7("INT", flags(tiny_model_dir, out), out)
    resume_and_compare(tiny_model_dir, out, uninterrupted, ["--resume_from_checkpoint", "true"])


def test_a_killed_run_resumes_to_the_same_weights_and_metrics(tiny_model_dir, uninterrupted, killed, tmp_path):
    out = shutil.copytree(killed, tmp_path / "killed")
    resume_and_compare(tiny_model_dir, out, uninterrupted, ["--resume_from_checkpoint", "true"])


def test_resume_passes_over_a_checkpoint_killed_while_written(tiny_model_dir, uninterrupted, killed, tmp_path):
    out = shutil.copytree(killed, tmp_path / "partial")
    partial = out / "checkpoint-9"  # a save cut short: weights written, trainer_state.json (written last) missing
    shutil.copytree(out / "checkpoint-6", partial)
    (partial / "trainer_state.json").unlink()
    assert _output(out)[-2:] == ["--resume_from_checkpoint", "true"]  # what `xenc reproduce` passes
    resume_and_compare(tiny_model_dir, out, uninterrupted, _output(out)[2:])


def test_a_fresh_run_refuses_an_output_dir_with_another_runs_checkpoints(tiny_model_dir, tmp_path):
    (tmp_path / "checkpoint-50").mkdir()
    (tmp_path / "checkpoint-50" / "trainer_state.json").write_text("{}")
    with pytest.raises(FileExistsError, match="checkpoint-50.*--resume_from_checkpoint true"):
        main(*parse_args(flags(tiny_model_dir, tmp_path)))
    assert (tmp_path / "checkpoint-50" / "trainer_state.json").exists()


@pytest.mark.parametrize(
    ("resume", "words"),
    [("true", "has no complete checkpoint"), ("{tmp}/nowhere", "no trainer_state.json there")],
)
def test_resume_names_what_is_missing(resume, words, tiny_model_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match=words):
        main(*parse_args([*flags(tiny_model_dir, tmp_path / "out"), "--resume_from_checkpoint",
                          resume.format(tmp=tmp_path)]))  # fmt: skip


def test_resume_refuses_another_runs_checkpoint_unless_forced(tiny_model_dir, uninterrupted, killed, tmp_path):
    assert json.loads((killed / "checkpoint-6" / "run_identity.json").read_text())["seed"] == 42
    out = shutil.copytree(killed, tmp_path / "other")
    other = [*flags(tiny_model_dir, out), "--resume_from_checkpoint", "true"]
    with pytest.raises(ValueError, match=r"another run's: seed 42 there, 7 here.*--force_resume true"):
        main(*parse_args([*other, "--seed", "7"]))
    with pytest.raises(ValueError, match=r"learning_rate 5e-05 there, 0.001 here"):
        main(*parse_args([*other, "--learning_rate", "1e-3"]))
    (out / "checkpoint-6" / "run_identity.json").unlink()  # a checkpoint that does not say whose run it is
    with pytest.raises(ValueError, match="does not record whose run it is"):
        main(*parse_args(other))
    metrics = main(*parse_args([*other, "--force_resume", "true"]))
    assert metrics["resume_forced"] is True and metrics["resumed_from"].endswith("checkpoint-6")
    assert json.loads((out / "results.json").read_text())["metrics"]["resume_forced"] is True


def test_resume_true_refuses_a_checkpoint_without_optimizer_state(tiny_model_dir, killed, tmp_path):
    out = shutil.copytree(killed, tmp_path / "weights-only")
    for checkpoint in out.glob("checkpoint-*"):
        (checkpoint / "optimizer.pt").unlink(missing_ok=True)
    with pytest.raises(ValueError, match="no optimizer state"):
        main(*parse_args([*flags(tiny_model_dir, out), "--resume_from_checkpoint", "true"]))


def test_a_forced_resume_from_weights_of_other_shapes_is_named(tiny_model_dir, killed, tmp_path):
    out = shutil.copytree(killed, tmp_path / "other-head")  # a one-label STSb run's checkpoints
    flags_ = [*flags(tiny_model_dir, out), "--dataset", "sick-e", "--resume_from_checkpoint", "true",
              "--force_resume", "true"]  # fmt: skip
    with pytest.raises(ValueError, match="its weights have other shapes than this run's model"):
        main(*parse_args(flags_))
