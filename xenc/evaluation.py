"""The seed API users come from: `InputExample` and evaluators built from examples (as sentence-transformers)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checks import check_labels, check_pairs
from .metrics import nli_metrics, sts_metrics


@dataclass
class InputExample:
    """One training pair: `InputExample(texts=[a, b], label=0.8)`; `guid` is optional."""

    guid: str = ""
    texts: list[str] = field(default_factory=list)
    label: int | float = 0

    def __post_init__(self) -> None:
        check_pairs([self.texts], what=f"InputExample(guid={self.guid!r}).texts")


class _PairEvaluator:
    """Scores `sentence_pairs` with a CrossEncoder and logs metrics; `__call__` returns them as a dict."""

    metric = ""  # the primary metric's suffix

    def __init__(self, sentence_pairs: list, labels: list, name: str = "", batch_size: int = 32):
        self.sentence_pairs = check_pairs(sentence_pairs, what="sentence_pairs")
        self.labels = np.asarray(labels)
        if len(self.labels) != len(self.sentence_pairs):
            raise ValueError(f"Got {len(sentence_pairs)} pairs but {len(labels)} labels; give one label per pair.")
        self.name, self.batch_size = name, batch_size
        self.primary_metric = f"{name}_{self.metric}" if name else self.metric

    @classmethod
    def from_input_examples(cls, examples: list[InputExample], **kwargs):
        """Build the evaluator from `InputExample`s (texts and labels)."""
        return cls([ex.texts for ex in examples], [ex.label for ex in examples], **kwargs)

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        scores = model.predict(self.sentence_pairs, batch_size=self.batch_size, show_progress_bar=False)
        metrics = self.compute(scores)
        metrics = {f"{self.name}_{k}" if self.name else k: v for k, v in metrics.items()}
        if output_path is not None:
            self._append_csv(Path(output_path), epoch, steps, metrics)
        return metrics

    def compute(self, scores: np.ndarray) -> dict[str, float]:
        raise NotImplementedError

    def _append_csv(self, folder: Path, epoch: int, steps: int, metrics: dict[str, float]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{type(self).__name__}_{self.name or 'eval'}_results.csv"
        new = not path.exists()
        with open(path, "a", newline="") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(["epoch", "steps", *metrics])
            writer.writerow([epoch, steps, *metrics.values()])


class CECorrelationEvaluator(_PairEvaluator):
    """Pearson and Spearman of predicted scores against gold 0..1 scores; primary metric Spearman."""

    metric = "spearman"

    def __init__(self, sentence_pairs: list, scores: list, name: str = "", batch_size: int = 32):
        super().__init__(sentence_pairs, scores, name, batch_size)

    def compute(self, scores: np.ndarray) -> dict[str, float]:
        return sts_metrics(scores, self.labels)


class CEClassificationEvaluator(_PairEvaluator):
    """Accuracy, macro-F1 and per-class F1 of argmax predictions; primary metric accuracy."""

    metric = "accuracy"

    def __init__(self, sentence_pairs: list, labels: list, name: str = "", batch_size: int = 32):
        super().__init__(sentence_pairs, labels, name, batch_size)
        check_labels(list(self.labels), len(self.labels), int(self.labels.max()) + 1)

    def compute(self, scores: np.ndarray) -> dict[str, float]:
        if scores.ndim == 1:  # one-label model: a binary decision at 0.5
            preds = (scores > 0.5).astype(int)
            return nli_metrics(preds, self.labels, {0: "negative", 1: "positive"})
        names = {i: str(i) for i in range(scores.shape[1])}
        return nli_metrics(scores.argmax(-1), self.labels, names)


CESoftmaxAccuracyEvaluator = CEClassificationEvaluator  # name used by sentence-transformers < 4
CEBinaryClassificationEvaluator = CEClassificationEvaluator
