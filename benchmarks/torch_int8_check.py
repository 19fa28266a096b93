"""torch's own static int8 (PT2E quantization with torchao's X86InductorQuantizer, compiled by inductor into oneDNN
int8 kernels) against OpenVINO's int8, on the same first-token scorer and the same batch, side by side: the int8
path a torch user would reach for before another runtime.

Usage (from the repository root, nothing else running; torchao is not a dependency of xenc, so it goes into a folder
of its own: `pip install --target /tmp/ao torchao==0.18.0 --no-deps`):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 PYTHONPATH=/tmp/ao python benchmarks/torch_int8_check.py \
        runs/rerank_sweep/listwise-mpnet-base [--repeats 7]

Both are calibrated on SciFact pairs 200-400 (OpenVINO on the first 128, as xenc's int8 conversion takes them; torch
on up to 4 full-length batches of 32 from them, its one static shape) and timed on one batch of 32 other pairs cut at
256 tokens, in rotated order; prints the medians and each int8 path's largest score difference from torch fp32 on
that batch.
"""

import argparse
import statistics
import time

import numpy as np
import openvino as ov
import torch
from _bench import machine
from bench_inference import load_pairs
from ov_int8_variants import compiled
from torchao.quantization.pt2e import move_exported_model_to_eval
from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq

from xenc import CrossEncoder
from xenc.backends import encode_batches
from xenc.first_token import first_token_scorer


def torch_int8(net, calibration: list[dict], example: dict):
    """`net` exported at `example`'s shapes, its linear layers quantized statically (per-channel int8 weights, uint8
    activations), calibrated and compiled by inductor with frozen weights."""
    names = list(example)
    exported = torch.export.export(net, tuple(torch.from_numpy(example[n]) for n in names)).module()
    # the linear layers only: the default global config also observes MPNet's integer position arithmetic, where
    # its histogram observer fails ("histogram_cpu" not implemented for 'Int')
    config = xiq.get_default_x86_inductor_quantization_config()
    quantizer = xiq.X86InductorQuantizer().set_module_type_qconfig(torch.nn.Linear, config)
    prepared = prepare_pt2e(exported, quantizer)
    for batch in calibration:
        prepared(*(torch.from_numpy(batch[n]) for n in names))
    converted = convert_pt2e(prepared)
    move_exported_model_to_eval(converted)
    torch._inductor.config.freezing = True
    fast = torch.compile(converted)
    return lambda inputs: fast(*(torch.from_numpy(inputs[n]) for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a trained one-output cross-encoder (BERT family or MPNet)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ce = CrossEncoder(args.model, max_length=256)
    pairs, _ = load_pairs("scifact", None)
    net = first_token_scorer(ce.model).eval()
    batch = encode_batches(ce.tokenizer, pairs[:32], 256, batch_size=32)[0]
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in batch]
    # torch int8 runs at one static shape: calibrate on full-length batches of it
    calibration = [
        b
        for b in encode_batches(ce.tokenizer, pairs[200:400], 256, batch_size=32)
        if b["input_ids"].shape == batch["input_ids"].shape
    ][:4]
    if not calibration:
        raise SystemExit("No batch of SciFact pairs 200-400 has the timed batch's shape: nothing to calibrate on.")
    print(f"{machine()}; OpenVINO {ov.get_version()}; batch {batch['input_ids'].shape}")
    with torch.no_grad():
        reference = net(*(torch.from_numpy(batch[n]) for n in names)).float().numpy()
        # xenc's int8 conversion: calibrated on pairs encoded as predict encodes them
        request, ov_names = compiled(
            net, ce.tokenizer, encode_batches(ce.tokenizer, pairs[200:328], 256), [], args.threads
        )
        ov_inputs = {n: batch[n] for n in ov_names}
        start = time.perf_counter()
        run_torch = torch_int8(net, [{n: b[n] for n in names} for b in calibration], {n: batch[n] for n in names})
        run_torch(batch)  # compiles
        print(f"torch int8: exported, calibrated and compiled in {time.perf_counter() - start:.0f} s")
        paths = {
            "OpenVINO int8": lambda: request.infer(ov_inputs)[0],
            "torch int8 (inductor)": lambda: run_torch(batch).float().numpy(),
        }
        for name, run in paths.items():
            print(f"{name}: max |score - torch fp32| {np.abs(np.asarray(run()) - reference).max():.4f}")
        seconds = {name: [] for name in paths}
        for repeat in range(args.repeats):
            order = list(paths)[repeat % 2 :] + list(paths)[: repeat % 2]
            for name in order:
                start = time.perf_counter()
                paths[name]()
                seconds[name].append(time.perf_counter() - start)
    base = statistics.median(seconds["OpenVINO int8"])
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:24s} {median:.3f} s  {32 / median:5.1f} pairs/s  {base / median:.3f}x OpenVINO int8")


if __name__ == "__main__":
    main()
