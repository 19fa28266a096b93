"""A learner's path in a real JupyterLab: open notebook 05, run every cell, type a pair into the live box and read
the bi-encoder's and the cross-encoder's scores. Chromium comes from the system's packages (`make browser-deps`),
Playwright drives it through `executable_path`."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_cross_teaches_bi.ipynb"
SCORES = re.compile(r"bi-encoder cosine (-?\d\.\d{3}) \| cross-encoder score (\d\.\d{3})")


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the browser test needs Chromium: run `make browser-deps` (apt-get install chromium)"
    return found


def smoke_copy(folder: Path, base: Path) -> Path:
    """Notebook 05 with its parameters set to smoke mode on the tiny model (what a learner would edit by hand)."""
    notebook = json.loads(NOTEBOOK.read_text())
    cell = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] += (f"\nsmoke = True\nbase = {str(base)!r}\noutput_dir = {str(folder / 'run')!r}\n"
                       f"recorded = {str(NOTEBOOK.parents[1] / 'benchmarks' / 'results')!r}\n")  # fmt: skip
    path = folder / "05_smoke.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def scores_of(run: Path, pair: tuple[str, str]) -> list[float]:
    """What the box should show for `pair`: the notebook's trained bi-encoder cosine and cross-encoder score."""
    from xenc import BiEncoder, CrossEncoder

    cosine = BiEncoder(str(run / "bi-encoder")).similarity([pair[0]], [pair[1]])[0]
    return [float(cosine), float(CrossEncoder(str(run / "cross-encoder")).predict([pair])[0])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(folder: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--IdentityProvider.token=xenc-test", f"--ServerApp.root_dir={folder}", "--allow-root"]  # fmt: skip
    lab = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):  # up to 60 s for the server to answer
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token=xenc-test", timeout=1)
            return lab
        except OSError:
            time.sleep(0.5)
    lab.kill()
    raise RuntimeError("JupyterLab did not start within 60 s")


@pytest.mark.browser
def test_the_live_pair_box_shows_both_scores_in_jupyterlab(tmp_path, tiny_base_dir):
    from playwright.sync_api import expect, sync_playwright

    notebook = smoke_copy(tmp_path, tiny_base_dir)
    port = free_port()
    lab = start_lab(tmp_path, port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token=xenc-test")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
            label = page.locator(".widget-label", has_text="bi-encoder cosine")
            expect(label).to_be_visible(timeout=240_000)
            first = label.inner_text()
            boxes = page.locator(".widget-text input")
            pair = ("two dogs are running in the park", "a woman is slicing an onion")
            boxes.nth(0).fill(pair[0])
            boxes.nth(1).fill(pair[1])
            cosine, cross = scores_of(tmp_path / "run", pair)  # what the box must show for the typed pair
            expect(label).to_have_text(
                f"bi-encoder cosine {cosine:.3f} | cross-encoder score {cross:.3f}", timeout=30_000
            )
            assert label.inner_text() != first and SCORES.search(label.inner_text())
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=30)
