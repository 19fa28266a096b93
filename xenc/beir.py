"""Retrieve and rerank on a BEIR set (SciFact): held-out dev queries, BM25 and dense first stages, mined rerank
groups, reranker training. Notebook 03 and `benchmarks/rerank_sweep.py` run this one copy.

Example:
    >>> split = BeirSplit.load("scifact")  # doctest: +SKIP
    >>> bm25 = BM25Index(split.docs)  # doctest: +SKIP
    >>> groups = mine_groups(split, bm25.score_matrix(split.texts(split.fit)))  # doctest: +SKIP
    >>> path = train_reranker(groups, "minilm-l6", "runs/reranker")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasets import Dataset

from .bi_encoder import unit
from .data import RerankCollator, build_groups, flatten_groups, load, pair_collator, tokenize_groups, tokenize_pairs
from .lengths import check_max_length
from .retrieval import (
    Run,
    candidate_pairs,
    exact_top_k,
    mine_hard_negatives,
    qrels_from_dataset,
    score_candidates,
    to_run,
)
from .runs import has_accelerator

Qrels = dict[str, dict[str, int]]


@dataclass
class BeirSplit:
    """Queries, documents (title + text) and three disjoint qrels: `test`, `dev` (held-out train), `fit` (the rest)."""

    queries: dict[str, str]
    docs: dict[str, str]
    test: Qrels
    dev: Qrels
    fit: Qrels

    @classmethod
    def load(cls, name: str = "scifact", dev_queries: int = 80, seed: int = 42, smoke: bool = False) -> BeirSplit:
        """Read `name`'s test and train splits; `dev_queries` train queries (seeded draw) become `dev`.

        `smoke` keeps 8 test, 8 dev (at most) and 16 fit queries, over their judged documents and 300 others.
        """
        test, train = load(name, split="test"), load(name, split="train")
        corpus = test["corpus"]
        docs = {d: f"{t} {x}".strip() for d, t, x in zip(corpus["_id"], corpus["title"], corpus["text"])}
        queries = {q: t for s in (test, train) for q, t in zip(s["queries"]["_id"], s["queries"]["text"])}
        test_qrels, train_qrels = qrels_from_dataset(test["qrels"]), qrels_from_dataset(train["qrels"])
        if smoke:
            test_qrels, train_qrels = dict(list(test_qrels.items())[:8]), dict(list(train_qrels.items())[:24])
            judged = {d for qrels in (test_qrels, train_qrels) for docs_of in qrels.values() for d in docs_of}
            keep, dev_queries = judged | set(list(docs)[:300]), min(dev_queries, 8)
            docs = {d: t for d, t in docs.items() if d in keep}
        held_out = [str(q) for q in np.random.default_rng(seed).permutation(sorted(train_qrels))]
        if not 0 < dev_queries < len(held_out):
            raise ValueError(
                f"dev_queries={dev_queries} must leave train queries on both sides: use 1..{len(held_out) - 1}."
            )
        dev = {q: train_qrels[q] for q in held_out[:dev_queries]}
        fit = {q: train_qrels[q] for q in held_out[dev_queries:]}
        return cls(queries, docs, test_qrels, dev, fit)

    @property
    def doc_ids(self) -> list[str]:
        return list(self.docs)

    def texts(self, qrels: Qrels) -> list[str]:
        """The query texts of `qrels`' queries, in its order."""
        return [self.queries[q] for q in qrels]


