"""Temperature scaling, ECE and decision thresholds on hand-built arrays."""

import numpy as np
import pytest

from xenc.calibration import (
    best_threshold,
    calibrated_probs,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
)


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    labels = np.array([0, 1, 0, 0])
    # bin of 0.9: accuracy 0.5, gap 0.4; bin of 0.6: accuracy 1.0, gap 0.4 -> ECE 0.4
    assert expected_calibration_error(probs, labels, n_bins=10) == pytest.approx(0.4)
    bins = reliability_bins(probs, labels, n_bins=10)
    assert bins["count"][9] == 2 and bins["count"][6] == 2 and bins["accuracy"][9] == 0.5


def test_temperature_scaling_never_raises_ece_or_nll_on_its_fit_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 2000)
    logits = rng.normal(size=(2000, 3))
    logits[np.arange(2000), labels] += 1.0
    logits *= 4.0  # over-confident
    t = fit_temperature(logits, labels)
    assert t > 1.5  # softens over-confident logits
    before, after = calibrated_probs(logits), calibrated_probs(logits, t)
    nll = [-np.log(p[np.arange(2000), labels]).mean() for p in (before, after)]
    assert nll[1] <= nll[0]
    assert expected_calibration_error(after, labels) < expected_calibration_error(before, labels)
    assert (after.argmax(1) == before.argmax(1)).all()  # accuracy is unchanged


def test_best_threshold_for_f1_and_accuracy():
    scores = np.array([0.1, 0.3, 0.35, 0.5, 0.8, 0.9])
    labels = np.array([0, 0, 1, 0, 1, 1])
    t, acc = best_threshold(scores, labels, metric="accuracy")
    # 0.325 and 0.65 both get 5 of 6 right; the first (lowest) threshold wins the tie
    assert (t, acc) == (pytest.approx(0.325), pytest.approx(5 / 6))
    t, f1 = best_threshold(scores, labels, metric="f1")
    # threshold 0.325 predicts 4 positives with 3 hits: F1 = 6/7, the best possible here
    assert t == pytest.approx(0.325) and f1 == pytest.approx(6 / 7)
    with pytest.raises(ValueError, match="use 'f1' or 'accuracy'"):
        best_threshold(scores, labels, metric="auc")
