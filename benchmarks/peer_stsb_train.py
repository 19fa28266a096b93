"""The peer's STSb recipe, re-measured: sentence-transformers' CrossEncoderTrainer on the same base weights.

Usage:
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/peer_stsb_train.py [--out FILE.json]

Recipe (sentence-transformers' training_stsbenchmark.py on minilm-l6): BCE, batch 16, 4 epochs, lr 8e-5, 10% warmup,
seed 42. Prints and writes test/dev Spearman and Pearson, the training wall time and the environment.
Needs sentence-transformers (installed with xenc[minilm]); xenc itself never imports it.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

from xenc import resolve_model, sts_metrics
from xenc.data import load
from xenc.train import environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/peer_stsb.json")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=float, default=4)
    args = parser.parse_args()
    stsb = load("stsb")
    model = CrossEncoder(resolve_model("minilm-l6"), num_labels=1)
    with tempfile.TemporaryDirectory() as tmp:
        train_args = CrossEncoderTrainingArguments(
            output_dir=tmp, num_train_epochs=args.epochs, per_device_train_batch_size=16, learning_rate=8e-5,
            warmup_steps=0.1, seed=args.seed, save_strategy="no", eval_strategy="no", report_to="none",
        )  # fmt: skip
        trainer = CrossEncoderTrainer(
            model=model, args=train_args, train_dataset=stsb["train"], loss=BinaryCrossEntropyLoss(model)
        )
        start = time.perf_counter()
        trainer.train()
        train_time = time.perf_counter() - start
    scores = {}
    for split in ("validation", "test"):
        pairs = list(zip(stsb[split]["sentence1"], stsb[split]["sentence2"]))
        scores[split] = sts_metrics(model.predict(pairs), stsb[split]["label"])
    result = {
        "recipe": "sentence-transformers CrossEncoderTrainer, BCE, batch 16, lr 8e-5, 10% warmup",
        "epochs": args.epochs, "seed": args.seed, "train_time_s": train_time,
        "test_spearman": scores["test"]["spearman"], "test_pearson": scores["test"]["pearson"],
        "dev_spearman": scores["validation"]["spearman"], **environment(),
    }  # fmt: skip
    import sentence_transformers

    result["sentence_transformers"] = sentence_transformers.__version__
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
