"""OpenVINO scoring for `CrossEncoder`: fp32 (exact), bf16, int8 calibrated on pairs, and fewer tokens in the last
layers (`token_keep`), every approximation behind a quality guard.

The converted model is cached beside a local model folder (`<folder>/openvino/`; xenc's cache for Hub, installed or
read-only models), keyed by a hash of the weights, the precision, token_keep, max_length and the calibration pairs,
so a changed model is converted again; the fp32 weights are never replaced. Each conversion is saved with the
SHA-256 of its files and verified before use: a changed or cut-short one is converted again, with a warning.
Needs `pip install "xenc[fast]"`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from .first_token import SCORER_VERSION, first_token_scorer
from .precisions import PRECISIONS
from .split_zip import cache_dir

BACKENDS = ("torch", "openvino")
QUALITY_TOLERANCE = 0.005  # default task-metric move the bf16 / int8 quality guard allows
GUARD_PAIRS, CALIBRATION_PAIRS = 1500, 300  # sampled from a trained model's own dev / train split (STSb dev: all)


def import_openvino():
    try:
        import openvino
    except ImportError as err:
        raise ImportError('backend="openvino" needs OpenVINO: pip install "xenc[fast]" (openvino and nncf).') from err
    return openvino


def weights_hash(model: torch.nn.Module) -> str:
    """A short SHA-256 of the parameters and buffers: the cache key of everything converted from them."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def conversion_folder(model_path: str) -> Path:
    """`<model folder>/openvino` for a writable local folder the user owns; else `<xenc cache>/openvino`."""
    folder = Path(model_path)
    installed = folder.resolve().is_relative_to(Path(sys.prefix).resolve())
    if folder.is_dir() and os.access(folder, os.W_OK) and not installed:
        return folder / "openvino"
    return cache_dir() / "openvino"


class OpenVINOScorer:
    """A compiled OpenVINO model called as the torch model is in `CrossEncoder`: `scorer(**batch).logits`."""

    def __init__(self, compiled, path: Path, precision: str, token_keep: float = 1.0):
        self.request, self.path = compiled.create_infer_request(), path
        self.precision, self.token_keep = precision, token_keep  # what it runs (after a refused guard: fp32, 1)
        self.description = f"openvino {precision} ({path})"
        # an input may carry a tracer's numbered name beside its own: keep the argument's name
        self.names = [min(port.get_names(), key=lambda name: (name.isdigit(), name)) for port in compiled.inputs]

    def __call__(self, **batch) -> SimpleNamespace:
        logits = self.request.infer({name: batch[name].numpy() for name in self.names})[0]
        return SimpleNamespace(logits=torch.from_numpy(np.array(logits, dtype=np.float32)))

    def eval(self) -> OpenVINOScorer:
        return self


def encode_batches(tokenizer, pairs, max_length: int, batch_size: int = 8) -> list[dict]:
    """Pairs as padded numpy batches (the model's inputs), cut at max_length as predict cuts them."""
    batches = []
    for start in range(0, len(pairs), batch_size):
        a, b = zip(*pairs[start : start + batch_size])
        enc = tokenizer(list(a), list(b), truncation=True, max_length=max_length, padding=True, return_tensors="np")
        batches.append(dict(enc))
    return batches


def convert(model: torch.nn.Module, tokenizer):
    """The torch model as an OpenVINO model with dynamic batch and sequence length."""
    ov = import_openvino()
    encoded = tokenizer(["a question"], ["an answer"], return_tensors="pt")
    order = [name for name in inspect.signature(model.forward).parameters if name in encoded]  # as forward takes them
    example = {name: encoded[name] for name in order}
    inputs = [(name, ov.PartialShape([-1, -1]), ov.Type.i64) for name in order]
    with torch.no_grad(), warnings.catch_warnings():
        # tracing fixes two shape tests of transformers' masking to their value for a full-length mask: always true
        # here, since every batch passes its attention mask at its own length
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)  # OpenVINO
        return ov.convert_model(model.eval(), example_input=example, input=inputs)


