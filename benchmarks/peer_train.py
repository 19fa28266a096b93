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
from pathlib import Path

import sentence_transformers
from _bench import PEER_TASKS, peer_evaluate, train_peer

from xenc.data import load
from xenc.train import environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=PEER_TASKS, default="sts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=float, default=4)
    parser.add_argument("--out", default=None, help="default: benchmarks/results/peer_<dataset>.json")
    args = parser.parse_args()
    dataset, _, loss_name, lr = PEER_TASKS[args.task]
    data = load(dataset)
    model, train_metrics = train_peer(args.task, args.epochs, args.seed)
    train_time = train_metrics["train_time_s"]
    test, dev = peer_evaluate(model, data["test"], args.task), peer_evaluate(model, data["validation"], args.task)
    result = {
        "recipe": f"sentence-transformers CrossEncoderTrainer, {loss_name}, batch 16, lr {lr}, 10% warmup",
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
