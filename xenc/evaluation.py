"""The seed API users come from: `InputExample` and the evaluators of sentence-transformers' `CrossEncoder`.

Same constructor arguments, call signature, returned keys (prefixed with `name_`), primary metric and CSV files as
sentence-transformers 6 (`CrossEncoderCorrelationEvaluator`, `CrossEncoderClassificationEvaluator`,
`CrossEncoderRerankingEvaluator`) and its older names (`CECorrelationEvaluator`, `CEBinaryAccuracyEvaluator`,
`CEBinaryClassificationEvaluator`, `CEF1Evaluator`, `CESoftmaxAccuracyEvaluator`, `CERerankingEvaluator`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, dcg_score, f1_score

from .calibration import best_threshold
from .checks import check_pairs
from .metrics import STSCorrelation


@dataclass
class InputExample:
    """One training pair: `InputExample(texts=[a, b], label=0.8)`; `guid` is optional. A bi-encoder also trains on
    (anchor, positive, negative...) texts with in-batch negatives; a cross-encoder takes pairs only."""

    guid: str = ""
    texts: list[str] = field(default_factory=list)
    label: int | float = 0

    def __post_init__(self) -> None:
        texts, what = self.texts, f"InputExample(guid={self.guid!r}).texts"
        many = isinstance(texts, (list, tuple)) and len(texts) > 2  # (anchor, positive, negatives...): each vs anchor
        check_pairs([[texts[0], t] for t in texts[1:]] if many else [texts], what=what)


class _Evaluator:
    """Scores with a CrossEncoder, appends a CSV row under `output_path`, returns `{name_metric: value}`."""

    csv_stem = ""

    def __init__(self, name: str = "", batch_size: int = 32, show_progress_bar: bool | None = None,
                 write_csv: bool = True):  # fmt: skip
        self.name, self.batch_size, self.show_progress_bar, self.write_csv = (
            name,
            batch_size,
            show_progress_bar,
            write_csv,
        )
        self.csv_file = self.csv_stem + (f"_{name}" if name else "") + "_results.csv"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        metrics, headers = self.compute(model)
        if output_path is not None and self.write_csv:
            path = Path(output_path) / self.csv_file
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists()
            with open(path, "a", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                if new:
                    writer.writerow(["epoch", "steps", *headers])
                writer.writerow([epoch, steps, *metrics.values()])
        if self.name and not self.primary_metric.startswith(f"{self.name}_"):
            self.primary_metric = f"{self.name}_{self.primary_metric}"  # as sentence-transformers renames it
        return {(f"{self.name}_{k}" if self.name else k): float(v) for k, v in metrics.items()}

    def _predict(self, model, pairs: list) -> np.ndarray:
        return model.predict(pairs, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar)

    def compute(self, model) -> tuple[dict[str, float], list[str]]:
        raise NotImplementedError


class _FromPairs(_Evaluator):
    def __init__(self, sentence_pairs: list, labels: list, name: str = "", **kwargs):
        self.sentence_pairs = check_pairs(sentence_pairs, what="sentence_pairs")
        self.labels = np.asarray(labels)
        if len(self.labels) != len(self.sentence_pairs):
            raise ValueError(f"Got {len(sentence_pairs)} pairs but {len(labels)} labels; give one label per pair.")
        super().__init__(name, **kwargs)

    @classmethod
    def from_input_examples(cls, examples: list[InputExample], **kwargs):
        """Build the evaluator from `InputExample`s (texts and labels)."""
        return cls([ex.texts for ex in examples], [ex.label for ex in examples], **kwargs)


class CrossEncoderCorrelationEvaluator(_FromPairs):
    """Pearson and Spearman of predicted scores against gold scores; primary metric `spearman`."""

    csv_stem, primary_metric = "CrossEncoderCorrelationEvaluator", "spearman"

    def __init__(self, sentence_pairs: list, scores: list, name: str = "", batch_size: int = 32, **kwargs):
        super().__init__(sentence_pairs, scores, name, batch_size=batch_size, **kwargs)

    def compute(self, model):
        m = STSCorrelation(keep_in_memory=True).compute(
            predictions=self._predict(model, self.sentence_pairs), references=self.labels
        )
        return {"pearson": m["pearson"], "spearman": m["spearman"]}, ["Pearson_Correlation", "Spearman_Correlation"]


class EmbeddingSimilarityEvaluator(_FromPairs):
    """Bi-encoders: Pearson and Spearman of the cosine of each pair's embeddings against gold scores, as
    sentence-transformers' evaluator of the same name (primary metric `spearman_cosine`)."""

    csv_stem, primary_metric = "similarity_evaluation", "spearman_cosine"

    def __init__(self, sentences1: list, sentences2: list, scores: list, batch_size: int = 16, name: str = "",
                 **kwargs):  # fmt: skip
        super().__init__(list(zip(sentences1, sentences2)), scores, name, batch_size=batch_size, **kwargs)

    @classmethod
    def from_input_examples(cls, examples: list[InputExample], **kwargs):
        """Build the evaluator from `InputExample`s (two texts and a score each)."""
        return cls([ex.texts[0] for ex in examples], [ex.texts[1] for ex in examples], [ex.label for ex in examples],
                   **kwargs)  # fmt: skip

    def compute(self, model):
        a, b = (list(texts) for texts in zip(*self.sentence_pairs))
        m = STSCorrelation(keep_in_memory=True).compute(
            predictions=model.similarity(a, b, batch_size=self.batch_size), references=self.labels
        )
        return {"pearson_cosine": m["pearson"], "spearman_cosine": m["spearman"]}, [
            "cosine_pearson",
            "cosine_spearman",
        ]