class BM25Index:
    """BM25 over `docs` with `bm25s` (English stopwords, Snowball stemming); needs the `retrieval` extra."""

    def __init__(self, docs: Mapping[str, str]) -> None:
        try:
            import bm25s
            import Stemmer
        except ImportError as err:
            raise ImportError("BM25 needs bm25s and PyStemmer: pip install 'xenc[retrieval]'.") from err
        self._bm25s, self._stemmer = bm25s, Stemmer.Stemmer("english")
        self.doc_ids = list(docs)
        self.index = bm25s.BM25()
        self.index.index(self._tokenize([docs[d] for d in self.doc_ids]), show_progress=False)

    def _tokenize(self, texts: list[str], **kwargs):
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False, **kwargs)

    def search(self, query_ids: Sequence[str], texts: Sequence[str], k: int = 100) -> Run:
        """The top `k` documents of each query, as a run."""
        k = min(k, len(self.doc_ids))
        ids, scores = self.index.retrieve(self._tokenize(list(texts)), k=k, show_progress=False)
        return to_run(query_ids, self.doc_ids, scores, ids)

    def score_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """(queries, documents) BM25 scores, for mining."""
        return np.stack([self.index.get_scores(t) for t in self._tokenize(list(texts), return_ids=False)])


def bm25_per_query(queries: Sequence[str], candidates: Sequence[str], query_ids: Sequence) -> np.ndarray:
    """BM25 of each candidate against its query, with that query's own candidates as the collection (answer
    selection: TrecQA rows `sentence1`, `sentence2`, `qid`). Returns one score per row."""
    qids, scores = np.asarray(query_ids), np.zeros(len(candidates))
    for qid in np.unique(qids):
        rows = np.flatnonzero(qids == qid)
        index = BM25Index({i: candidates[i] for i in rows})
        scores[rows] = index.score_matrix([queries[rows[0]]])[0]
    return scores


class DenseIndex:
    """Every document embedded once by a `BiEncoder`; queries searched exactly by one matrix product (cosine)."""

    def __init__(self, bi_encoder, docs: Mapping[str, str], batch_size: int = 32, show_progress_bar: bool = False):
        self.bi, self.doc_ids = bi_encoder, list(docs)
        self.embeddings = unit(bi_encoder.encode(
            [docs[d] for d in self.doc_ids], batch_size=batch_size, show_progress_bar=show_progress_bar
        ))  # fmt: skip

    def search(self, query_ids: Sequence[str], texts: Sequence[str], k: int = 100) -> Run:
        """The top `k` documents of each query, as a run."""
        return to_run(query_ids, self.doc_ids, *exact_top_k(unit(self.bi.encode(list(texts))), self.embeddings, k))

    def score_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """(queries, documents) cosines, for mining."""
        return unit(self.bi.encode(list(texts))) @ self.embeddings.T


def mine_groups(
    split: BeirSplit,
    scores: np.ndarray,
    num_negatives: int = 3,
    depth: int = 50,
    skip_top: int = 0,
    margin: float | None = 0.0,
) -> tuple[Dataset, float]:
    """Rerank groups (1 judged positive + `num_negatives` mined negatives) for every `fit` query and positive.

    Args:
        scores: (fit queries, documents) first-stage scores in `split.fit` / `split.docs` order.
        depth, skip_top, margin: as `xenc.retrieval.mine_hard_negatives`.

    Returns:
        `(groups, replaced)`: the groups and how many of each query's `num_negatives` hardest negatives the margin
        filter replaced, on average (a measure of suspected false negatives).
    """
    position = {d: i for i, d in enumerate(split.docs)}
    fit_ids = list(split.fit)
    positive_sets = [{position[d] for d in split.fit[q] if d in position} for q in fit_ids]
    mined = mine_hard_negatives(scores, positive_sets, num_negatives, depth, skip_top, margin)
    unfiltered = mine_hard_negatives(scores, positive_sets, num_negatives, depth, skip_top, None)
    replaced = float(np.mean([len(set(u) - set(m)) for u, m in zip(unfiltered, mined)]))
    doc_ids = split.doc_ids
    negatives = {q: [doc_ids[j] for j in js] for q, js in zip(fit_ids, mined)}
    positives = [(q, d) for q in fit_ids for d in split.fit[q] if d in split.docs]
    return build_groups(split.queries, split.docs, positives, negatives, num_negatives), replaced


