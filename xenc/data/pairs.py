"""Pair tokenization: tokenize once with `Dataset.map`, count truncation, pad per batch."""

from __future__ import annotations

import contextlib
import logging

from datasets import Dataset, DatasetDict
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase, TrainingArguments

from ..checks import check_labels, check_pairs, encode_labels, first_text_fits

logger = logging.getLogger(__name__)
TRUNCATION = ("longest_first", "only_second")  # symmetric pairs / (query, passage): the query is never cut


def _checked_splits(data, text_columns: tuple[str, str], num_labels: int | None, label2id: dict | None) -> DatasetDict:
    """`data` as a DatasetDict whose text columns exist and whose labels are class ids the model can take."""
    splits = data if isinstance(data, DatasetDict) else DatasetDict({"data": data})
    first = next(iter(splits.values()))
    missing = [c for c in text_columns if c not in first.column_names]
    if missing:
        raise ValueError(f"Columns {missing} not found (have {first.column_names}); set text_columns to the pair.")
    if label2id is not None and "label" in first.column_names and first.features["label"].dtype == "string":
        splits = splits.map(lambda batch: {"label": encode_labels(batch["label"], label2id)}, batched=True)
    if num_labels is not None and "label" in first.column_names:
        for split in splits.values():
            check_labels(split["label"], len(split), num_labels)
    return splits


def _pair_encoder(tokenizer, text_columns: tuple[str, str], max_length: int, truncation: str):
    """The batched `map` function: checked pairs encoded, each marked whether truncation cut it."""

    def encode(batch: dict) -> dict:
        a, b = batch[text_columns[0]], batch[text_columns[1]]
        check_pairs(list(zip(a, b)), what="rows")
        with first_text_fits(max_length):
            enc = tokenizer(a, b, truncation=truncation, max_length=max_length)
        at_limit = [i for i, ids in enumerate(enc["input_ids"]) if len(ids) == max_length]  # only these can be cut
        full = tokenizer([a[i] for i in at_limit], [b[i] for i in at_limit])["input_ids"] if at_limit else []
        cut = {i for i, ids in zip(at_limit, full) if len(ids) > max_length}
        enc["truncated"] = [i in cut for i in range(len(a))]
        return enc

    return encode


def _warn_truncated(encoded: DatasetDict, max_length: int, truncation: str) -> None:
    for name, split in encoded.items():
        cut = sum(split["truncated"])
        if cut:
            logger.warning(
                "%s: %d of %d pairs (%.1f%%) are longer than max_length=%d and were truncated (%s).",
                name, cut, len(split), 100 * cut / len(split), max_length, truncation,
            )  # fmt: skip


def tokenize_pairs(
    data: Dataset | DatasetDict,
    tokenizer: PreTrainedTokenizerBase,
    max_length: int = 256,
    truncation: str = "longest_first",
    num_labels: int | None = None,
    text_columns: tuple[str, str] = ("sentence1", "sentence2"),
    args: TrainingArguments | None = None,
    label2id: dict[str, int] | None = None,
) -> Dataset | DatasetDict:
    """Tokenize sentence pairs once, check texts and labels, and warn about truncated pairs.

    Args:
        data: rows with two text columns and, optionally, `label`.
        tokenizer: the model's tokenizer.
        max_length: longest encoded pair, special tokens included.
        truncation: `longest_first` for symmetric pairs, `only_second` for (query, passage) pairs.
        num_labels: when given, labels are checked (0..1 floats for 1, class ids below it otherwise).
        text_columns: names of the two text columns.
        args: under several processes, the main process tokenizes first and the others read its cache.
        label2id: maps string labels (e.g. "entailment") to class ids; unknown names raise an error.

    Returns:
        The data with `input_ids`, `token_type_ids`, `attention_mask`, `labels` (and `qid` when the data has it),
        unpadded.

    Example:
        >>> enc = tokenize_pairs(load("stsb", split="test"), tokenizer, max_length=128)  # doctest: +SKIP
    """
    if truncation not in TRUNCATION:
        raise ValueError(f"truncation={truncation!r}; use one of {TRUNCATION}.")
    splits = _checked_splits(data, text_columns, num_labels, label2id)
    first = next(iter(splits.values()))
    guard = args.main_process_first(desc="tokenize pairs") if args is not None else contextlib.nullcontext()
    with guard:
        kept = ("label", "qid")  # qid: the query of a rerank candidate, for the ranking metrics
        encoded = splits.map(_pair_encoder(tokenizer, text_columns, max_length, truncation), batched=True,
                             remove_columns=[c for c in first.column_names if c not in kept])  # fmt: skip
    _warn_truncated(encoded, max_length, truncation)
    encoded = encoded.remove_columns("truncated")
    if "label" in first.column_names:
        encoded = encoded.rename_column("label", "labels")
    return encoded if isinstance(data, DatasetDict) else encoded["data"]


def pair_collator(tokenizer: PreTrainedTokenizerBase, pad_to_multiple_of: int | None = 8) -> DataCollatorWithPadding:
    """Dynamic padding to the longest pair in the batch, rounded up to a multiple of 8 (tensor cores, fp16/bf16);
    pass `pad_to_multiple_of=None` for fp32 on CPU, where the rounding is only extra tokens."""
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to_multiple_of)
