"""Shared helpers of the benchmark scripts: alternating timed repetitions, peak memory, the machine, tables.

Not a benchmark itself; `bench_inference.py`, `bench_training.py` and `bench_memory.py` import it (run them from
the repository root as `python benchmarks/<script>.py`, which puts this folder on `sys.path`).
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

from xenc.train import environment

RESULTS = Path(__file__).parent / "results"
NOT_RUN = "not yet run"


def machine() -> str:
    """One line: CPU model and cores (or the GPU), torch threads, library versions."""
    env = environment()
    versions = ", ".join(f"{k} {env[k]}" for k in ("torch", "transformers"))
    gpu = f"; {env['device']}" if torch.cuda.is_available() else ""
    return f"{env['cpu']}, {torch.get_num_threads()} torch threads{gpu}; {versions}"


class PeakMemory:
    """Peak memory above the level at entry (MiB): CUDA's allocator peak, else resident memory sampled every 2 ms."""

    def __init__(self, device: str = "cpu"):
        self.cuda, self.peak_mib, self._stop = device.startswith("cuda"), 0.0, threading.Event()

    @staticmethod
    def rss_mib() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self._top = max(self._top, self.rss_mib())

    def __enter__(self) -> PeakMemory:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated() / 2**20
        else:
            self._base = self._top = self.rss_mib()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            self.peak_mib = torch.cuda.max_memory_allocated() / 2**20 - self._base
        else:
            self._stop.set()
            self._thread.join()
            self.peak_mib = max(self._top, self.rss_mib()) - self._base


def time_alternating(contenders: dict[str, Callable], reps: int, device: str = "cpu") -> dict[str, dict]:
    """Run each contender once to warm up, then `reps` rounds in rotating order; the wall times and outputs.

    Returns:
        `{name: {"times": [s, ...], "output": last return value, "peak_mib": max peak memory over the runs}}`.
    """
    names = list(contenders)
    runs = {name: {"times": [], "output": contenders[name](), "peak_mib": 0.0} for name in names}  # warm-up
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:  # nobody always runs first
            with PeakMemory(device) as memory:
                start = time.perf_counter()
                runs[name]["output"] = contenders[name]()
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                runs[name]["times"].append(time.perf_counter() - start)
            runs[name]["peak_mib"] = max(runs[name]["peak_mib"], memory.peak_mib)
    return runs


def rate_summary(times: list[float], items: int, peer_rate: float | None = None) -> dict:
    """Median items/s, its min-max, and the ratio to the peer's median."""
    rates = [items / t for t in times]
    median = statistics.median(rates)
    return {
        "rate": median,
        "min_max": f"{min(rates):.0f}-{max(rates):.0f}",
        "x_peer": median / peer_rate if peer_rate else None,
    }


def markdown_table(rows: list[dict], columns: dict[str, tuple[str, str]]) -> str:
    """Rows as a markdown table; `columns` maps row keys to (header, format spec); missing values stay empty."""
    lines = ["| " + " | ".join(h for h, _ in columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ["" if row.get(k) is None else format(row[k], spec) for k, (_, spec) in columns.items()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(name: str, title: str, table: str, meta: dict) -> None:
    """Print the table with its machine and command, and write it to results/<name>.md and results/<name>.json."""
    command = "XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python " + shlex.join(sys.argv)
    text = f"### {title}\n\nMachine: {machine()}\n\nCommand: `{command}`\n\n{table}\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
    payload = {"title": title, "machine": machine(), "command": command, "table": table, **meta}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str))
