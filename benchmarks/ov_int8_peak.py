"""The int8 matrix-product rate OpenVINO attains on this CPU: single static-int8 linear layers (nncf, as
`CrossEncoder(precision="int8")` quantizes) at `mpnet-base`'s shapes for one batch of 32 x 256 tokens and at a large
square shape, in multiply-adds per second of the product alone (OpenVINO's own counter: the call also copies the
fp32 input in and the output out). Set beside `ov_profile.py`'s per-layer times, it tells whether a model's
linear layers already run at the rate this machine's int8 kernels reach. Last, a softmax over one layer's attention
scores (32 x 12 heads x 256 x 256), the pass attention makes besides its two products.

Usage (from the repository root, nothing else running; about a minute):
    python benchmarks/ov_int8_peak.py [--rows 8192] [--repeats 7]
"""

import argparse
import statistics
import time

import nncf
import numpy as np
import openvino as ov
import torch
from _bench import machine

SHAPES = {
    "768 -> 3072 (feed-forward in)": (768, 3072),
    "3072 -> 768 (feed-forward out)": (3072, 768),
    "768 -> 768 (attention projection)": (768, 768),
    "4096 -> 4096 (large square)": (4096, 4096),
}


def int8_linear(d_in: int, d_out: int, rows: int, threads: int):
    """A compiled static-int8 linear layer of `rows` x `d_in` inputs, calibrated on normal activations."""
    layer = torch.nn.Linear(d_in, d_out).eval()
    example = torch.randn(rows, d_in)
    model = ov.convert_model(layer, example_input=example)
    data = [np.random.default_rng(i).standard_normal((rows, d_in)).astype(np.float32) for i in range(2)]
    model = nncf.quantize(model, nncf.Dataset(data), model_type=nncf.ModelType.TRANSFORMER, subset_size=2)
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "PERF_COUNT": True}
    return ov.Core().compile_model(model, "CPU", config).create_infer_request(), data[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32 * 256, help="tokens in one batch")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"{machine()}; OpenVINO {ov.get_version()}; {args.rows} rows, medians of {args.repeats}")
    for name, (d_in, d_out) in SHAPES.items():
        request, x = int8_linear(d_in, d_out, args.rows, args.threads)
        request.infer([x])  # warm-up
        wall, kernel = [], []  # the call, and the product alone (OpenVINO's counter for the FullyConnected node)
        for _ in range(args.repeats):
            start = time.perf_counter()
            request.infer([x])
            wall.append(time.perf_counter() - start)
            nodes = [n for n in request.get_profiling_info() if n.node_type.startswith("FullyConnected")]
            kernel.append(sum(n.real_time.total_seconds() for n in nodes))
        macs, product = args.rows * d_in * d_out, statistics.median(kernel)
        print(
            f"{name:34s} product {1000 * product:7.2f} ms = {macs / product / 1e9:5.0f} G multiply-adds/s "
            f"({', '.join(sorted({n.exec_type for n in nodes}))}); whole call {1000 * statistics.median(wall):7.2f} ms"
        )

    scores = ov.opset13.parameter([32, 12, 256, 256], ov.Type.f32)
    softmax = ov.Model([ov.opset13.softmax(scores, -1)], [scores])
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": args.threads, "PERF_COUNT": True}
    request = ov.Core().compile_model(softmax, "CPU", config).create_infer_request()
    x = np.random.default_rng(0).standard_normal((32, 12, 256, 256)).astype(np.float32)
    request.infer([x])  # warm-up
    kernel = []
    for _ in range(args.repeats):
        request.infer([x])
        nodes = [n for n in request.get_profiling_info() if n.node_type == "Softmax"]
        kernel.append(sum(n.real_time.total_seconds() for n in nodes))
    print(f"softmax over 32 x 12 x 256 x 256 scores: {1000 * statistics.median(kernel):.2f} ms")


if __name__ == "__main__":
    main()
