"""ONNX Runtime static int8 against OpenVINO int8 for one trained MPNet cross-encoder, batch 32 x 256 tokens on CPU:
are ONNX Runtime's int8 kernels faster than OpenVINO's on this CPU?

Usage (from the repository root, in its own environment, nothing else running; the first run exports and
quantizes into --cache, several minutes, later runs reuse it):
    python3 -m venv /tmp/ortvenv
    /tmp/ortvenv/bin/pip install torch==2.13.0 transformers onnx onnxruntime onnxscript numpy openvino nncf
    HF_HUB_OFFLINE=1 /tmp/ortvenv/bin/python benchmarks/ort_int8_check.py [--threads 2] [--repeats 5] \
        [--model runs/reproduce-stsb-mpnet/seed-42] [--ov_xml <model>/openvino/<hash>-int8-256-<calib>.xml] \
        [--per_tensor] [--smooth_quant 0.95] [--ov_f32_too] [--cache /tmp/ort_int8_check]

The full model (input_ids, attention_mask -> logits, dynamic batch and sequence) is exported to ONNX (torch.onnx's
dynamo exporter; the TorchScript one as fallback), smoothed (SmoothQuant, alpha 0.95 as nncf's transformer preset:
without it the LayerNorm outputs' outlier channels wreck uint8 activations), prepared with `quant_pre_process` and
quantized with `quantize_static`: QDQ, the inputs of MatMul/Gemm only (outputs left in float, as nncf leaves them),
uint8 asymmetric activations and int8 symmetric per-channel weights, reduce_range off (ORT's advice for x86 with
VNNI), MinMax ranges; smoothing and ranges from 64 SciFact train claim + abstract pairs in batches of 8 cut at 256
tokens. Then one forward each of a fixed batch (random ids, full mask), alternating between contenders, `--repeats`
times after a warm-up: ORT fp32, ORT int8, OpenVINO int8 (the xml xenc made, nncf-calibrated on 300 STSb train pairs,
compiled as xenc compiles it, so its other operations run in the CPU's default precision, printed; `--ov_f32_too`
adds it again with them in f32). Last, the logits' largest gap to ORT fp32 on 32 SciFact test pairs cut at 256 tokens.
"""

import argparse
import csv
import gzip
import hashlib
import json
import statistics
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import openvino as ov
import torch
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    calibrate,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from transformers import AutoModelForSequenceClassification, AutoTokenizer

SCIFACT = Path("/work/shared/data/scifact")
MODEL = "runs/reproduce-stsb-mpnet/seed-42"
NAMES = ["input_ids", "attention_mask"]


def scifact_pairs(split: str, n: int) -> list[tuple[str, str]]:
    """The first n (claim, title + abstract) pairs of a SciFact qrels split."""
    claims = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt") as f:
        docs = {d["_id"]: f"{d['title']} {d['text']}".strip() for d in map(json.loads, f)}
    rows = list(csv.DictReader((SCIFACT / "qrels" / f"{split}.tsv").open(), delimiter="\t"))[:n]
    return [(claims[r["query-id"]], docs[r["corpus-id"]]) for r in rows]


def encode(tokenizer, pairs, max_length: int = 256) -> dict:
    a, b = zip(*pairs)
    enc = tokenizer(list(a), list(b), truncation=True, max_length=max_length, padding=True, return_tensors="np")
    return {k: enc[k].astype(np.int64) for k in NAMES}


def export(model, tokenizer, path: Path) -> str:
    """The full model as ONNX with dynamic batch and sequence axes; returns the exporter that worked."""
    enc = tokenizer(
        ["a claim", "another claim"], ["an abstract, longer than the claim", "b"], padding=True, return_tensors="pt"
    )
    kwargs = {k: enc[k] for k in NAMES}
    common = {"kwargs": kwargs, "input_names": NAMES, "output_names": ["logits"]}
    try:
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
        shapes = {k: {0: batch, 1: seq} for k in NAMES}
        torch.onnx.export(model, (), path, **common, dynamic_shapes=shapes, dynamo=True, external_data=False)
        return "dynamo"
    except Exception as err:  # noqa: BLE001 - any exporter failure: try the other one
        print(f"dynamo export failed ({type(err).__name__}: {err}); trying dynamo=False")
        axes = {k: {0: "batch", 1: "sequence"} for k in NAMES} | {"logits": {0: "batch"}}
        torch.onnx.export(model, (), path, **common, dynamic_axes=axes, dynamo=False, opset_version=17)
        return "torchscript"


