"""Accuracy, macro-F1 and per-class F1 of class ids (xenc, offline).

Load with `xenc.metrics.load_metric("nli_accuracy_f1")` or `evaluate.load("<this folder>")`.
"""

from xenc.metrics import NLIAccuracyF1  # noqa: F401  (evaluate finds the Metric class in this module)
