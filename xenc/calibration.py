"""From scores to decisions: temperature scaling for class logits, ECE, and a decision threshold for 0..1 scores.

Fit both on a dev split and apply them unchanged to test.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T > 0 that minimises the negative log-likelihood of softmax(logits / T).

    Example:
        >>> t = fit_temperature(dev_logits, dev_labels)  # doctest: +SKIP
        >>> probs = softmax(test_logits / t, axis=-1)  # doctest: +SKIP
    """
    logits, labels = np.asarray(logits, dtype=float), np.asarray(labels, dtype=int)

    def nll(log_t: float) -> float:
        return -log_softmax(logits / np.exp(log_t), axis=-1)[np.arange(len(labels)), labels].mean()

    return float(np.exp(minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded").x))


def reliability_bins(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Per confidence bin: mean confidence, accuracy and count of the top-label predictions."""
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    confidence, hit = probs.max(-1), (probs.argmax(-1) == labels).astype(float)
    index = np.minimum((confidence * n_bins).astype(int), n_bins - 1)  # bins [0, 1/n), ..., [(n-1)/n, 1]
    count = np.bincount(index, minlength=n_bins)
    safe = np.maximum(count, 1)
    return {
        "confidence": np.bincount(index, confidence, n_bins) / safe,
        "accuracy": np.bincount(index, hit, n_bins) / safe,
        "count": count,
    }


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over confidence bins."""
    bins = reliability_bins(probs, labels, n_bins)
    return float(np.sum(bins["count"] * np.abs(bins["confidence"] - bins["accuracy"])) / bins["count"].sum())


def calibrated_probs(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / temperature)."""
    return softmax(np.asarray(logits, dtype=float) / temperature, axis=-1)


def best_threshold(
    scores: np.ndarray, labels: np.ndarray, metric: str = "f1", ties: str = "lowest"
) -> tuple[float, float]:
    """The threshold on 0..1 scores (positive when score >= threshold) that maximises F1 or accuracy.

    Candidates are the midpoints between consecutive distinct scores, so the result does not depend on a grid.
    Among equally good thresholds the lowest is returned, or the highest with `ties="highest"` (what
    sentence-transformers' evaluators report).

    Returns:
        (threshold, metric value at it).

    Example:
        >>> best_threshold(np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 0, 1, 1]))
        (0.5, 1.0)
    """
    if metric not in ("f1", "accuracy"):
        raise ValueError(f"metric={metric!r}; use 'f1' or 'accuracy'.")
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels).astype(bool)
    distinct = np.unique(scores)
    candidates = np.concatenate([[distinct[0]], (distinct[:-1] + distinct[1:]) / 2, [np.nextafter(distinct[-1], 2)]])
    pred = scores[None, :] >= candidates[:, None]  # (candidates, n)
    tp = (pred & labels).sum(1)
    if metric == "accuracy":
        values = (pred == labels).mean(1)
    else:
        values = 2 * tp / np.maximum(pred.sum(1) + labels.sum(), 1)
    best = int(np.argmax(values)) if ties == "lowest" else len(values) - 1 - int(np.argmax(values[::-1]))
    return float(candidates[best]), float(values[best])
