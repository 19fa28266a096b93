"""Input checks that turn bad data into errors naming the problem and the fix."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin")


@contextmanager
def first_text_fits(max_length: int | None):
    """Turn the tokenizer's "Sequence to truncate too short" (a first text longer than `max_length` under
    `only_second` truncation, which never cuts it) into an error that names the fix."""
    try:
        yield
    except Exception as err:
        if "Sequence to truncate too short" not in str(err):
            raise
        raise ValueError(
            f"A query (the first text of a pair) is longer than max_length={max_length} tokens, and truncation "
            "'only_second' cuts only the passage. Raise max_length (--max_length), shorten the queries, or use "
            "truncation='longest_first'."
        ) from err


def table_pairs(pairs, what: str = "pairs"):
    """A pandas DataFrame (its two text columns, or sentence1 and sentence2) or a numpy array of pairs as a list of
    pairs; anything else unchanged."""
    if type(pairs).__name__ == "DataFrame":  # pandas, without importing it
        named = [c for c in ("sentence1", "sentence2") if c in pairs.columns]
        columns = named if len(named) == 2 else list(pairs.columns)
        if len(columns) != 2:
            raise ValueError(f"{what} is a DataFrame with columns {list(pairs.columns)}: give it two text columns "
                             "(or sentence1 and sentence2), or pass list(zip(df[a], df[b])).")  # fmt: skip
        return list(zip(pairs[columns[0]], pairs[columns[1]]))
    return pairs.tolist() if isinstance(pairs, np.ndarray) else pairs


def check_pairs(pairs: Sequence, what: str = "pairs") -> list[tuple[str, str]]:
    """Return `pairs` as a list of (str, str) or raise a ValueError that says which item is wrong and why."""
    pairs = table_pairs(pairs, what)
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise TypeError(f"{what} must be a list of [text_a, text_b] pairs, got {type(pairs).__name__}.")
    out = []
    for i, pair in enumerate(pairs):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(
                f"{what}[{i}] is {pair!r}: expected a pair [text_a, text_b]. "
                "A cross-encoder scores two texts together; pass [[a, b], ...], not single texts."
            )
        for j, text in enumerate(pair):
            if not isinstance(text, str):
                raise TypeError(f"{what}[{i}][{j}] is {type(text).__name__} ({text!r}); both texts must be str.")
            if not text.strip():
                raise ValueError(f"{what}[{i}][{j}] is empty; drop the pair or fill in the text.")
        out.append((pair[0], pair[1]))
    return out


def check_scoring_pairs(calibration_pairs, guard_pairs) -> None:
    """The OpenVINO calibration pairs and `(pairs, labels[, query_ids])` guard, checked where they are given (at
    construction)."""
    if calibration_pairs is not None:
        check_pairs(calibration_pairs, "calibration_pairs")
    if guard_pairs is not None:
        if not isinstance(guard_pairs, tuple | list) or len(guard_pairs) not in (2, 3):
            raise TypeError("guard_pairs must be (pairs, labels), or (pairs, labels, query_ids) for a reranker: the "
                            "pairs to check on and their gold labels (and each pair's query).")  # fmt: skip
        pairs = check_pairs(guard_pairs[0], "guard_pairs[0]")
        for what, values in zip(("labels", "query ids"), guard_pairs[1:]):
            if len(values) != len(pairs):
                raise ValueError(f"guard_pairs has {len(pairs)} pairs but {len(values)} {what}; give one per pair.")


def check_labels(labels: Sequence, n_pairs: int, num_labels: int) -> None:
    """Check labels for length and range: 0..1 floats when `num_labels == 1`, ints in [0, num_labels) otherwise."""
    if len(labels) != n_pairs:
        raise ValueError(f"Got {n_pairs} pairs but {len(labels)} labels; give exactly one label per pair.")
    if num_labels == 1:
        for i, y in enumerate(labels):
            if not isinstance(y, (int, float, np.number)) or math.isnan(y) or not 0.0 <= y <= 1.0:
                raise ValueError(
                    f"label[{i}] = {y!r} is not a score in 0..1. Normalise scores to 0..1 first "
                    "(e.g. STSb's 0..5 divided by 5) and drop rows without a score."
                )
        return
    for i, y in enumerate(labels):
        if isinstance(y, str):
            raise ValueError(f"label[{i}] = {y!r} is a string; map it to an int with the label2id of the model.")
        if isinstance(y, bool) or int(y) != y or not 0 <= y < num_labels:
            raise ValueError(
                f"label[{i}] = {y!r} is outside the {num_labels} classes 0..{num_labels - 1}. "
                "Check the label mapping, or set num_labels to the number of classes in the data."
            )


def encode_labels(labels: Sequence, label2id: dict[str, int]) -> list[int]:
    """Map label names to ids with `label2id` (ids pass through); an unknown name raises naming the known ones."""
    known = {name.lower(): i for name, i in label2id.items()}
    out = []
    for i, y in enumerate(labels):
        if isinstance(y, str):
            if y.lower() not in known:
                raise ValueError(
                    f"label[{i}] = {y!r} is not a known label; known: {sorted(label2id, key=label2id.get)}. "
                    "Fix the data, or train a model whose label2id has this label."
                )
            y = known[y.lower()]
        out.append(y)
    return out


def check_output_dir(
    path: str | Path, overwrite: bool, fix: str = "overwrite_output_dir=True (CLI: --overwrite_output_dir)"
) -> None:
    """Refuse to write into a folder that already holds a saved model, unless `overwrite` is set."""
    folder = Path(path)
    found = [name for name in MODEL_FILES if (folder / name).exists()]
    if found and not overwrite:
        raise FileExistsError(
            f"{folder} already holds a model ({', '.join(found)}); nothing was written. "
            f"Fix: choose another output dir, or pass {fix} to replace it."
        )


def check_device(device: str | None) -> torch.device:
    """The device to run on (default: CUDA when available); refuse one this machine does not have."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device={device!r} is not a device name; use 'cpu', 'cuda', 'cuda:1', 'mps'.") from err
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"device={device!r}, but this machine has {torch.cuda.device_count()} CUDA GPU(s). "
                         "Fix: device='cpu', or leave device unset to pick one.")  # fmt: skip
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r}, but MPS is not available here. Fix: device='cpu'.")
    return dev


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model")
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def check_model_folder(folder: str | Path) -> None:
    """Refuse a local model folder that would load wrong or half: no or broken config.json, no weights, no tokenizer
    (transformers would then fall back to a tokenizer that maps every word to [UNK])."""
    folder = Path(folder)
    config = folder / "config.json"
    problem = None
    if not config.is_file():
        problem = "no config.json"
    else:
        try:
            json.loads(config.read_text() or "null")["model_type"]
        except (ValueError, TypeError, KeyError):
            problem = "config.json is empty or broken (a save that was cut short?)"
    if problem is None and not any((folder / name).is_file() for name in WEIGHT_FILES):
        problem = "no weights (model.safetensors)"
    if problem is None and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        problem = "no tokenizer files (tokenizer.json / tokenizer_config.json)"
    if problem:
        raise FileNotFoundError(
            f"{folder} is not a complete model folder: {problem}. Fix: save the model again "
            "(CrossEncoder.save_pretrained saves model and tokenizer), or point to a complete folder."
        )
