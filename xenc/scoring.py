"""How `CrossEncoder.predict` turns pairs into logits with the model it is given (`xenc.pipeline.scoring_model`):
pairs read in chunks (a stream never held whole), batches sorted by token count, truncated pairs counted, passages
in windows folded back."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .checks import check_pairs, first_text_fits, table_pairs
from .encoding import fold_windows, forward_sorted
from .first_token import logits_of

logger = logging.getLogger(__name__)
CHUNK_SIZE = 10_000  # pairs tokenized at once: bounds the memory of encodings for long or streamed inputs


@dataclass(frozen=True)
class PairSettings:
    """What scoring needs besides the model: the tokenizer, the length pairs are cut at, the logits per pair and the
    device the batches go to."""

    tokenizer: Any
    max_length: int
    num_labels: int
    device: torch.device


@contextmanager
def training_mode_kept(model: torch.nn.Module):
    """The block may switch `model` to eval mode (scoring does); its train/eval mode is restored after it."""
    was_training = model.training
    try:
        yield
    finally:
        model.train(was_training)


@torch.inference_mode()
def pair_logits(
    settings: PairSettings, model, sentences: Iterable, batch_size: int, progress: bool | None, truncation: str,
    chunk_size: int, windowing: dict | None = None,
) -> tuple[torch.Tensor, int]:  # fmt: skip
    """Raw logits (n, num_labels) of `model` in input order, `chunk_size` pairs at a time, and how many pairs were
    cut at `max_length` (also logged as a warning). `model` is put in eval mode; the caller restores its own."""
    whole = all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in (batch_size, chunk_size))
    if not whole or batch_size < 1 or chunk_size < 1:
        raise ValueError(f"batch_size={batch_size}, chunk_size={chunk_size}: both must be positive integers.")
    sentences = table_pairs(sentences)  # a DataFrame's two text columns, a numpy array's rows
    if isinstance(sentences, (str, bytes)) or not isinstance(sentences, Iterable):
        check_pairs(sentences)  # raises the error that names the fix
    total = len(sentences) if isinstance(sentences, Sequence) else None  # a stream's length is unknown
    show = progress if progress is not None else total is None or total > 10 * batch_size
    model.eval()
    out, pairs_in, truncated, stream = [], 0, 0, iter(sentences)
    with tqdm(total=total, desc="Scoring pairs", unit="pair", disable=not show) as bar:
        while chunk := list(islice(stream, chunk_size)):
            pairs = check_pairs(chunk, what=f"pairs[{pairs_in}:]" if pairs_in else "pairs")
            logits, cut = chunk_logits(settings, model, pairs, batch_size, truncation, bar, windowing)
            out.append(logits)
            pairs_in, truncated = pairs_in + len(pairs), truncated + cut
    if truncated:
        logger.warning(
            "%d of %d pairs were longer than max_length=%d tokens and were cut (truncation=%r); their scores "
            "see only the start. For long passages pass windows='max', or a larger max_length.",
            truncated, pairs_in, settings.max_length, truncation,
        )  # fmt: skip
    return (torch.cat(out) if out else torch.zeros(0, settings.num_labels)), truncated


def chunk_logits(
    settings: PairSettings, model, pairs: list, batch_size: int, truncation: str, bar, windowing: dict | None = None
) -> tuple[torch.Tensor, int]:
    """Logits (len(pairs), num_labels) of one chunk, in its order, from batches sorted by token count, and how many
    of its pairs were cut at `max_length`."""
    tokenizer, max_length, truncated = settings.tokenizer, settings.max_length, 0
    a, b = zip(*pairs)
    # a fast tokenizer returns the cut-off rest of a truncated pair as extra rows: one pass both truncates and counts
    # the cut pairs (their first row is the truncated pair, as without the extra rows); windows keep every row
    split = {"stride": windowing["stride"] if windowing else 0, "return_overflowing_tokens": True}
    with first_text_fits(max_length):
        enc = tokenizer(
            list(a), list(b), truncation="only_second" if windowing else truncation, max_length=max_length,
            **(split if windowing or getattr(tokenizer, "is_fast", False) else {}),
        )  # fmt: skip
    owner = enc.pop("overflow_to_sample_mapping", None)  # row -> its pair, ascending
    if owner is None:  # a slow tokenizer: only a pair at exactly max_length may have been cut
        full = [i for i, ids in enumerate(enc["input_ids"]) if len(ids) == max_length]
        if full:
            lengths = tokenizer([a[i] for i in full], [b[i] for i in full], return_length=True)["length"]
            truncated = sum(n > max_length for n in lengths)
    elif not windowing:
        truncated = int(np.count_nonzero(np.bincount(owner) > 1))
        first = np.flatnonzero(np.diff(owner, prepend=-1))  # the first row of each pair
        enc, owner = {k: [v[i] for i in first] for k, v in enc.items()}, None
    out = forward_sorted(tokenizer, enc, batch_size, lambda batch: logits_of(model(**batch)), settings.num_labels,
                         settings.device)  # fmt: skip
    bar.update(len(pairs))
    return (out if owner is None else fold_windows(out, owner, len(pairs), windowing["aggregate"])), truncated
