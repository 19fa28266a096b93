"""Data: named datasets (`load`), pair tokenization (`tokenize_pairs`) and batching (`pair_collator`)."""

from .loading import CATALOG, data_dir, dataset_task, load
from .mirror import ID2LABEL, LABEL2ID
from .pairs import pair_collator, tokenize_pairs

__all__ = [
    "CATALOG", "ID2LABEL", "LABEL2ID", "data_dir", "dataset_task", "load", "pair_collator", "tokenize_pairs"
]  # fmt: skip
