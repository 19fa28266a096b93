"""`python benchmarks`: the one entry lists every benchmark script and refuses an unknown name in one line; each
experiment script imports and shows its options."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_lists_every_script_with_its_question():
    listing = run().stdout
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - {"__main__", "_bench", "backend_worker"}
    assert scripts and all(f"  {name} " in listing for name in scripts), listing


def test_unknown_name_is_one_line_and_status_2():
    done = run("no_such_benchmark")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no_such_benchmark" in done.stderr and "guard_check" in done.stderr


def test_runs_the_named_script():
    done = run("guard_check", "--help")
    assert done.returncode == 0 and "--token_keep" in done.stdout


@pytest.mark.parametrize("script", ["augsbert", "bi_vs_cross"])
def test_each_experiment_imports_and_shows_its_options(script):
    done = subprocess.run([sys.executable, f"experiments/{script}.py", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "--seeds" in done.stdout, done.stderr
