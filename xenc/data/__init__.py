"""Data: named datasets (`load`), pair tokenization (`tokenize_pairs`), batching (`pair_collator`,
`LengthBatchedDataset`)."""

from .batching import LengthBatchedDataset, length_batched_order
from .groups import RerankCollator, build_groups, flatten_groups, groups_from_pairs, tokenize_groups
from .loading import CATALOG, data_dir, dataset_task, load
from .mirror import ID2LABEL, LABEL2ID
from .pairs import pair_collator, tokenize_pairs

__all__ = [
    "CATALOG", "ID2LABEL", "LABEL2ID", "LengthBatchedDataset", "RerankCollator", "build_groups", "data_dir",
    "dataset_task", "flatten_groups", "groups_from_pairs", "length_batched_order", "load", "pair_collator",
    "tokenize_groups", "tokenize_pairs",
]  # fmt: skip
