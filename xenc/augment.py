"""Augmented SBERT (Thakur et al., NAACL 2021): a cross-encoder labels new pairs built from the training sentences
("silver" pairs), and a bi-encoder trains on gold + silver.

Example:
    >>> pairs = sample_pairs(sentences, "bm25", k=3, exclude=gold_pairs)  # doctest: +SKIP
    >>> silver = label_pairs(CrossEncoder("runs/stsb-mpnet"), pairs)  # doctest: +SKIP
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence

from datasets import Dataset

from .beir import BM25Index, DenseIndex

SAMPLERS = ("random", "bm25", "bi-encoder")  # the paper's random, BM25 and semantic-search sampling


def sample_pairs(
    sentences: Sequence[str], method: str, k: int = 3, seed: int = 42, bi_encoder=None,
    exclude: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:  # fmt: skip
    """New pairs of `sentences`: for each sentence, its `k` nearest others by BM25 or by a bi-encoder's cosine, or
    `k` random others. A pair is kept once (either order), never with itself, never when it is in `exclude` (gold).

    Args:
        method: one of `SAMPLERS`; `bi-encoder` needs `bi_encoder` (a `BiEncoder`).
    """
    if method not in SAMPLERS:
        raise ValueError(f"Unknown sampler {method!r}; use one of {SAMPLERS}.")
    unique = list(dict.fromkeys(sentences))
    seen = {frozenset(p) for p in exclude}
    if method == "random":
        rng = random.Random(seed)
        neighbours = {i: rng.sample(range(len(unique)), min(k + 1, len(unique))) for i in range(len(unique))}
    else:
        if method == "bi-encoder" and bi_encoder is None:
            raise ValueError("The bi-encoder sampler needs bi_encoder= (e.g. BiEncoder('minilm-l6')).")
        docs = {str(i): s for i, s in enumerate(unique)}
        index = BM25Index(docs) if method == "bm25" else DenseIndex(bi_encoder, docs, batch_size=64)
        run = index.search(list(docs), unique, k=k + 1)  # + 1: a sentence finds itself first
        neighbours = {int(q): [int(d) for d in sorted(hits, key=hits.get, reverse=True)] for q, hits in run.items()}
    pairs = []
    for i, found in neighbours.items():
        for j in [j for j in found if j != i][:k]:
            key = frozenset((unique[i], unique[j]))
            if len(key) == 2 and key not in seen:
                seen.add(key)
                pairs.append((unique[i], unique[j]))
    return pairs


def label_pairs(cross_encoder, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> tuple[Dataset, float]:
    """Score `pairs` with a trained cross-encoder (the teacher): a `Dataset` of `sentence1`, `sentence2`, `label`
    (its 0..1 score), and the seconds it took."""
    if cross_encoder.num_labels != 1:
        raise ValueError(f"The teacher has {cross_encoder.num_labels} classes; label pairs with a one-score (STS) "
                         "cross-encoder, whose 0..1 scores the bi-encoder's cosine loss learns.")  # fmt: skip
    start = time.perf_counter()
    scores = cross_encoder.predict(list(pairs), batch_size=batch_size, show_progress_bar=True)
    seconds = time.perf_counter() - start
    rows = {"sentence1": [a for a, _ in pairs], "sentence2": [b for _, b in pairs], "label": scores.tolist()}
    return Dataset.from_dict(rows), seconds