class CrossEncoderClassificationEvaluator(_FromPairs):
    """One-label models: best accuracy and F1 over thresholds, precision, recall, average precision (primary).
    Several labels: macro / micro / weighted F1 of the argmax (primary `f1_macro`)."""

    csv_stem = "CrossEncoderClassificationEvaluator"

    def __init__(self, sentence_pairs: list, labels: list, name: str = "", batch_size: int = 32, **kwargs):
        super().__init__(sentence_pairs, labels, name, batch_size=batch_size, **kwargs)
        self.primary_metric = "average_precision"

    def compute(self, model):
        scores, y = self._predict(model, self.sentence_pairs), self.labels
        if scores.ndim == 2:
            self.primary_metric = f"{self.name}_f1_macro" if self.name else "f1_macro"
            pred = scores.argmax(1)
            metrics = {f"f1_{avg}": f1_score(y, pred, average=avg) for avg in ("macro", "micro", "weighted")}
            return metrics, ["Macro_F1", "Micro_F1", "Weighted_F1"]
        acc_threshold, acc = best_threshold(scores, y, "accuracy", ties="highest")
        f1_at, f1 = best_threshold(scores, y, "f1", ties="highest")
        pred = scores >= f1_at
        precision = (pred & (y == 1)).sum() / max(pred.sum(), 1)
        recall = (pred & (y == 1)).sum() / max((y == 1).sum(), 1)
        metrics = {"accuracy": acc, "accuracy_threshold": acc_threshold, "f1": f1, "f1_threshold": f1_at,
                   "precision": precision, "recall": recall}  # fmt: skip
        metrics["average_precision"] = average_precision_score(y, scores)
        headers = ["Accuracy", "Accuracy_Threshold", "F1", "F1_Threshold", "Precision", "Recall", "Average_Precision"]
        return metrics, headers