class Batches(CalibrationDataReader):
    def __init__(self, batches):
        self.batches = iter(batches)

    def get_next(self):
        return next(self.batches, None)


def session_options(threads: int, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads, options.graph_optimization_level = threads, 1, level
    return options


def smooth(fp32: Path, out: Path, batches: list, alpha: float, threads: int) -> None:
    """SmoothQuant as nncf's transformer preset applies it: for the input x of the linear layers (MatMul on a constant
    weight w), per channel j, s_j = max|x_j|^alpha / max|w_j|^(1 - alpha) over the calibration batches; x is divided by
    s (a Mul node, as nncf's), the weight rows multiplied by s. Tames the outlier channels of the LayerNorm outputs."""
    model = onnx.load(fp32)
    weights = {i.name: i for i in model.graph.initializer}
    groups = {}  # linear-layer input -> the MatMul nodes that read it
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            groups.setdefault(node.input[0], []).append(node)
    probe = onnx.load(fp32)
    probe.graph.output.extend(onnx.helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, None) for x in groups)
    session = ort.InferenceSession(
        probe.SerializeToString(), session_options(threads), providers=["CPUExecutionProvider"]
    )
    xmax = dict.fromkeys(groups, 0.0)
    for batch in batches:
        for x, value in zip(groups, session.run(list(groups), batch)):
            xmax[x] = np.maximum(xmax[x], np.abs(value).reshape(-1, value.shape[-1]).max(0))
    muls = {}
    for x, nodes in groups.items():
        ws = [onnx.numpy_helper.to_array(weights[node.input[1]]) for node in nodes]
        wmax = np.max([np.abs(w).max(1) for w in ws], 0)
        s = np.maximum(xmax[x], 1e-5) ** alpha / np.maximum(wmax, 1e-5) ** (1 - alpha)
        for node, w in zip(nodes, ws):
            weights[node.input[1]].CopyFrom(
                onnx.numpy_helper.from_array((w * s[:, None]).astype(np.float32), node.input[1])
            )
            node.input[0] = f"{x}_smoothed"
        model.graph.initializer.append(onnx.numpy_helper.from_array((1 / s).astype(np.float32), f"{x}_smoothing"))
        muls[f"{x}_smoothed"] = onnx.helper.make_node(
            "Mul", [x, f"{x}_smoothing"], [f"{x}_smoothed"], name=f"{x}_smoothing"
        )
    nodes = []
    for node in model.graph.node:  # each Mul just before the first node that reads its output
        nodes += [muls.pop(name) for name in node.input if name in muls]
        nodes.append(node)
    model.graph.ClearField("node")
    model.graph.node.extend(nodes)
    onnx.save(model, out)


