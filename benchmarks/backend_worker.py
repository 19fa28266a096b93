"""One scoring backend (a "contender") in its own long-lived process, driven over stdin/stdout by bench_backends.py.

Usage (from the repository root): python benchmarks/backend_worker.py --contender NAME --model DIR --pairs PAIRS.json
--max_length N [options: --help]. The peer's OpenVINO contenders need optimum-intel, which pins an older transformers:
they run under `.venv-peer/bin/python` (`make peer-venv`); xenc is imported only by the xenc contenders. PAIRS.json
and --calibration: JSON lists of [text_a, text_b]; --guard: {"pairs": [...], "labels": [...]}, and "qids" for a
reranker.

Protocol: after loading and one warm-up pass the worker prints {"ready": true, "load_s": ...}; then, per line on
stdin: `run` -> {"seconds": one predict over all pairs}; `scores PATH [PAIRS]` -> the scores of the pairs (or of
those in the file PAIRS) written to PATH as a JSON list, then {"saved": PATH}; `quit` -> exit. stdout carries only
these JSON lines; logs go to stderr.
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
    """The peer's own static int8 path (`export_static_quantized_openvino_model`, its code unchanged), calibrated
    offline on `calibration` pairs given as a local JSON-lines dataset instead of GLUE SST-2 from the Hub; how the
    peer calibrates: benchmarks/README.md, "What do bf16 and int8 cost?"."""
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
        guard += (np.asarray(raw["qids"]),) if "qids" in raw else ()  # a reranker: MAP over each query's candidates
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
    parser.add_argument("--calibration", help="int8: a JSON list of [text_a, text_b] to calibrate on")
    parser.add_argument("--guard", help='xenc: {"pairs": [...], "labels": [...]} (default: its own dev pairs)')
    parser.add_argument("--quality_tolerance", type=float, help="xenc's guard (default: CrossEncoder's)")
    parser.add_argument("--token_keep", type=float, default=0.5, help="of the xenc-...-keep contender")
    parser.add_argument("--out_dir", help="where the peer's int8 model is written (default: a temporary folder)")
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