def quantize(ov_model, tokenizer, pairs, max_length: int):
    """Static int8 (nncf, transformer preset) calibrated on `pairs` encoded as predict encodes them."""
    try:
        import nncf
    except ImportError as err:
        raise ImportError('precision="int8" needs nncf: pip install "xenc[fast]".') from err
    data = encode_batches(tokenizer, pairs, max_length)
    return nncf.quantize(
        ov_model, nncf.Dataset(data), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(data)
    )  # fmt: skip


def openvino_scorer(
    model, tokenizer, model_path: str, precision: str, max_length: int, calibration=None, token_keep: float = 1.0
):
    """A compiled OpenVINO scorer, converted (and for int8 quantized) once per weights and cached on disk."""
    ov = import_openvino()
    net = first_token_scorer(model, token_keep)  # the last layer for the first token only, where the model allows
    key = weights_hash(model) + (f"-first{SCORER_VERSION}" if net is not model else "")
    key += f"-keep{token_keep:g}" if token_keep < 1 else ""
    name = f"{key}-fp32"
    if precision == "int8":
        calib = hashlib.sha256(json.dumps(calibration).encode()).hexdigest()[:8]
        name = f"{key}-int8-{max_length}-{calib}"
    path = conversion_folder(model_path) / f"{name}.xml"
    core = ov.Core()
    ov_model = core.read_model(path) if verified(path) else None
    if ov_model is None:
        ov_model = convert(net, tokenizer)
        if precision == "int8":
            ov_model = quantize(ov_model, tokenizer, calibration, max_length)
        path = save_conversion(ov, ov_model, path)
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": torch.get_num_threads()}
    if PRECISIONS[precision].openvino_hint:
        config["INFERENCE_PRECISION_HINT"] = PRECISIONS[precision].openvino_hint
    return OpenVINOScorer(core.compile_model(ov_model, "CPU", config), path, precision, token_keep)


def file_hashes(xml: Path) -> dict[str, str]:
    """SHA-256 of a conversion's .xml and .bin, by the names they are read under."""
    return {f.suffix: hashlib.sha256(f.read_bytes()).hexdigest() for f in (xml, xml.with_suffix(".bin"))}


def verified(path: Path) -> bool:
    """Whether a cached conversion is there and matches the hashes written with it; a changed, cut-short or unrecorded
    one is reported and converted again."""
    record = path.with_suffix(".sha256.json")
    if not path.exists():
        return False
    if record.exists() and path.with_suffix(".bin").exists() and json.loads(record.read_text()) == file_hashes(path):
        return True
    warnings.warn(f"{path}: the cached conversion does not match the hashes saved with it (changed, cut short or "
                  "unrecorded); converting it again.", stacklevel=3)  # fmt: skip
    return False


def save_conversion(ov, ov_model, path: Path) -> Path:
    """Write a conversion atomically with its hashes (.xml last); a folder that cannot be written falls back to a
    temporary one, with a warning. Returns where it was written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.stem}.{os.getpid()}.xml")
        ov.save_model(ov_model, staging, compress_to_fp16=False)
    except OSError as err:
        fallback = Path(tempfile.mkdtemp(prefix="xenc-openvino-")) / path.name
        warnings.warn(f"{path.parent} cannot be written ({err.strerror}); caching in {fallback.parent} for this "
                      "process only.", stacklevel=3)  # fmt: skip
        return save_conversion(ov, ov_model, fallback)
    record = path.with_suffix(".sha256.json")
    record.with_name(f".{record.name}.{os.getpid()}").write_text(json.dumps(file_hashes(staging)))
    staging.with_suffix(".bin").replace(path.with_suffix(".bin"))
    record.with_name(f".{record.name}.{os.getpid()}").replace(record)
    staging.replace(path)  # the .xml last: a cut-short save leaves no .xml that reads
    return path
