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


def compiled(model, threads: int):
    """An infer request of `model` on the CPU, with OpenVINO's per-operation counters on."""
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "PERF_COUNT": True}
    return ov.Core().compile_model(model, "CPU", config).create_infer_request()


def int8_linear(d_in: int, d_out: int, rows: int, threads: int):
    """A compiled static-int8 linear layer of `rows` x `d_in` inputs, calibrated on normal activations."""
    model = ov.convert_model(torch.nn.Linear(d_in, d_out).eval(), example_input=torch.randn(rows, d_in))
    data = [np.random.default_rng(i).standard_normal((rows, d_in)).astype(np.float32) for i in range(2)]
    model = nncf.quantize(model, nncf.Dataset(data), model_type=nncf.ModelType.TRANSFORMER, subset_size=2)
    return compiled(model, threads), data[0]


def timed(request, x: np.ndarray, repeats: int, node_type: str) -> tuple[float, float, str]:
    """Median seconds of the whole call and of the `node_type*` operations alone (OpenVINO's counters), and their
    kernels."""
    request.infer([x])  # warm-up
    wall, kernel = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        request.infer([x])
        wall.append(time.perf_counter() - start)
        nodes = [n for n in request.get_profiling_info() if n.node_type.startswith(node_type)]
        kernel.append(sum(n.real_time.total_seconds() for n in nodes))
    return statistics.median(wall), statistics.median(kernel), ", ".join(sorted({n.exec_type for n in nodes}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32 * 256, help="tokens in one batch")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"{machine()}; OpenVINO {ov.get_version()}; {args.rows} rows, medians of {args.repeats}")
    for name, (d_in, d_out) in SHAPES.items():
        wall, product, kernels = timed(
            *int8_linear(d_in, d_out, args.rows, args.threads), args.repeats, "FullyConnected"
        )
        print(
            f"{name:34s} product {1000 * product:7.2f} ms = {args.rows * d_in * d_out / product / 1e9:5.0f} G "
            f"multiply-adds/s ({kernels}); whole call {1000 * wall:7.2f} ms"
        )
    scores = ov.opset13.parameter([32, 12, 256, 256], ov.Type.f32)
    request = compiled(ov.Model([ov.opset13.softmax(scores, -1)], [scores]), args.threads)
    x = np.random.default_rng(0).standard_normal((32, 12, 256, 256)).astype(np.float32)
    print(f"softmax over 32 x 12 x 256 x 256 scores: {1000 * timed(request, x, args.repeats, 'Softmax')[1]:.2f} ms")


if __name__ == "__main__":
    main()
