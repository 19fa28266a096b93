"""One scoring backend (a "contender") in its own long-lived process, driven over stdin/stdout by a benchmark.

Usage (from the repository root):
    python benchmarks/backend_worker.py --contender NAME --model MODEL_DIR --pairs PAIRS.json --max_length N \
        [--batch_size 32] [--threads 2] [--device cpu] [--calibration CALIB.json] [--guard GUARD.json] \
        [--out_dir DIR] [--quality_tolerance T] [--token_keep F]

Contenders: st-torch-fp32 / fp16 / bf16, st-openvino-fp32, st-openvino, st-openvino-int8 (sentence-transformers,
the peer) and xenc-torch-fp32 / fp16 / bf16, xenc-openvino-fp32, xenc-openvino-bf16, xenc-openvino-int8, and
xenc-openvino-int8-keep / bf16-keep (with `token_keep=--token_keep`, default 0.5: an approximation beyond int8 or
bf16), xenc-openvino-auto (`precision="auto"`: the fastest path on this CPU whose guard passes). The peer's
OpenVINO contenders need optimum-intel, which pins an older transformers: run them with `.venv-peer/bin/python` (`make
peer-venv`); the others with the main venv. xenc is imported only by the xenc contenders.

PAIRS.json and CALIB.json: JSON lists of [text_a, text_b]. GUARD.json: {"pairs": [...], "labels": [...]} (xenc's
quality guard for bf16/int8; default: the model's own dev pairs). --out_dir: where the peer's int8 model is written
(default: a temporary folder); MODEL_DIR itself is never written by the peer contenders.

Protocol: after loading and one warm-up predict over all pairs the worker prints {"ready": true, "load_s": ...};
then per line on stdin: `run` -> {"seconds": wall seconds of one predict over all pairs}; `scores PATH [PAIRS]` ->
the scores of the pairs (or of the pairs in the JSON file PAIRS) as a JSON list to PATH, then {"saved": PATH};
`quit` -> exit 0. stdout carries only these JSON lines;
logs and progress bars go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)  # the real stdout, kept for the JSON lines
os.dup2(2, 1)  # everything else that writes to stdout (Python or native code) lands on stderr
sys.stdout = sys.stderr

PEER_INT8_FILE = "openvino/openvino_model_qint8_quantized.xml"  # where export_static_quantized_openvino_model saves


def say(**message) -> None:
    PROTOCOL.write(json.dumps(message) + "\n")


def peer_int8(model: str, max_length: int, calibration: list, out_dir: Path, ov_config: dict):
    """The peer's own static int8 path, made offline.

    How the peer calibrates (sentence-transformers 6.2.0 `export_static_quantized_openvino_model` with
    optimum-intel 2.2.0): `OVQuantizer.get_calibration_dataset` calls `datasets.load_dataset(dataset_name,
    name=dataset_config_name, split=dataset_split)` (default: "nyu-mll/glue", "sst2", "train", column "sentence",
    from the Hub), shuffles it (seed 42) and maps `tokenizer(examples[column], padding="max_length",
    max_length=384, truncation=True)` over every row (num_samples is None with the default OVQuantizationConfig,
    so nothing is cut there); the quantizer then feeds the rows one by one (batch 1, seeded RandomSampler) to
    nncf.quantize, whose subset_size is `num_samples or 128`: 128 calibration inputs of 384 tokens each, with
    nncf's "mixed" preset, model_type transformer and fast bias correction.

    Offline: the calibration pairs are written as a local JSON-lines dataset (one column "pair" holding
    [text_a, text_b]) and passed by path with config "default", split "train", column "pair"; the peer's code runs
    unchanged. Its tokenizer call receives a list of [a, b] lists, which transformers encodes as text pairs, so the
    peer calibrates on the same pairs as xenc (as a cross-encoder sees them, instead of single SST-2 sentences),
    still padded to 384 tokens and 128 of them.
    """
    from sentence_transformers import CrossEncoder
    from sentence_transformers.backend import export_static_quantized_openvino_model

    data = out_dir / "calibration"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    with open(data / "train.jsonl", "w") as f:
        f.writelines(json.dumps({"pair": list(pair)}) + "\n" for pair in calibration)
    folder = out_dir / "st-openvino-int8"  # the peer's recipe: save the exported model, quantize into it, load it
    shutil.rmtree(folder, ignore_errors=True)
    CrossEncoder(model, max_length=max_length, backend="openvino").save_pretrained(str(folder))
    export_static_quantized_openvino_model(
        CrossEncoder(str(folder), max_length=max_length, backend="openvino"),
        quantization_config=None,
        model_name_or_path=str(folder),
        dataset_name=str(data),
        dataset_config_name="default",
        dataset_split="train",
        column_name="pair",
    )
    kwargs = {"file_name": PEER_INT8_FILE, "ov_config": ov_config}
    return CrossEncoder(str(folder), max_length=max_length, backend="openvino", model_kwargs=kwargs)


def load_contender(args, out_dir: Path):
    calibration = json.loads(Path(args.calibration).read_text()) if args.calibration else None
    name = args.contender
    if name.startswith("st-"):
        from sentence_transformers import CrossEncoder

        if name.startswith("st-torch-"):  # low precision as the peer's docs show it: the weights loaded in that dtype
            dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[name.rsplit("-", 1)[1]]
            kwargs = {"dtype": dtype}
            return CrossEncoder(args.model, max_length=args.max_length, device=args.device, model_kwargs=kwargs)
        ov_config = {"INFERENCE_NUM_THREADS": args.threads}  # passed to OpenVINO's compile_model as is
        if name == "st-openvino-fp32":
            ov_config["INFERENCE_PRECISION_HINT"] = "f32"
        elif name == "st-openvino-int8":
            if calibration is None:
                sys.exit("st-openvino-int8 needs --calibration (its default, GLUE SST-2, is on the Hub)")
            return peer_int8(args.model, args.max_length, calibration, out_dir, ov_config)
        # exported from the local checkpoint into a temporary folder (MODEL_DIR has no openvino_model.xml)
        kwargs = {"ov_config": ov_config}
        return CrossEncoder(args.model, max_length=args.max_length, backend="openvino", model_kwargs=kwargs)
    import xenc

    _, backend, precision, *keep = name.split("-")
    if backend == "torch":
        return xenc.CrossEncoder(args.model, max_length=args.max_length, precision=precision, device=args.device)
    guard = None
    if args.guard:
        raw = json.loads(Path(args.guard).read_text())
        guard = ([tuple(p) for p in raw["pairs"]], np.asarray(raw["labels"]))
    return xenc.CrossEncoder(
        args.model, max_length=args.max_length, backend="openvino", precision=precision,
        calibration_pairs=calibration, guard_pairs=guard, token_keep=args.token_keep if keep else 1.0,
        **({} if args.quality_tolerance is None else {"quality_tolerance": args.quality_tolerance}),
    )  # fmt: skip


XENC = [f"xenc-{b}-{p}" for b, ps in (("torch", ("fp32", "fp16", "bf16")), ("openvino", ("fp32", "bf16", "int8")))
        for p in ps]  # fmt: skip
CONTENDERS = ["st-torch-fp32", "st-torch-fp16", "st-torch-bf16", "st-openvino-fp32", "st-openvino", "st-openvino-int8",
              *XENC, "xenc-openvino-int8-keep", "xenc-openvino-bf16-keep", "xenc-openvino-auto",
              "xenc-openvino-auto-keep"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contender", required=True, choices=CONTENDERS)
    parser.add_argument("--model", required=True)
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--max_length", type=int, required=True)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the torch contenders)")
    parser.add_argument("--calibration")
    parser.add_argument("--guard")
    parser.add_argument("--quality_tolerance", type=float, help="xenc's guard (default: CrossEncoder's)")
    parser.add_argument("--token_keep", type=float, default=0.5, help="of the xenc-...-keep contender")
    parser.add_argument("--out_dir")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = [list(pair) for pair in json.loads(Path(args.pairs).read_text())]
    with tempfile.TemporaryDirectory(prefix="backend_worker-") as tmp:
        out_dir = Path(args.out_dir or tmp)
        start = time.perf_counter()
        model = load_contender(args, out_dir)

        def predict(which=pairs):
            return model.predict(which, batch_size=args.batch_size, show_progress_bar=False)

        predict()  # warm-up (xenc's bf16 / OpenVINO paths also build and check their fast model here)
        say(ready=True, load_s=round(time.perf_counter() - start, 3))
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "run":
                start = time.perf_counter()
                predict()
                say(seconds=time.perf_counter() - start)
            elif command == "scores":  # `scores OUT [PAIRS]`: other pairs than the timed ones, when given
                out, _, other = arg.partition(" ")
                which = [list(pair) for pair in json.loads(Path(other).read_text())] if other else pairs
                Path(out).write_text(json.dumps(np.asarray(predict(which), dtype=np.float64).tolist()))
                say(saved=out)
            elif command == "quit":
                break
            elif command:
                say(error=f"unknown command {command!r}; use run, scores PATH or quit")


if __name__ == "__main__":
    main()
