"""MAP, MRR@10 and NDCG@10 of each query's candidate list (xenc, offline).

Load with `xenc.metrics.load_metric("rerank_metrics")` or `evaluate.load("<this folder>")`.
"""

from xenc.metrics import RerankMetrics  # noqa: F401  (evaluate finds the Metric class in this module)
