"""Memory of streamed prediction: 10,000 vs 200,000 pairs from a generator, each size in a fresh process.

Usage (from the repository root; about 4 minutes on 2 CPU cores with the default bf16):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/bench_memory.py
    ... bench_memory.py --precision fp32                 # the exact path (about twice as long)
    ... bench_memory.py --sizes 1000 20000               # a quick smoke run

Each child process loads the model (default: runs/reproduce-stsb/seed-42, else minilm-l6 with a one-label head),
scores a few pairs to warm up, then calls `CrossEncoder.predict` on a generator that yields the STSb test pairs
over and over, N in all, and reports resident memory: before `predict`, its peak above that level (sampled every
2 ms), and the process's peak (`ru_maxrss`). `predict` reads a stream `chunk_size` pairs at a time (default
10,000), so the peak must not grow with N: only the (N,) float32 scores do. Writes
benchmarks/results/memory_stream.{md,json}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time

from _bench import TRAINED, PeakMemory, markdown_table, report

COLUMNS = {
    "n": ("pairs", "d"), "rss_before_mib": ("RSS before predict, MiB", ".0f"),
    "peak_above_mib": ("peak above that, MiB", ".0f"), "maxrss_mib": ("process peak RSS, MiB", ".0f"),
    "rate": ("pairs/s", ".0f"),
}  # fmt: skip


def child(args: argparse.Namespace) -> None:
    """Score `args.child` streamed pairs and print one JSON line of memory figures."""
    from xenc import CrossEncoder
    from xenc.data import load

    trained = (TRAINED / "model.safetensors").exists()
    model = CrossEncoder(str(TRAINED) if trained else "minilm-l6", num_labels=None if trained else 1,
                         device="cpu", precision=args.precision)  # fmt: skip
    test = load("stsb")["test"]
    pairs = list(zip(test["sentence1"], test["sentence2"]))
    model.predict(pairs[:64])
    stream = itertools.islice(itertools.cycle(pairs), args.child)
    with PeakMemory() as memory:
        start = time.perf_counter()
        scores = model.predict(stream, batch_size=32, chunk_size=args.chunk_size, show_progress_bar=False)
        seconds = time.perf_counter() - start
    assert scores.shape == (args.child,)
    print(json.dumps({
        "n": args.child, "rss_before_mib": memory._base, "peak_above_mib": memory.peak_mib,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rate": args.child / seconds,
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    rows = []
    for n in args.sizes:
        flags = ["--child", str(n), "--precision", args.precision, "--chunk-size", str(args.chunk_size)]
        out = subprocess.run([sys.executable, __file__, *flags], check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    growth = rows[-1]["peak_above_mib"] - rows[0]["peak_above_mib"]
    title = (f"Streamed predict, STSb test pairs repeated, {args.precision}, batch 32, chunk_size {args.chunk_size}: "
             f"peak growth from {rows[0]['n']} to {rows[-1]['n']} pairs {growth:+.0f} MiB")  # fmt: skip
    report("memory_stream", title, markdown_table(rows, COLUMNS), {"rows": rows, "growth_mib": growth})


if __name__ == "__main__":
    main()