class CrossEncoderRerankingEvaluator(_Evaluator):
    """MAP, MRR@k and NDCG@k (primary) over samples `{"query", "positive", "negative"}` (or `"documents"`).

    Positives are scored together with the negatives (or with the documents; a positive missing from them is added
    when `always_rerank_positives`), one list per query.
    """

    csv_stem = "CrossEncoderRerankingEvaluator"

    def __init__(self, samples, at_k: int = 10, always_rerank_positives: bool = True, name: str = "",
                 batch_size: int = 64, show_progress_bar: bool = False, write_csv: bool = True,
                 mrr_at_k: int | None = None):  # fmt: skip
        self.samples = list(samples.values()) if isinstance(samples, dict) else list(samples)
        self.at_k, self.always_rerank_positives = mrr_at_k or at_k, always_rerank_positives
        super().__init__(name, batch_size, show_progress_bar, write_csv)
        self.csv_file = self.csv_file.replace("_results.csv", f"_results_@{self.at_k}.csv")
        self.primary_metric = f"ndcg@{self.at_k}"

    def _candidates(self, sample: dict) -> tuple[list[str], list[int], list[int] | None, int]:
        """The documents to score, their relevance, (for `documents` samples) the relevance in the given order, and
        the number of positives."""
        for key in ("query", "positive"):
            if key not in sample:
                raise ValueError(f"CrossEncoderRerankingEvaluator requires a {key!r} key in each sample.")
        if ("negative" in sample) == ("documents" in sample):
            raise ValueError(
                "CrossEncoderRerankingEvaluator requires exactly one of 'negative' and 'documents' in each sample."
            )
        positive = [sample["positive"]] if isinstance(sample["positive"], str) else list(sample["positive"])
        if "negative" in sample:
            negatives = list(sample["negative"])
            return positive + negatives, [1] * len(positive) + [0] * len(negatives), None, len(positive)
        documents = list(sample["documents"])
        given = [int(d in positive) for d in documents]  # the first stage's order: the "base" metrics
        if self.always_rerank_positives:
            rest = [d for d in documents if d not in positive]
            return positive + rest, [1] * len(positive) + [0] * len(rest), given, len(positive)
        return documents, given, given, len(positive)

    def _list_metrics(self, relevant: list[int], scores: np.ndarray, positives: int) -> tuple[float, float, float]:
        """AP, MRR@k and NDCG@k of one list, as sentence-transformers computes them: positives missing from the list
        count (AP scaled by the share found; NDCG's ideal over all positives)."""
        found = sum(relevant)
        if not found:
            return 0.0, 0.0, 0.0
        positives = max(positives, found)
        top = np.argsort(scores)[::-1][: self.at_k]
        mrr = next((1 / (rank + 1) for rank, i in enumerate(top) if relevant[i]), 0.0)
        dcg = dcg_score([relevant], [scores], k=self.at_k) if len(relevant) > 1 else relevant[0]
        ndcg = dcg / np.sum(1 / np.log2(np.arange(2, min(positives, self.at_k) + 2)))
        return average_precision_score(relevant, scores) * found / positives, mrr, ndcg

    def compute(self, model):
        checked = [self._candidates(s) for s in self.samples]  # every sample checked before its query is read
        lists = [(s["query"], *c) for s, c in zip(self.samples, checked)]
        pairs = [[q, d] for q, docs, rel, _, _ in lists if sum(rel) for d in docs]
        scores = self._predict(model, pairs) if pairs else np.array([])
        rows, base, offset = [], [], 0
        for _, docs, rel, given, positives in lists:
            if given is not None:  # the documents as given, ranked first to last
                base.append(self._list_metrics(given, np.arange(len(given), 0, -1), positives))
            if not sum(rel):  # nothing relevant to find: counts as 0, as in sentence-transformers
                rows.append((0.0, 0.0, 0.0))
                continue
            rows.append(self._list_metrics(rel, scores[offset : offset + len(docs)], positives))
            offset += len(docs)
        names = ["map", f"mrr@{self.at_k}", f"ndcg@{self.at_k}"]
        metrics = dict(zip(names, np.mean(rows, axis=0)))
        if base:  # what reranking adds: the same metrics of the given order
            metrics |= {f"base_{name}": value for name, value in zip(names, np.mean(base, axis=0))}
        headers = ["MAP", f"MRR@{self.at_k}", f"NDCG@{self.at_k}"]
        return metrics, headers + [f"base {h}" for h in headers][: len(metrics) - 3]


# the names of sentence-transformers < 4, kept by sentence-transformers 6 as deprecated subclasses
CECorrelationEvaluator = CrossEncoderCorrelationEvaluator
CEBinaryAccuracyEvaluator = CEBinaryClassificationEvaluator = CEF1Evaluator = CrossEncoderClassificationEvaluator
CESoftmaxAccuracyEvaluator = CEClassificationEvaluator = CrossEncoderClassificationEvaluator
CERerankingEvaluator = CrossEncoderRerankingEvaluator
