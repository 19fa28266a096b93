"""Where an OpenVINO model's time goes: per-operation-type times from OpenVINO's own counters for one batch, to tell
whether a speed gap is in the arithmetic every engine must do (the linear layers) or around it.

Usage (from the repository root, nothing else running), on conversions `CrossEncoder(..., backend="openvino")`
cached beside a model (`<model>/openvino/*.xml`; `-first` in a name marks xenc's first-token scorer):
    python benchmarks/ov_profile.py runs/reproduce-stsb-mpnet/seed-42/openvino/<hash>-int8-256-<calib>.xml \
        runs/reproduce-stsb-mpnet/seed-42/openvino/<hash>-first-int8-256-<calib>.xml [--nodes 30]
"""

import argparse
import time
from collections import defaultdict

import numpy as np
import openvino as ov
from _bench import machine


def profile(
    core, path: str, batch: int, length: int, threads: int, repeats: int, extra: dict | None = None
) -> tuple[float, dict, list]:
    """Median wall seconds of one batch, the per-(operation type, kernel) seconds and the per-node (seconds, type,
    name) of the median run."""
    model = core.read_model(path)
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "PERF_COUNT": True, **(extra or {})}
    request = core.compile_model(model, "CPU", config).create_infer_request()
    ids = np.random.default_rng(0).integers(5, 30000, (batch, length)).astype(np.int64)
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    request.infer(inputs)  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        request.infer(inputs)
        wall = time.perf_counter() - start
        ops, nodes = defaultdict(float), []
        for node in request.get_profiling_info():
            ops[f"{node.node_type} ({node.exec_type})"] += node.real_time.total_seconds()
            nodes.append((node.real_time.total_seconds(), node.node_type, node.node_name))
        runs.append((wall, ops, nodes))
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xml", nargs="+", help="OpenVINO models (.xml) to profile")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--top", type=int, default=6, help="operation types listed per model")
    parser.add_argument("--nodes", type=int, default=0, help="also list this many slowest single operations")
    parser.add_argument(
        "--config", nargs="*", default=[], metavar="KEY=VALUE", help="CPU plugin settings, e.g. SNIPPETS_MODE=DISABLE"
    )
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.config)
    print(f"{machine()}; OpenVINO {ov.get_version()}; {args.batch} x {args.length} tokens, medians of {args.repeats}")
    if extra:
        print(f"settings: {extra}")
    core = ov.Core()
    for path in args.xml:
        wall, ops, nodes = profile(core, path, args.batch, args.length, args.threads, args.repeats, extra)
        total = sum(ops.values())
        linear = sum(s for name, s in ops.items() if name.startswith("FullyConnected"))
        print(f"\n{path}: {wall:.3f} s wall, {args.batch / wall:.1f} pairs/s; linear layers {linear:.3f} s "
              f"({100 * linear / total:.0f}% of the counted {total:.3f} s)")  # fmt: skip
        for name, seconds in sorted(ops.items(), key=lambda item: -item[1])[: args.top]:
            print(f"  {seconds:7.3f} s  {100 * seconds / total:5.1f}%  {name}")
        for seconds, kind, name in sorted(nodes, reverse=True)[: args.nodes]:
            print(f"  {1000 * seconds:7.2f} ms  {kind:30s} {name[:100]}")


if __name__ == "__main__":
    main()
