"""Scoring backends side by side: xenc (torch, OpenVINO fp32 / bf16 / int8) against sentence-transformers' own.

Usage (from the repository root; `make peer-venv` first, for the peer's OpenVINO rows):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/bench_backends.py \
        --model runs/reproduce-stsb/seed-42 [--inputs stsb] [--rounds 5] [--contenders ...]
    ... --device cuda --batch_size 32 --tag cuda    # on a GPU: the torch contenders, fp32 / fp16 / bf16

Each contender is its own long-lived process (`backend_worker.py`; the peer's OpenVINO ones under `.venv-peer`,
whose optimum-intel needs an older transformers), loaded and warmed up before any timing. Then `--rounds` rounds,
each timing every contender once on all pairs of the input, in an order rotated every round, so slow drifts of the
machine hit all contenders alike. A measurement during which other processes took more than `--busy` of a core is
thrown away and repeated (up to 3 times; the count is reported). Afterwards every contender scores the pairs once
more for the quality columns: largest |score difference| to the peer's torch fp32 scores and, on STSb, the test
Spearman and its change. int8 contenders calibrate on 300 STSb train pairs; xenc's guard checks them on all 1,500
STSb dev pairs (a SciFact reranker, `--scifact-model`: calibrated on training claims, guarded on its first stage's
candidates for held-out dev claims). Inputs (`_bench.load_pairs`): `stsb` (1,379 test pairs, max_length 128) and
`scifact` (the 339 (query, title + abstract) test pairs of the qrels, max_length 256). Writes
results/backends_<input>.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _bench import load_pairs, markdown_table, report, rerank_ndcg, scifact_rerank

from xenc import sts_metrics
from xenc.backends import GUARD_PAIRS, QUALITY_TOLERANCE
from xenc.data import load

HERE = Path(__file__).parent
PEER_VENV = ("st-openvino-fp32", "st-openvino", "st-openvino-int8")
CONTENDERS = ("st-torch-fp32", *PEER_VENV, "xenc-torch-fp32", "xenc-torch-bf16", "xenc-openvino-fp32",
              "xenc-openvino-bf16", "xenc-openvino-int8", "xenc-openvino-int8-keep", "xenc-openvino-bf16-keep",
              "xenc-openvino-auto", "xenc-openvino-auto-keep")  # fmt: skip
# on a GPU: the torch paths, the peer's low precision as its docs show it (weights loaded in fp16 / bf16)
GPU_CONTENDERS = ("st-torch-fp32", "st-torch-fp16", "st-torch-bf16", "xenc-torch-fp32", "xenc-torch-fp16",
                  "xenc-torch-bf16")  # fmt: skip
COLUMNS = {"name": ("contender", "s"), "rate": ("pairs/s (median)", ".1f"), "min_max": ("min-max", "s"),
           "x_peer": ("x peer torch fp32", ".2f"), "max_diff": ("max abs score diff", ".1e"),
           "spearman": ("STSb Spearman", ".4f"), "ndcg": ("SciFact NDCG@10", ".4f"), "delta": ("change", "+.4f"),
           "retries": ("re-runs", "d")}  # fmt: skip


def cpu_jiffies(pid: int) -> tuple[int, int]:
    """(busy jiffies of the whole machine, jiffies of process `pid` and its threads)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return busy, int(stat[11]) + int(stat[12])  # utime + stime


class Worker:
    """One contender's process: `ask("run")` times a full pass over the pairs."""

    def __init__(self, name: str, python: str, flags: list[str], log: Path):
        cmd = [python, str(HERE / "backend_worker.py"), "--contender", name, *flags]
        self.name, self.log = name, log.open("w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} stopped; its log: {self.log.name}")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)

    def timed_run(self, busy_limit: float) -> tuple[float, bool]:
        """Seconds of one pass, and whether other processes kept the machine busy meanwhile."""
        (busy0, own0), start = cpu_jiffies(self.proc.pid), time.perf_counter()
        seconds = self.ask("run")["seconds"]
        (busy1, own1), wall = cpu_jiffies(self.proc.pid), time.perf_counter() - start
        others = (busy1 - busy0 - (own1 - own0)) / os.sysconf("SC_CLK_TCK") / wall  # cores used by others
        return seconds, others > busy_limit


