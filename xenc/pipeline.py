"""The model `CrossEncoder.predict` runs, made once per weights and options: the fp32 model itself (its exact
first-token scorer), a bf16 / fp16 copy, or an OpenVINO conversion (`xenc.backends`) that is checked against fp32 on
guard pairs before use and replaced by fp32 when it moves the task metric by more than the tolerance (the guard's
result is recorded beside the conversion)."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import os
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .backends import (
    BACKENDS,
    CALIBRATION_PAIRS,
    GUARD_PAIRS,
    QUALITY_TOLERANCE,
    OpenVINOScorer,
    conversion_folder,
    import_openvino,
    openvino_scorer,
    weights_hash,
)
from .checks import check_scoring_pairs
from .first_token import first_token_scorer, supports_first_token
from .guard import GUARD_VERSION, change_bound, has_own_pairs, own_pairs, task_metric
from .machine import cpu_description, cpu_flags, fast_precisions
from .precisions import PRECISIONS, TORCH_PRECISIONS
from .scoring import PairSettings, chunk_logits, training_mode_kept

logger = logging.getLogger(__name__)
PROBE_PAIRS = 256  # guard pairs timed per candidate precision by precision="auto"
AUTO_VERSION = 2  # the rule behind a recorded choice (2: with and without token_keep, each path timed itself)
NEEDS_CALIBRATION = (
    'precision="int8" needs calibration pairs: pass calibration_pairs=[(text_a, text_b), ...] (a few hundred pairs '
    "of your task), or load a model trained by `xenc train`."
)
NEEDS_GUARD = (
    "OpenVINO {fast} is checked against fp32 before use: pass guard_pairs=(pairs, labels) (held-out pairs of your "
    "task with their labels), or load a model trained by `xenc train`."
)


def check_scoring_options(backend: str, precision: str, token_keep, quality_tolerance=QUALITY_TOLERANCE) -> None:
    """The scoring options on their own (before a model is loaded): known names, int8 and token_keep on OpenVINO,
    a tolerance that is a number."""
    tolerance_type = isinstance(quality_tolerance, int | float) and not isinstance(quality_tolerance, bool)
    if not tolerance_type or math.isnan(quality_tolerance):
        raise TypeError(
            f"quality_tolerance={quality_tolerance!r}: pass a number, the largest change of the task metric "
            "(Spearman or accuracy) a fast path may cause, e.g. 0.005."
        )
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is unknown; use one of {BACKENDS}.")
    if backend == "openvino":
        import_openvino()
    if precision in (*PRECISIONS, "auto") and precision not in TORCH_PRECISIONS and backend != "openvino":
        raise ValueError(
            f'precision="{precision}" runs on OpenVINO: pass backend="openvino" (pip install "xenc[fast]").'
        )
    if not isinstance(token_keep, int | float) or isinstance(token_keep, bool):
        raise TypeError(f"token_keep={token_keep!r}: pass a number in (0, 1], e.g. 0.5 (not a string).")
    if not 0 < token_keep <= 1 or (token_keep < 1 and backend != "openvino"):
        raise ValueError(
            f"token_keep={token_keep}: pass a fraction in (0, 1] (1 keeps every token, exact); below 1 it runs on "
            'OpenVINO: pass backend="openvino" too (pip install "xenc[fast]").'
        )
    if precision not in PRECISIONS and precision != "auto":
        raise ValueError(
            f"precision={precision!r} is unknown; use one of {list(TORCH_PRECISIONS)} ('fp32' is exact; 'bf16' is the "
            "fast path on GPUs and on CPUs with AMX), or 'int8' / 'auto' (the fastest that passes the guard on this "
            "CPU) with backend='openvino'."
        )


def pair_settings(ce, max_length: int | None = None) -> PairSettings:
    """What scoring needs besides the model: tokenizer, `max_length` (or a per-call length), labels, device."""
    return PairSettings(ce.tokenizer, max_length or ce.max_length, ce.num_labels, ce.device)


def fast_name(ce) -> str:
    return ce.precision + (f" with token_keep={ce.token_keep:g}" if ce.token_keep < 1 else "")


def check_scoring_model(ce) -> None:
    """The options against the loaded model and device, and the pairs an approximate OpenVINO path needs: at
    construction, so nothing fails at the first `predict`."""
    if ce.backend == "openvino" and ce.device.type != "cpu":
        raise ValueError(f'backend="openvino" scores on the CPU; got device={ce.device}. Use backend="torch".')
    if ce.token_keep < 1 and not supports_first_token(ce.model):
        raise ValueError(
            f"token_keep={ce.token_keep} needs a BERT-family or MPNet classifier (its first-token scorer); "
            f"{type(ce.model).__name__} keeps every token. Fix: leave token_keep at 1."
        )
    check_scoring_pairs(ce.calibration_pairs, ce.guard_pairs)
    trained_here = has_own_pairs(ce.model_path)
    if ce.precision == "int8" and not ce.calibration_pairs and not trained_here:
        raise ValueError(NEEDS_CALIBRATION)
    if (ce.precision in ("int8", "auto") or ce.token_keep < 1) and ce.guard_pairs is None and not trained_here:
        raise ValueError(NEEDS_GUARD.format(fast=fast_name(ce)))


@torch.inference_mode()  # as when predict made it: no gradients in conversion, copies or the guard
def scoring_model(ce) -> torch.nn.Module:
    """The model itself for fp32; else its bf16/fp16 copy, re-made when the weights were changed or replaced.

    A copy in the low dtype is faster than autocast, which re-casts every fp32 weight at every batch (STSb,
    bf16 on AMX: 950 vs 770 pairs/s), and it leaves the fp32 weights for training and saving untouched.
    """
    if ce.precision == "auto":
        ce.precision = choose_precision(ce)
    if ce.backend == "torch" and PRECISIONS[ce.precision].dtype is None:
        return first_token_scorer(ce.model)
    # optimizer steps and load_state_dict bump _version; edits through `.data` do not and are not seen
    key = (id(ce.model), sum(p._version for p in ce.model.parameters()), ce.backend, ce.precision,
           ce.max_length, ce.token_keep)  # fmt: skip
    if ce._low_precision[0] != key:
        if ce.backend == "openvino":
            ce._low_precision = (key, openvino_with_guard(ce))
        else:
            copied = copy.deepcopy(ce.model).to(PRECISIONS[ce.precision].dtype)
            ce._low_precision = (key, first_token_scorer(copied))
    return ce._low_precision[1]


def prepare_scoring(ce) -> dict:
    """What the first `predict` would make, made now (see `CrossEncoder.prepare`), and what it is."""
    scorer = scoring_model(ce)  # an OpenVINO scorer says what it runs: after a refused guard, exact fp32
    runs = (getattr(scorer, "precision", ce.precision), getattr(scorer, "token_keep", ce.token_keep))
    return {"scores_with": getattr(scorer, "description", f"torch {ce.precision}"),
            "artifact": str(scorer.path) if getattr(scorer, "path", None) else None,
            "precision": runs[0], "token_keep": runs[1], "guard_refused": runs != (ce.precision, ce.token_keep),
            "quality_check": ce.quality_check, "auto_choice": ce.auto_choice}  # fmt: skip


def choose_precision(ce) -> str:
    """`precision="auto"`: of fp32 and the approximate precisions this CPU offers (`machine.fast_precisions`), each
    with `token_keep` and (when it is below 1) with every token, the fastest on the guard pairs whose guard passes;
    sets `ce.token_keep` to the chosen one; recorded beside the conversions with its figures and reused."""
    pairs, labels, *qids = ce.guard_pairs or own_pairs(ce.model_path, "eval", GUARD_PAIRS)
    trained_here = has_own_pairs(ce.model_path)
    candidates = [p for p in fast_precisions(cpu_flags()) if p != "int8" or ce.calibration_pairs or trained_here]
    calibration = [list(p) for p in ce.calibration_pairs or []]
    key = json.dumps([[list(p) for p in pairs], np.asarray(labels).tolist(), candidates, ce.quality_tolerance,
                      ce.token_keep, ce.max_length, calibration, *(np.asarray(q).tolist() for q in qids)])  # fmt: skip
    # a record made under an earlier AUTO_VERSION is another file: never reused
    name = f"{weights_hash(ce.model)}-auto{AUTO_VERSION}-{hashlib.sha256(key.encode()).hexdigest()[:8]}.json"
    record = conversion_folder(ce.model_path) / name
    if not record.is_file():
        record.parent.mkdir(parents=True, exist_ok=True)
        partial_record = record.with_suffix(f".{os.getpid()}.tmp")  # whole or absent: a reader never sees half
        partial_record.write_text(json.dumps(timed_choice(ce, candidates, pairs), indent=2))
        partial_record.replace(record)
    ce.auto_choice = json.loads(record.read_text())
    ce.token_keep = ce.auto_choice.get("token_keep", ce.token_keep)
    return ce.auto_choice["precision"]


def timed_choice(ce, candidates: list[str], pairs: list) -> dict:
    """Time every (precision, token_keep) path on the guard pairs, guard it, and pick the fastest that passes."""
    paths = [(p, keep) for keep in dict.fromkeys([1.0, ce.token_keep]) for p in ["fp32", *candidates]]
    tolerance, figures, given = ce.quality_tolerance, {}, (ce.precision, ce.token_keep, ce.quality_check)
    try:
        ce.quality_tolerance = math.inf  # each path is timed itself, not its fallback to fp32; its bound judged here
        for precision, keep in paths:
            ce.precision, ce.token_keep, ce.quality_check = precision, keep, None
            pairs_per_s = min(PROBE_PAIRS, len(pairs)) / probe_seconds(ce, openvino_with_guard(ce), pairs)
            bound = (ce.quality_check or {}).get("change_bound")  # None: exact fp32, no guard, always passes
            passed = bound is None or bound <= tolerance
            figures[fast_name(ce)] = {"precision": precision, "token_keep": keep, "pairs_per_s": pairs_per_s,
                                      "change_bound": bound, "passed": passed}  # fmt: skip
    except BaseException:
        ce.precision, ce.token_keep, ce.quality_check = given  # still "auto": the next predict chooses again
        raise
    finally:
        ce.quality_tolerance = tolerance
    chosen = max((f for f in figures.values() if f["passed"]), key=lambda f: f["pairs_per_s"])
    # the chosen path's own check is set when predict builds it
    ce.precision, ce.token_keep, ce.quality_check = chosen["precision"], chosen["token_keep"], None
    shown = ", ".join(f"{p} {f['pairs_per_s']:.0f} pairs/s{'' if f['passed'] else ' (guard failed)'}"
                      for p, f in figures.items())  # fmt: skip
    logger.warning("precision='auto' chose %s on %s: %s", fast_name(ce), cpu_description(), shown)
    return {"precision": ce.precision, "token_keep": ce.token_keep, "figures": figures, "cpu": cpu_description()}


def probe_seconds(ce, scorer, pairs: list) -> float:
    """The best of 2 timed passes of `scorer` over the first `PROBE_PAIRS` of `pairs` (after one warm-up pass)."""
    quiet, times, pairs = tqdm(disable=True), [], [tuple(p) for p in pairs[:PROBE_PAIRS]]
    for _ in range(3):
        start = time.perf_counter()
        chunk_logits(pair_settings(ce), scorer, pairs, 32, "longest_first", quiet)
        times.append(time.perf_counter() - start)
    return min(times[1:])


def openvino_with_guard(ce) -> OpenVINOScorer:
    """The OpenVINO scorer for a `CrossEncoder`'s precision; a non-fp32 one is first checked against fp32 on guard
    pairs and replaced by fp32 (with a warning) when the task metric moves by more than `ce.quality_tolerance`."""
    calibration = None
    if ce.precision == "int8":
        calibration = ce.calibration_pairs or (own_pairs(ce.model_path, "train", CALIBRATION_PAIRS) or (None,))[0]
        if not calibration:
            raise ValueError(NEEDS_CALIBRATION)
        calibration = [list(pair) for pair in calibration]
    guard = ce.guard_pairs or own_pairs(ce.model_path, "eval", GUARD_PAIRS)
    fast = fast_name(ce)
    if guard is None and (ce.precision == "int8" or ce.token_keep < 1):
        raise ValueError(NEEDS_GUARD.format(fast=fast))
    build = partial(openvino_scorer, ce.model, ce.tokenizer, ce.model_path, max_length=ce.max_length)
    scorer = build(ce.precision, calibration=calibration, token_keep=ce.token_keep)
    if (ce.precision == "fp32" and ce.token_keep == 1) or guard is None:
        return scorer
    pairs, labels = [list(p) for p in guard[0]], np.asarray(guard[1])
    qids = np.asarray(guard[2]) if len(guard) > 2 else None  # a reranker's guard: MAP over its queries
    # the guard scores at ce.max_length: a record made at another length is another record
    key = [pairs, labels.tolist(), ce.max_length, *([] if qids is None else [qids.tolist()])]
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:8]
    # this conversion at this precision (bf16 and fp16 run the same fp32 conversion) on these pairs, this guard rule
    record = scorer.path.with_name(f"{scorer.path.stem}.{ce.precision}-guard{GUARD_VERSION}-{digest}.json")
    if record.is_file():
        metric, before, after, bound = json.loads(record.read_text())
    else:
        metric, before, after, bound = guard_metrics(ce, scorer, pairs, labels, qids)
        record.write_text(json.dumps([metric, before, after, bound]))
    ce.quality_check = {"metric": metric, "fp32": before, "fast": after, "path": fast, "pairs": len(pairs),
                        "change_bound": bound, "tolerance": ce.quality_tolerance,
                        "token_keep": ce.token_keep}  # fmt: skip
    if bound <= ce.quality_tolerance:
        return scorer
    warnings.warn(
        f"OpenVINO {fast} moves {metric} on {len(pairs)} guard pairs from {before:.4f} (fp32) to {after:.4f}; with "
        f"the noise of that sample the change may reach {bound:.4f}, more than quality_tolerance="
        f"{ce.quality_tolerance}: scoring with OpenVINO fp32 (exact) instead. Fix: guard on more pairs "
        "(guard_pairs=), calibrate on more or more typical pairs (calibration_pairs=), raise token_keep, or raise "
        "quality_tolerance.",
        stacklevel=outside_xenc(),
    )
    return build("fp32")


def outside_xenc() -> int:
    """The `stacklevel` that makes a warning raised by the caller name the user's line: the first frame outside
    xenc (and torch's `no_grad` wrapper), however deep the call came in."""
    package, frame, level = str(Path(__file__).parent), sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith(package)
                                 or frame.f_code.co_filename.endswith("_contextlib.py")):  # fmt: skip
        frame, level = frame.f_back, level + 1
    return level


def guard_metrics(ce, scorer: OpenVINOScorer, pairs: list, labels: np.ndarray,
                  qids: np.ndarray | None = None) -> tuple[str, float, float, float]:  # fmt: skip
    """The task metric of torch fp32 and of `scorer` on the guard pairs and the bound of its change (cached beside
    the conversion by the caller: the same weights, conversion and pairs give the same numbers)."""
    quiet, settings, pairs = tqdm(disable=True), pair_settings(ce), [tuple(p) for p in pairs]
    # the exact logits are the same for every path `auto` guards: computed once per weights (their contents), pairs
    # and length
    key = (weights_hash(ce.model), ce.max_length, hash(tuple(pairs)))
    with training_mode_kept(ce.model):
        if ce._exact_guard[0] != key:
            exact = chunk_logits(settings, ce.model.eval(), pairs, 32, "longest_first", quiet)[0]
            ce._exact_guard = (key, exact.float().numpy())
    exact = ce._exact_guard[1]
    fast = chunk_logits(settings, scorer, pairs, 32, "longest_first", quiet)[0].float().numpy()
    (metric, before), (_, after) = task_metric(exact, labels, qids), task_metric(fast, labels, qids)
    return metric, before, after, change_bound(exact, fast, labels, qids)
