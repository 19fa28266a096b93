"""STSb test Spearman of bi-encoders (mean pooling, cosine, no training): the baseline a cross-encoder must beat.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/bi_encoder_stsb.py minilm-l6 mpnet-base
"""

import sys
import time

from xenc.bi_encoder import BiEncoder
from xenc.data import load
from xenc.metrics import sts_metrics
from xenc.train import cpu_description

if __name__ == "__main__":
    test = load("stsb", split="test")
    for name in sys.argv[1:] or ["minilm-l6"]:
        start = time.perf_counter()
        scores = BiEncoder(name).similarity(test["sentence1"], test["sentence2"], batch_size=32)
        metrics = sts_metrics(scores, test["label"])
        print(f"{name}: spearman {metrics['spearman']:.4f} pearson {metrics['pearson']:.4f} "
              f"({time.perf_counter() - start:.0f} s, {cpu_description()})")  # fmt: skip