def write_inputs(name: str, folder: Path, rerank: dict | None, n: int | None) -> tuple[list, np.ndarray | None, int]:
    """Pairs, calibration and guard files for the workers; returns their flags, the labels and max_length.

    STSb models: calibration on 300 STSb train pairs, guard on all 1,500 STSb dev pairs (Spearman). A SciFact
    reranker (`rerank`, from `_bench.scifact_rerank`): calibration on training claims, guard on the first stage's
    candidates for the held-out dev claims (MAP over each claim's candidates)."""
    pairs, labels = load_pairs(name, n)
    if rerank:
        return _write(folder, pairs, rerank["calibration"], rerank["guard"], 256), None, 256
    rng, stsb = np.random.default_rng(0), load("stsb")
    train, dev = stsb["train"], stsb["validation"]
    calibration = [[train["sentence1"][i], train["sentence2"][i]] for i in rng.permutation(len(train))[:300]]
    rows = rng.permutation(len(dev))[:GUARD_PAIRS]  # as many as a trained model's own default guard
    guard = {"pairs": [[dev["sentence1"][i], dev["sentence2"][i]] for i in rows],
             "labels": [dev["label"][i] for i in rows]}  # fmt: skip
    max_length = 128 if name == "stsb" else 256
    return _write(folder, pairs, calibration, guard, max_length), labels, max_length


def _write(folder: Path, pairs, calibration, guard, max_length: int) -> list[str]:
    for file, content in (("pairs", [list(p) for p in pairs]), ("calibration", calibration), ("guard", guard)):
        (folder / f"{file}.json").write_text(json.dumps(content))
    return ["--pairs", str(folder / "pairs.json"), "--calibration", str(folder / "calibration.json"),
            "--guard", str(folder / "guard.json"), "--max_length", str(max_length)]  # fmt: skip


def bench_input(name: str, args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"backends-{name}-"))
    scifact_model = args.scifact_model if name == "scifact" else None
    rerank = scifact_rerank(Path(args.first_stage), args.k) if scifact_model else None
    flags, labels, max_length = write_inputs(name, folder, rerank, args.n)
    model = scifact_model or args.model
    flags += ["--model", model, "--threads", str(args.threads), "--out_dir", str(folder), "--device", args.device,
              "--batch_size", str(args.batch_size)]  # fmt: skip
    if args.guard_tolerance != QUALITY_TOLERANCE:
        flags += ["--quality_tolerance", str(args.guard_tolerance)]
    flags += ["--token_keep", str(args.token_keep)]  # read by the -keep contender only
    workers, contenders = {}, args.contenders or (CONTENDERS if args.device == "cpu" else GPU_CONTENDERS)
    for contender in sorted(contenders, key=lambda c: not c.startswith("xenc-openvino-auto")):
        python = args.peer_python if contender in PEER_VENV else sys.executable
        workers[contender] = Worker(contender, python, flags, folder / f"{contender}.log")
        if contender.startswith("xenc-openvino-auto"):  # its timed probe runs alone, before the others load
            print(f"{contender}: ready ({workers[contender].read()})", flush=True)
    for contender, worker in workers.items():  # the others load at once; timing starts when every one is ready
        if not contender.startswith("xenc-openvino-auto"):
            print(f"{contender}: ready ({worker.read()})", flush=True)
    times, retries = time_rounds(workers, args.rounds, args.busy)
    ranking = rerank["test"] if rerank else None
    scores, ndcg = score_all(workers, folder, ranking, args.k)
    rows = summarize(times, retries, scores, labels, len(json.loads((folder / "pairs.json").read_text())), ndcg)
    title = (f"Scoring backends, {name} ({len(scores[next(iter(scores))])} pairs, max_length {max_length}), batch "
             f"{args.batch_size}, {args.device}, {args.threads} threads, {args.rounds} rotating rounds; model "
             f"{model}; peer: sentence-transformers {peer_version()}")  # fmt: skip
    if any(c in PEER_VENV for c in workers):
        title += f" (its OpenVINO rows: {peer_version(args.peer_python)})"
    if args.guard_tolerance != QUALITY_TOLERANCE:
        title += f"; xenc's guard tolerance {args.guard_tolerance}"
    if any(c.endswith("-keep") for c in workers):
        title += f"; -keep: token_keep={args.token_keep}"
    if ranking:
        title += (f"; NDCG@10: the hybrid's top {args.k} reranked, {len(ranking['qrels'])} test queries; xenc's "
                  f"guard: MAP on the top {args.k} of {len(set(rerank['guard']['qids']))} dev claims")  # fmt: skip
    report(
        f"backends_{name}" + (f"_{args.tag}" if args.tag else ""),
        title,
        markdown_table(rows, COLUMNS),
        {"rows": rows, "times": times},
    )


