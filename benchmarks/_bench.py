"""The benchmark scripts' one helper module: timing, peak memory, the machine, tables, inputs.

Not a benchmark itself. The scripts import only xenc and this module (run them from the repository root as
`python benchmarks/<script>.py`, which puts this folder on `sys.path`); no script imports another script.
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
import threading
from pathlib import Path

import numpy as np
import torch

from xenc import ranking_metrics, retrieval
from xenc.beir import BeirSplit
from xenc.data import load
from xenc.train import environment

RESULTS = Path(__file__).parent / "results"
TRAINED = Path("runs/reproduce-stsb/seed-42")  # the default model: `xenc reproduce stsb --seeds 42`


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


def load_pairs(name: str, n: int | None) -> tuple[list[tuple[str, str]], np.ndarray | None]:
    """The (a, b) pairs of an input and, for STSb, their gold scores: `stsb` = the 1,379 STSb test pairs, `scifact` =
    the 339 (query, title + abstract) SciFact test pairs of the qrels."""
    if name == "stsb":
        test = load("stsb")["test"]
        pairs, labels = list(zip(test["sentence1"], test["sentence2"])), np.array(test["label"])
    else:
        data = load("scifact")
        queries = dict(zip(data["queries"]["_id"], data["queries"]["text"]))
        docs = {d["_id"]: f"{d['title']} {d['text']}" for d in data["corpus"]}
        pairs, labels = (
            [(queries[q], docs[d]) for q, d in zip(data["qrels"]["query_id"], data["qrels"]["corpus_id"])],
            None,
        )
    return pairs[:n], (labels[:n] if labels is not None else None)


def scifact_rerank(first_stage: Path, k: int, seed: int = 0) -> dict:
    """What a SciFact reranker is checked on: `calibration`, 300 pairs of training claims (a cited and a random
    abstract each); `guard`, the first stage's top `k` of the held-out dev claims, labelled by their qrels, with
    query ids (xenc's guard then judges MAP over each claim's candidates); `test`, the top `k` of the test claims as
    (query id, doc id) `ids` and text `pairs`, with the `run` and `qrels` that NDCG@10 is read from."""
    split, runs, rng = BeirSplit.load("scifact"), json.loads(first_stage.read_text()), np.random.default_rng(seed)
    calibration = []
    for q in rng.permutation(sorted(split.fit))[:150]:
        cited, other = next(iter(split.fit[q])), split.doc_ids[rng.integers(len(split.docs))]
        calibration += [[split.queries[q], split.docs[cited]], [split.queries[q], split.docs[other]]]
    dev, test = (retrieval.candidate_pairs(runs[name], k) for name in ("dev", "test"))
    guard = {"pairs": [[split.queries[q], split.docs[d]] for q, d in dev], "qids": [int(q) for q, _ in dev],
             "labels": [int(split.dev[q].get(d, 0) > 0) for q, d in dev]}  # fmt: skip
    test_pairs = [[split.queries[q], split.docs[d]] for q, d in test]
    return {"calibration": calibration, "guard": guard,
            "test": {"ids": test, "pairs": test_pairs, "run": runs["test"], "qrels": split.test}}  # fmt: skip


def rerank_ndcg(ids: list, scores, run: dict, qrels: dict, k: int) -> float:
    """NDCG@10 of `run` with each query's top `k` reordered by `scores` of its (query id, doc id) pairs `ids`."""
    reranked = {}
    for (q, d), score in zip(ids, scores):
        reranked.setdefault(q, {})[d] = float(score)
    return ranking_metrics(retrieval.rerank_run(run, reranked, k), qrels)["ndcg@10"]
