"""The README's first steps work as written: `make lab` is named first and opens JupyterLab from the default set-up."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_first_command_opens_the_notebooks():
    first = bash_blocks()[0].splitlines()[0]
    assert first.startswith("make lab"), first
    quickstart = next(block for block in bash_blocks() if "jupyter lab notebooks/" in block)
    assert quickstart.splitlines()[0].startswith("make lab")


def test_make_lab_runs_jupyterlab_of_the_default_install():
    dry_run = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert ".venv/bin/jupyter lab notebooks/" in dry_run
    default_extras = re.search(r"^EXTRAS \?= (.*)$", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    assert "notebooks" in default_extras.split(",")  # `make install` alone also gives `jupyter lab`
    assert (Path(sys.executable).parent / "jupyter-lab").exists(), "the default set-up installs JupyterLab"
    assert "notebooks" in (ROOT / "environment.yml").read_text()