def peer_version(python: str | None = None) -> str:
    """The peer's version in this process (its torch contenders; xenc never imports it) or in `python`'s venv."""
    from importlib.metadata import PackageNotFoundError, version

    if python:
        ask = "import importlib.metadata as m; print(m.version('sentence-transformers'))"
        done = subprocess.run([python, "-c", ask], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "not installed"
    try:
        return version("sentence-transformers")
    except PackageNotFoundError:
        return "not installed"


def time_rounds(workers: dict, rounds: int, busy: float) -> tuple[dict, dict]:
    """Seconds per pass of every contender over `rounds` rotated rounds, and how many disturbed passes were re-run."""
    times, retries = {c: [] for c in workers}, dict.fromkeys(workers, 0)
    for r in range(rounds):
        for contender in list(workers)[r % len(workers) :] + list(workers)[: r % len(workers)]:
            for _attempt in range(4):
                seconds, disturbed = workers[contender].timed_run(busy)
                if not disturbed:
                    break
                retries[contender] += 1
            times[contender].append(seconds)
        print(f"round {r + 1}: " + ", ".join(f"{c} {times[c][-1]:.2f}s" for c in workers), flush=True)
    return times, retries


def score_all(workers: dict, folder: Path, ranking, k: int) -> tuple[dict, dict]:
    """Every contender's scores of the timed pairs and, with a SciFact ranking, its NDCG@10 on the candidates."""
    scores, ndcg = {}, {}
    if ranking:
        (folder / "candidates.json").write_text(json.dumps(ranking["pairs"]))
    for contender, worker in workers.items():
        path = folder / f"{contender}.scores.json"
        worker.ask(f"scores {path}")
        scores[contender] = np.array(json.loads(path.read_text()))
        if ranking:
            worker.ask(f"scores {path}.candidates {folder / 'candidates.json'}")
            candidate_scores = json.loads(Path(f"{path}.candidates").read_text())
            ndcg[contender] = rerank_ndcg(ranking["ids"], candidate_scores, ranking["run"], ranking["qrels"], k)
        worker.close()
    return scores, ndcg


def summarize(times, retries, scores, labels, n_pairs, ndcg=None) -> list[dict]:
    """One row per contender: median rate, ratio to the peer's torch fp32, score differences and Spearman."""
    reference = scores.get("st-torch-fp32", next(iter(scores.values())))
    base_rate = n_pairs / np.median(times["st-torch-fp32"]) if "st-torch-fp32" in times else None
    base_spearman = sts_metrics(reference, labels)["spearman"] if labels is not None else None
    rows = []
    for contender, seconds in times.items():
        rate = n_pairs / np.median(seconds)
        row = {"name": contender, "rate": rate, "retries": retries[contender],
               "min_max": f"{n_pairs / max(seconds):.1f}-{n_pairs / min(seconds):.1f}",
               "x_peer": rate / base_rate if base_rate else None,
               "max_diff": float(np.abs(scores[contender] - reference).max())}  # fmt: skip
        if labels is not None:
            row["spearman"] = sts_metrics(scores[contender], labels)["spearman"]
            row["delta"] = row["spearman"] - base_spearman
        if ndcg:
            row["ndcg"] = ndcg[contender]
            row["delta"] = ndcg[contender] - ndcg.get("st-torch-fp32", next(iter(ndcg.values())))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/reproduce-stsb/seed-42", help="a trained one-label cross-encoder")
    parser.add_argument("--inputs", nargs="+", choices=("stsb", "scifact"), default=["stsb", "scifact"])
    parser.add_argument(
        "--contenders",
        nargs="+",
        choices=sorted({*CONTENDERS, *GPU_CONTENDERS}),
        help="default: every CPU contender, or the torch ones with --device cuda",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--tag", help="appended to the results' file name (backends_<input>_<tag>)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, help="the first n pairs of each input (smoke runs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--guard_tolerance", type=float, default=QUALITY_TOLERANCE, help="xenc's bf16 / int8 guard")
    parser.add_argument("--token_keep", type=float, default=0.5, help="of the xenc -keep contenders")
    parser.add_argument("--busy", type=float, default=0.25, help="cores other processes may use during a timing")
    parser.add_argument("--peer-python", default=".venv-peer/bin/python")
    parser.add_argument("--scifact-model", help="a SciFact reranker for the scifact input (quality as NDCG@10)")
    parser.add_argument("--first_stage", default="runs/rerank_sweep/first_stage.json", help="rerank_sweep.py's cache")
    parser.add_argument("--k", type=int, default=10, help="candidates reranked per query for the NDCG@10 column")
    args = parser.parse_args()
    for name in args.inputs:
        bench_input(name, args)


if __name__ == "__main__":
    main()
