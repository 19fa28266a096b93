"""The peer's recipes, re-measured: sentence-transformers' CrossEncoderTrainer on the same base weights and data.

Usage:
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/peer_train.py --task sts   # STSb, lr 8e-5
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/peer_train.py --task nli   # SICK-E, lr 5e-5

Recipe (sentence-transformers' training scripts, on minilm-l6): batch 16, 4 epochs, 10% warmup, seed 42; BCE for
STSb, cross-entropy for SICK-E. Prints and writes (benchmarks/results/peer_<dataset>.json) the test and dev scores,
the training wall time and the environment. Needs sentence-transformers (installed with xenc[minilm]); xenc itself
never imports it.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import sentence_transformers
from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, CrossEntropyLoss

from xenc import nli_metrics, resolve_model, sts_metrics
from xenc.data import load
from xenc.train import environment

TASKS = {  # task -> (dataset, num_labels, loss, learning rate)
    "sts": ("stsb", 1, BinaryCrossEntropyLoss, 8e-5),
    "nli": ("sick-e", 3, CrossEntropyLoss, 5e-5),
}


def evaluate(model: CrossEncoder, split, task: str) -> dict[str, float]:
    scores = model.predict(list(zip(split["sentence1"], split["sentence2"])))
    return sts_metrics(scores, split["label"]) if task == "sts" else nli_metrics(scores, split["label"])


def train_peer(task: str, epochs: float, seed: int, max_samples: int | None = None) -> tuple[CrossEncoder, dict]:
    """The peer's recipe for `task` on minilm-l6: the trained model and Trainer's metrics plus `train_time_s`."""
    dataset, num_labels, loss_cls, lr = TASKS[task]
    model = CrossEncoder(resolve_model("minilm-l6"), num_labels=num_labels)
    with tempfile.TemporaryDirectory() as tmp:
        train_args = CrossEncoderTrainingArguments(
            output_dir=tmp, num_train_epochs=epochs, per_device_train_batch_size=16, learning_rate=lr,
            warmup_steps=0.1, seed=seed, save_strategy="no", eval_strategy="no", report_to="none",
        )  # fmt: skip
        train = load(dataset)["train"]
        train = train.select(range(min(max_samples, len(train)))) if max_samples else train
        trainer = CrossEncoderTrainer(model=model, args=train_args, train_dataset=train, loss=loss_cls(model))
        start = time.perf_counter()
        metrics = trainer.train().metrics
    return model, {**metrics, "train_time_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, default="sts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=float, default=4)
    parser.add_argument("--out", default=None, help="default: benchmarks/results/peer_<dataset>.json")
    args = parser.parse_args()
    dataset, _, loss_cls, lr = TASKS[args.task]
    data = load(dataset)
    model, train_metrics = train_peer(args.task, args.epochs, args.seed)
    train_time = train_metrics["train_time_s"]
    test, dev = evaluate(model, data["test"], args.task), evaluate(model, data["validation"], args.task)
    result = {
        "recipe": f"sentence-transformers CrossEncoderTrainer, {loss_cls.__name__}, batch 16, lr {lr}, 10% warmup",
        "dataset": dataset, "epochs": args.epochs, "seed": args.seed, "train_time_s": train_time,
        **{f"test_{k}": v for k, v in test.items()}, **{f"dev_{k}": v for k, v in dev.items()},
        **environment(), "sentence_transformers": sentence_transformers.__version__,
    }  # fmt: skip
    out = Path(args.out or f"benchmarks/results/peer_{dataset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
