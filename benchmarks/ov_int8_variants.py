"""Static int8 variants of one model timed side by side in OpenVINO: the whole model (as the peer runs it) against
xenc's first-token scorer, and that scorer with other quantization choices, to tell which choice moves the speed.

Usage (from the repository root, nothing else running; about 5 minutes for `mpnet-base`):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/ov_int8_variants.py \
        runs/rerank_sweep/listwise-mpnet-base [--variants whole first first:performance first:attention_unquantized]

Variants: `whole` (transformers' forward), `first` (`xenc.first_token`, as `CrossEncoder(backend="openvino",
precision="int8")` converts it), `:performance` (nncf's performance preset: symmetric activations),
`:attention_unquantized` (every layer's scaled-dot-product attention but the last's left out of quantization: it
runs in the CPU's default precision). Every variant is calibrated on the same 128 SciFact test pairs and timed on one
batch of 32 other pairs cut at 256 tokens, `--repeats` times in rotated order; prints the medians. Speed only:
quality is bench_backends.py's job.
"""

import argparse
import statistics
import time

import nncf
import openvino as ov
from _bench import machine
from bench_inference import load_pairs

from xenc import CrossEncoder
from xenc.backends import OpenVINOScorer, convert, encode_batches
from xenc.first_token import first_token_scorer


def compiled(net, tokenizer, calibration: list, options: list[str], threads: int):
    """`net` converted, quantized with `options` and compiled; returns the infer request and its input names."""
    model = convert(net, tokenizer)
    extra = {}
    if "performance" in options:
        extra["preset"] = nncf.QuantizationPreset.PERFORMANCE
    if "attention_unquantized" in options:
        extra["ignored_scope"] = nncf.IgnoredScope(types=["ScaledDotProductAttention"])
    model = nncf.quantize(model, nncf.Dataset(calibration), model_type=nncf.ModelType.TRANSFORMER,
                          subset_size=len(calibration), **extra)  # fmt: skip
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
    scorer = OpenVINOScorer(ov.Core().compile_model(model, "CPU", config), "+".join(options))
    return scorer.request, scorer.names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a trained one-output cross-encoder (BERT family or MPNet)")
    variants = ["whole", "first", "first:performance", "first:attention_unquantized"]
    parser.add_argument("--variants", nargs="+", default=variants)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    ce = CrossEncoder(args.model, max_length=256)
    pairs, _ = load_pairs("scifact", None)
    calibration = encode_batches(ce.tokenizer, pairs[200:328], 256)
    batch = encode_batches(ce.tokenizer, pairs[:32], 256, batch_size=32)[0]
    print(f"{machine()}; OpenVINO {ov.get_version()}; batch {tuple(batch['input_ids'].shape)}")
    nets = {"whole": ce.model, "first": first_token_scorer(ce.model)}
    requests = {}
    for variant in args.variants:
        graph, *options = variant.split(":")
        request, names = compiled(nets[graph], ce.tokenizer, calibration, options, args.threads)
        inputs = {name: batch[name] for name in names}
        request.infer(inputs)  # warm-up
        requests[variant] = request, inputs
    seconds = {variant: [] for variant in args.variants}
    for repeat in range(args.repeats):
        shift = repeat % len(args.variants)
        for variant in args.variants[shift:] + args.variants[:shift]:
            request, inputs = requests[variant]
            start = time.perf_counter()
            request.infer(inputs)
            seconds[variant].append(time.perf_counter() - start)
    base = statistics.median(seconds[args.variants[0]])
    for variant in args.variants:
        median = statistics.median(seconds[variant])
        print(f"{variant:22s} {median:.3f} s  {32 / median:5.1f} pairs/s  {base / median:.3f}x {args.variants[0]}")


if __name__ == "__main__":
    main()