def quantize(fp32: Path, out: Path, batches: list, per_channel: bool, alpha: float, threads: int) -> None:
    def calibration_session(self):  # ORT's calibration session, on --threads threads instead of every core
        options = session_options(threads, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        self.infer_session = ort.InferenceSession(
            self.augmented_model_path, options, providers=self.execution_providers
        )

    calibrate.CalibraterBase.create_inference_session = calibration_session
    source = fp32
    if alpha > 0:
        source = out.with_name(f"fp32-smoothquant{alpha}.onnx")
        smooth(fp32, source, batches, alpha, threads)
    prepared = source.with_name(f"{source.stem}-preprocessed.onnx")
    try:
        quant_pre_process(str(source), str(prepared))
    except Exception as err:  # noqa: BLE001
        print(f"quant_pre_process failed ({type(err).__name__}: {err}); quantizing the model as it is")
        prepared = source
    linear = ["MatMul", "Gemm"]
    quantize_static(
        str(prepared), str(out), Batches(batches), quant_format=QuantFormat.QDQ, op_types_to_quantize=linear,
        per_channel=per_channel, reduce_range=False, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"OpTypesToExcludeOutputQuantization": linear},  # outputs left in float, as nncf leaves them
    )  # fmt: skip


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text()
    name = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
    flags = set(next(line for line in info.splitlines() if line.startswith("flags")).split())
    has = ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in ("avx512_vnni", "avx512_bf16", "amx_int8"))
    cpus = sum(line.startswith("processor") for line in info.splitlines())
    return f"{name}, {cpus} CPUs ({has}); onnxruntime {ort.__version__}, openvino {ov.get_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--ov_xml", default=f"{MODEL}/openvino/f5eccd088d306cc2-int8-256-b90c36e5.xml")
    parser.add_argument("--cache", default="/tmp/ort_int8_check")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--per_tensor", action="store_true", help="per-tensor int8 weights (default per-channel)")
    parser.add_argument("--smooth_quant", type=float, default=0.95, help="SmoothQuant alpha (nncf's); 0: none")
    parser.add_argument("--ov_f32_too", action="store_true", help="also OpenVINO int8 with its other ops in f32")
    args = parser.parse_args()
    print(machine())
    torch.set_num_threads(args.threads)
    weights = Path(args.model) / "model.safetensors"
    key = hashlib.sha256(f"{weights.resolve()} {weights.stat().st_size} {weights.stat().st_mtime_ns}".encode())
    cache = Path(args.cache) / key.hexdigest()[:12]
    cache.mkdir(parents=True, exist_ok=True)
    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    name = f"int8-qdq-u8s8-per{'tensor' if args.per_tensor else 'channel'}-sq{args.smooth_quant}.onnx"
    fp32, int8 = cache / "fp32.onnx", cache / name
    if not fp32.exists():
        start = time.perf_counter()
        exporter = export(model, tokenizer, fp32)
        print(f"exported {fp32} with the {exporter} exporter in {time.perf_counter() - start:.0f} s")
    if not int8.exists():
        pairs = scifact_pairs("train", 64)
        batches = [encode(tokenizer, pairs[i : i + 8]) for i in range(0, len(pairs), 8)]
        start = time.perf_counter()
        quantize(fp32, int8, batches, not args.per_tensor, args.smooth_quant, args.threads)
        print(f"quantized {int8} in {time.perf_counter() - start:.0f} s")

    options, core, runs = session_options(args.threads), ov.Core(), {}
    for name, path in [("ORT fp32", fp32), ("ORT int8 (static, QDQ)", int8)]:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        runs[name] = lambda x, s=session: s.run(["logits"], x)[0]
    f32_too = {"OpenVINO int8 (f32 rest)": {"INFERENCE_PRECISION_HINT": "f32"}} if args.ov_f32_too else {}
    for name, extra in ({"OpenVINO int8": {}} | f32_too).items():
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": args.threads} | extra
        compiled = core.compile_model(core.read_model(args.ov_xml), "CPU", config)
        print(f"{name}: other operations in {compiled.get_property('INFERENCE_PRECISION_HINT')}")
        request = compiled.create_infer_request()
        runs[name] = lambda x, r=request: np.array(r.infer(x)[0])

    ids = np.random.default_rng(0).integers(5, 30000, (args.batch, args.length)).astype(np.int64)
    fixed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    times = {name: [] for name in runs}
    for run in runs.values():
        run(fixed)  # warm-up
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run(fixed)
            times[name].append(time.perf_counter() - start)
    print(
        f"\nbatch {args.batch} x {args.length} tokens, {args.threads} threads, medians of {args.repeats} alternating:"
    )
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:28s} {median:7.3f} s  {args.batch / median:6.1f} pairs/s  (min {min(seconds):.3f} s)")

    real = encode(tokenizer, scifact_pairs("test", 32))
    with torch.no_grad():
        reference = model(**{k: torch.from_numpy(v) for k, v in real.items()}).logits.numpy()
    logits = {name: run(real) for name, run in runs.items()}
    fp32_logits = logits["ORT fp32"]
    print(f"\nlogits on 32 SciFact test pairs ({'x'.join(map(str, real['input_ids'].shape))} tokens; ORT fp32 ones "
          f"from {fp32_logits.min():.2f} to {fp32_logits.max():.2f}), largest |difference| to ORT fp32:")  # fmt: skip
    print(f"  {'torch fp32 (export check)':28s} {np.abs(reference - logits['ORT fp32']).max():.5f}")
    for name in list(runs)[1:]:
        print(f"  {name:28s} {np.abs(logits[name] - logits['ORT fp32']).max():.5f}")


if __name__ == "__main__":
    main()