def train_reranker(groups: Dataset, base: str, output_dir: str | Path, loss: str = "listwise", epochs: float = 4,
                   max_length: int = 128, learning_rate: float = 8e-5, batch_groups: int = 8, warmup: float = 0.1,
                   bf16: bool = True, seed: int = 42, **training_args) -> Path:  # fmt: skip
    """Train `base` with a one-output head on `groups` and save it to `output_dir`; returns the folder.

    The head is fresh unless `base` is already a one-output cross-encoder (e.g. an STSb model): then its trained
    head is the start (transfer).

    Listwise / pairwise losses see `batch_groups` whole groups per batch; `bce` sees the same pairs flattened and
    shuffled (`batch_groups` x group size per batch). Training pairs are cut at `max_length` (the query stays whole).
    The training log (loss per `logging_steps`) is saved beside the model as `log_history.json`.
    `training_args` go to `TrainingArguments` (e.g. `max_steps=2`, `use_cpu=False`).
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, TrainingArguments

    from .models import load_pretrained, resolve_model
    from .trainer import CrossEncoderTrainer

    path, source = Path(output_dir), resolve_model(base)
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.model_max_length = max_length  # saved with the model: CrossEncoder(path) scores as it was trained
    net = load_pretrained(AutoModelForSequenceClassification, source, num_labels=1)
    check_max_length(max_length, net.config)
    size = 1 + len(groups[0]["negatives"])
    if loss == "bce":
        data = tokenize_pairs(flatten_groups(groups), tokenizer, max_length, "only_second", 1, ("query", "passage"))
        collator, batch = pair_collator(tokenizer), batch_groups * size
    else:
        data, collator, batch = tokenize_groups(groups, tokenizer, max_length), RerankCollator(tokenizer), batch_groups
    cpu = {} if has_accelerator() else {"use_cpu": True}  # as xenc.train: bf16 on CPU, no pinned memory
    settings = dict(output_dir=str(path), num_train_epochs=epochs, per_device_train_batch_size=batch,
                    learning_rate=learning_rate, warmup_steps=warmup, seed=seed, bf16=bf16, save_strategy="no",
                    logging_steps=20, report_to="none", disable_tqdm=True, **cpu)  # fmt: skip
    args = TrainingArguments(**{**settings, **training_args})
    trainer = CrossEncoderTrainer(model=net, args=args, train_dataset=data, data_collator=collator,
                                  processing_class=tokenizer, task="rerank", loss=loss)  # fmt: skip
    trainer.train()
    trainer.save_model()
    (path / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))  # the learning curve
    return path


def score_top_k(model, split: BeirSplit, run: Run, k: int, cache: str | Path | None = None, **predict_kwargs) -> Run:
    """Reranker scores of each query's top `k` in `run`, reusing (and extending) a JSON cache of pair scores.

    A pair's score does not depend on the first stage or on k, so one cache serves every run and depth. Cached
    scores are used only for the same weights file (size and time), backend, precision and max_length.
    """
    cache = Path(cache) if cache else None
    weights = Path(model.model_path) / "model.safetensors"
    stat = weights.stat() if weights.exists() else None
    key = f"{model.backend}-{model.precision}-{model.max_length}-{stat.st_size}-{stat.st_mtime_ns}" if stat else None
    stored = json.loads(cache.read_text()) if cache and key and cache.exists() else {}
    scores: Run = stored.get(key, {})
    wanted = candidate_pairs(run, k)
    todo = [(q, d) for q, d in wanted if d not in scores.get(q, {})]
    for q, docs in score_candidates(model, split.queries, split.docs, todo, **predict_kwargs).items():
        scores.setdefault(q, {}).update(docs)
    if cache and key and todo:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".partial")
        partial.write_text(json.dumps({**stored, key: scores}))
        os.replace(partial, cache)
    top: Run = {}
    for q, d in wanted:
        top.setdefault(q, {})[d] = scores[q][d]
    return top
