"""`CrossEncoder.predict`'s per-call options: the peer's `processing_kwargs`, long-passage windows, and the form
the scores are returned in."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

TEXT_SETTINGS = ("max_length", "truncation")  # the tokenizer settings predict takes per call


def text_settings(processing_kwargs: dict | None) -> dict:
    """The per-call tokenizer settings in the peer's `processing_kwargs` (`{"text": {...}}`, or `"common"`): xenc
    scores text pairs and pads its own length-sorted batches, so it takes `max_length` and `truncation` only."""
    processing_kwargs = processing_kwargs or {}
    other = sorted(set(processing_kwargs) - {"text", "common"})
    settings = {**(processing_kwargs.get("common") or {}), **(processing_kwargs.get("text") or {})}
    other += [f"text.{k}" for k in sorted(set(settings) - set(TEXT_SETTINGS))]
    if other:
        raise ValueError(
            f"processing_kwargs {other} are not taken: xenc scores text pairs and takes only "
            f"processing_kwargs={{'text': {{'max_length': ..., 'truncation': ...}}}}. Fix: drop the others."
        )
    return settings


def windowing(windows: str | None, stride: int, length: int, truncation, num_labels: int) -> tuple[dict | None, str]:
    """(windowing for `scoring.pair_logits`, truncation) of predict's `windows` / `stride` at `length` tokens."""
    if windows not in (None, "max", "first"):
        raise ValueError(f"windows={windows!r}; use 'max' (MaxP), 'first' (FirstP) or None (truncate).")
    if windows and (num_labels != 1 or not 0 <= stride < length // 2):
        raise ValueError(
            f"windows need a one-label model and 0 <= stride < max_length / 2 (got {num_labels} labels, "
            f"stride={stride}, max_length={length})."
        )
    if windows == "first":  # FirstP is the first window: the passage truncated, one encoding per pair
        return None, "only_second"
    return ({"stride": stride, "aggregate": windows} if windows else None), truncation


def scores_as_requested(logits: torch.Tensor, activation_fn: Callable, apply_softmax: bool, one_label: bool,
                        convert_to_numpy: bool, convert_to_tensor: bool):  # fmt: skip
    """Scores of `logits` after the activation (and softmax over classes), as a tensor, an array or a list: what
    sentence-transformers returns for the same flags (an empty result included)."""
    if not len(logits):
        return torch.tensor([]) if convert_to_tensor else np.array([]) if convert_to_numpy else []
    scores = activation_fn(logits)
    if apply_softmax and scores.shape[-1] > 1:
        scores = torch.softmax(scores, dim=-1)
    scores = scores.squeeze(-1) if one_label else scores
    return scores if convert_to_tensor else scores.numpy() if convert_to_numpy else list(scores)
