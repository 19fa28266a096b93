"""What else a user could reach for on an Intel Xeon with AMX to score long pairs faster than xenc's OpenVINO int8:
batching, OpenVINO streams, another attention-bias layout, bf16, torch eager and inductor; and where int8's time goes.

Usage (from the repository root, nothing else running; MODEL: `xenc reproduce stsb-mpnet --seeds 42`):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/amx_alternatives.py \
        runs/reproduce-stsb-mpnet/seed-42

Every contender scores the same 64 SciFact@256 test pairs (every pair cut at 256 tokens), 2 threads, in rounds of
rotated order; the int8 models calibrate on 300 STSb train pairs, as `bench_backends.py` does. Writes
results/amx_alternatives_<tag>.{md,json}. About 10 minutes for `mpnet-base`.
"""

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
import openvino as ov
import torch
from _bench import load_pairs, markdown_table, report
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from xenc import first_token as ft
from xenc.backends import convert, quantize
from xenc.data import load


class SplitBias(ft.MPNetFirstTokenScorer):
    """xenc's MPNet scorer with the position bias (1, heads, L, L) and the padding mask (batch, 1, 1, L) added in
    every layer instead of once into one (batch, heads, L, L) bias (less memory read, if OpenVINO fuses the add)."""

    def forward(self, input_ids, attention_mask):
        mpnet, layers = self.model.mpnet, self.model.mpnet.encoder.layer
        hidden = mpnet.embeddings(input_ids=input_ids)
        position = mpnet.encoder.compute_position_bias(hidden[:1]).to(hidden.dtype)
        mask = ft.additive_mask(attention_mask, hidden.dtype)
        for i, layer in enumerate(layers):
            att, last = layer.attention.attn, i == len(layers) - 1
            scale = att.attention_head_size**-0.5
            queries = hidden[:, :1] if last else hidden
            attend = ft.attend_first if last else ft.attend
            bias = position[:, :, :1] + mask if last else position + mask
            context = attend(att.q, att.k, att.v, hidden, att.num_attention_heads, bias, scale)
            hidden = layer.attention.LayerNorm(layer.attention.dropout(att.o(context)) + queries)
            hidden = layer.output(layer.intermediate(hidden), hidden)
        return self.model.classifier(hidden)


def openvino_runner(compiled, batches: list[dict], streams: int = 1):
    """A pass over `batches`: one request at a time, or `streams` requests in flight."""
    if streams == 1:
        request = compiled.create_infer_request()
        return lambda: [request.infer(b) for b in batches]
    queue = ov.AsyncInferQueue(compiled, streams)
    return lambda: ([queue.start_async(b) for b in batches], queue.wait_all())


def contenders(path: str, pairs: list, calibration: list) -> tuple[dict, object]:
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    core, latency = ov.Core(), {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 2}
    streams = {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2}
    graph, split = convert(ft.first_token_scorer(model), tokenizer), convert(SplitBias(model), tokenizer)
    int8 = quantize(graph, tokenizer, calibration, 256)
    enc = tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=256, padding=True)
    np_batches = [{k: np.asarray(v[s : s + n]) for k, v in enc.items()} for n in (32, 16) for s in range(0, 64, n)]
    b32, b16 = np_batches[:2], np_batches[2:]
    profiled = core.compile_model(int8, "CPU", {**latency, "PERF_COUNT": True})
    runs = {
        "OpenVINO int8, batch 32 (xenc's path)": openvino_runner(core.compile_model(int8, "CPU", latency), b32),
        "OpenVINO int8, batch 16": openvino_runner(core.compile_model(int8, "CPU", latency), b16),
        "OpenVINO int8, 2 streams of 1 thread, batch 16": openvino_runner(
            core.compile_model(int8, "CPU", streams), b16, 2
        ),
        "OpenVINO int8, bias added in every layer": openvino_runner(
            core.compile_model(quantize(split, tokenizer, calibration, 256), "CPU", latency), b32
        ),
        "OpenVINO bf16": openvino_runner(
            core.compile_model(graph, "CPU", {**latency, "INFERENCE_PRECISION_HINT": "bf16"}), b32
        ),
    }
    scorer = ft.first_token_scorer(model).to(torch.bfloat16)
    torch_batches = [{k: torch.from_numpy(v) for k, v in b.items()} for b in b32]
    compiled = torch.compile(scorer)
    for name, net in (("torch bf16, eager", scorer), ("torch bf16, inductor (torch.compile)", compiled)):
        runs[name] = lambda net=net: [net(**b) for b in torch_batches]
    return runs, (profiled, b32[0])


def op_times(compiled, batch: dict, repeats: int = 3) -> list[dict]:
    """Seconds per (operation type, kernel) of one batch, from OpenVINO's counters (the median pass)."""
    request, passes = compiled.create_infer_request(), []
    for _ in range(repeats + 1):
        request.infer(batch)
        ops = defaultdict(float)
        for node in request.get_profiling_info():
            ops[f"{node.node_type} ({node.exec_type})"] += node.real_time.total_seconds()
        passes.append(ops)
    ops = sorted(passes[1:], key=lambda o: sum(o.values()))[repeats // 2]
    total = sum(ops.values())
    top = sorted(ops.items(), key=lambda item: -item[1])[:8]
    return [{"name": name, "ms": 1000 * s, "share": 100 * s / total} for name, s in top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="an mpnet-base (or MiniLM) one-label cross-encoder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tag", default="mpnet")
    args = parser.parse_args()
    torch.set_num_threads(2)
    train = load("stsb", split="train")
    calibration = [[a, b] for a, b in zip(train["sentence1"][:300], train["sentence2"][:300])]
    runs, (profiled, batch) = contenders(args.model, load_pairs("scifact", 64)[0], calibration)
    times = defaultdict(list)
    with torch.inference_mode():
        for run in runs.values():
            run()  # warm-up (inductor compiles here)
        for r in range(args.rounds):
            for name in list(runs)[r % len(runs) :] + list(runs)[: r % len(runs)]:
                start = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - start)
    base = 64 / statistics.median(times[next(iter(runs))])
    rows = [{"name": n, "rate": 64 / statistics.median(t), "x": 64 / statistics.median(t) / base,
             "min_max": f"{64 / max(t):.1f}-{64 / min(t):.1f}"} for n, t in times.items()]  # fmt: skip
    table = markdown_table(rows, {"name": ("contender", "s"), "rate": ("pairs/s (median)", ".1f"),
                                  "min_max": ("min-max", "s"), "x": ("x xenc's path", ".2f")})  # fmt: skip
    ops = op_times(profiled, batch)
    table += "\n\nWhere OpenVINO int8's time goes (one batch of 32 x 256, its own counters):\n\n" + markdown_table(
        ops, {"name": ("operation (kernel)", "s"), "ms": ("ms", ".1f"), "share": ("% of counted", ".1f")}
    )
    title = f"Alternatives on long pairs, {args.model}, 64 SciFact@256 pairs, 2 threads, {args.rounds} rotated rounds"
    report(f"amx_alternatives_{args.tag}", title, table, {"rows": rows, "ops": ops})


if __name__ == "__main__":
    main()
