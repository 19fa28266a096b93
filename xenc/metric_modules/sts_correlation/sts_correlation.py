"""Pearson and Spearman correlation of predicted and gold similarity scores (xenc, offline).

Load with `xenc.metrics.load_metric("sts_correlation")` or `evaluate.load("<this folder>")`.
"""

from xenc.metrics import STSCorrelation  # noqa: F401  (evaluate finds the Metric class in this module)
