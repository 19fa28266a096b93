"""Rerank groups: one query with its positive and k negatives, tokenized once, batched as (groups x (1 + k)) pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from datasets import Dataset
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from ..checks import first_text_fits

PAIR_KEYS = ("input_ids", "token_type_ids", "attention_mask")


def build_groups(
    queries: dict[str, str],
    docs: dict[str, str],
    positives: Sequence[tuple[str, str]],
    negatives: dict[str, list[str]],
    num_negatives: int,
) -> Dataset:
    """Texts of rerank groups: one row per (query, positive) with exactly `num_negatives` negatives.

    Queries with fewer mined negatives are left out (a batch needs equal groups); pass a smaller `num_negatives`
    to keep them.

    Returns:
        A `Dataset` with `query`, `positive` and `negatives` (a list of `num_negatives` texts).
    """
    rows = {"query": [], "positive": [], "negatives": []}
    for qid, pos in positives:
        negs = negatives.get(qid, [])[:num_negatives]
        if len(negs) == num_negatives:
            rows["query"].append(queries[qid])
            rows["positive"].append(docs[pos])
            rows["negatives"].append([docs[d] for d in negs])
    if not rows["query"]:
        raise ValueError(f"No query has {num_negatives} negatives; mine deeper or lower num_negatives.")
    return Dataset.from_dict(rows)


def groups_from_pairs(pairs: Dataset, num_negatives: int, seed: int = 42) -> Dataset:
    """Rerank groups from flat candidate rows (`sentence1` query, `sentence2` candidate, `label` grade, `qid`).

    Each relevant candidate (grade > 0) gets a group with `num_negatives` of its query's irrelevant candidates,
    drawn without replacement while there are enough and with replacement after that; queries without an irrelevant
    candidate are left out (no pair to rank).

    Returns:
        A `Dataset` with `query`, `positive` and `negatives`, as `build_groups` makes.

    Example:
        >>> groups_from_pairs(load("trecqa", split="train"), num_negatives=7)  # doctest: +SKIP
    """
    generator = torch.Generator().manual_seed(seed)
    by_query: dict[int, tuple[str, list[str], list[str]]] = {}
    for query, text, grade, qid in zip(pairs["sentence1"], pairs["sentence2"], pairs["label"], pairs["qid"]):
        by_query.setdefault(qid, (query, [], []))[1 if grade > 0 else 2].append(text)
    rows = {"query": [], "positive": [], "negatives": []}
    for query, positives, negatives in by_query.values():
        for positive in positives if negatives else []:
            order = torch.randperm(len(negatives), generator=generator).tolist()
            extra = torch.randint(len(negatives), (max(0, num_negatives - len(order)),), generator=generator)
            rows["query"].append(query)
            rows["positive"].append(positive)
            rows["negatives"].append([negatives[i] for i in (order + extra.tolist())[:num_negatives]])
    if not rows["query"]:
        raise ValueError("No query has both a relevant (label > 0) and an irrelevant candidate; nothing to rank.")
    return Dataset.from_dict(rows)


def flatten_groups(groups: Dataset) -> Dataset:
    """Groups -> labelled pairs (`query`, `passage`, `label` 1.0 / 0.0) for a pointwise (BCE) reranker."""
    rows = {"query": [], "passage": [], "label": []}
    for query, pos, negs in zip(groups["query"], groups["positive"], groups["negatives"]):
        rows["query"] += [query] * (1 + len(negs))
        rows["passage"] += [pos, *negs]
        rows["label"] += [1.0] + [0.0] * len(negs)
    return Dataset.from_dict(rows)


def tokenize_groups(groups: Dataset, tokenizer: PreTrainedTokenizerBase, max_length: int = 256) -> Dataset:
    """Tokenize each group's (query, passage) pairs once, passages truncated (`only_second`); positive first.

    Returns:
        Rows with `input_ids`, `token_type_ids`, `attention_mask` (one list per pair) and `labels` = 0, the index
        of the positive, as `RerankCollator` and the `listwise` loss expect; or, when the groups have
        `teacher_scores` (`retrieval.add_teacher_scores`), those scores, for the distillation losses.
    """

    def encode(row: dict) -> dict:
        passages = [row["positive"], *row["negatives"]]
        with first_text_fits(max_length):
            enc = tokenizer([row["query"]] * len(passages), passages, truncation="only_second", max_length=max_length)
        return {**{k: enc[k] for k in PAIR_KEYS if k in enc}, "labels": row.get("teacher_scores", 0)}

    return groups.map(encode, remove_columns=groups.column_names)


@dataclass
class RerankCollator:
    """Pads groups of pairs into one flat batch of (groups x pairs_per_group) rows; `labels` stay one per group.

    Flat rows (one pair each, e.g. the evaluation candidates with `qid`) are padded as `DataCollatorWithPadding`
    pads them, so one collator serves a trainer that trains on groups and evaluates on candidate lists.

    Example:
        >>> batch = RerankCollator(tokenizer)(tokenize_groups(groups, tokenizer).select(range(2)))  # doctest: +SKIP
        >>> batch["input_ids"].shape, batch["labels"].shape  # doctest: +SKIP
        (torch.Size([16, 256]), torch.Size([2]))
    """

    tokenizer: PreTrainedTokenizerBase
    pad_to_multiple_of: int | None = 8

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        pad = DataCollatorWithPadding(self.tokenizer, pad_to_multiple_of=self.pad_to_multiple_of)
        if features and features[0]["input_ids"] and isinstance(features[0]["input_ids"][0], int):
            return pad(features)  # flat rows
        sizes = {len(f["input_ids"]) for f in features}
        if len(sizes) != 1:
            raise ValueError(f"Groups of different sizes {sorted(sizes)} in one batch; build every group with the "
                             "same num_negatives (build_groups does).")  # fmt: skip
        size, keys = sizes.pop(), [k for k in PAIR_KEYS if k in features[0]]
        pairs = [{k: f[k][i] for k in keys} for f in features for i in range(size)]
        batch = pad(pairs)
        labels = [f["labels"] for f in features]  # (groups,) index of the positive, or (groups, size) teacher logits
        batch["labels"] = torch.tensor(labels, dtype=torch.float32 if isinstance(labels[0], list) else torch.long)
        return batch
