"""Bi-encoder training parity: xenc's `BiEncoderTrainer` (`xenc train --encoder bi`) against sentence-transformers'
own `SentenceTransformerTrainer`, the same loss, base, data, settings and seeds; STSb test Spearman of the cosine.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/bi_train_parity.py --seeds 42 43 44

Settings (both libraries): minilm-l6, cosine-similarity loss, batch 16, lr 2e-5, 10% warm-up, max length 256, the
last model of `--epochs` (no selection). Writes benchmarks/results/bi_parity_stsb.json and prints a table.
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import sentence_transformers
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

from xenc import BiEncoder, resolve_model, sts_metrics
from xenc.data import load
from xenc.train import environment, train_from_dict

SETTINGS = {"num_train_epochs": 1, "per_device_train_batch_size": 16, "learning_rate": 2e-5, "warmup_steps": 0.1}


def train_peer(seed: int, epochs: float, tmp: str) -> SentenceTransformer:
    model = SentenceTransformer(resolve_model("minilm-l6"))
    args = SentenceTransformerTrainingArguments(
        output_dir=tmp, **{**SETTINGS, "num_train_epochs": epochs}, seed=seed, save_strategy="no",
        eval_strategy="no", report_to="none", disable_tqdm=True,
    )  # fmt: skip
    train = load("stsb", split="train").select_columns(["sentence1", "sentence2", "label"])
    SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=CosineSimilarityLoss(model)).train()
    return model


def train_xenc(seed: int, epochs: float, tmp: str) -> BiEncoder:
    train_from_dict({"encoder": "bi", "dataset": "stsb", "model": "minilm-l6", **SETTINGS, "num_train_epochs": epochs,
                     "seed": seed, "output_dir": tmp, "eval_strategy": "no", "save_strategy": "no",
                     "load_best_model_at_end": False, "test_split": "none", "disable_tqdm": True})  # fmt: skip
    return BiEncoder(tmp)


def test_spearman(model, test) -> float:
    if isinstance(model, BiEncoder):
        scores = model.similarity(test["sentence1"], test["sentence2"])
    else:
        a, b = (model.encode(test[c], normalize_embeddings=True) for c in ("sentence1", "sentence2"))
        scores = (a * b).sum(-1)
    return sts_metrics(scores, test["label"])["spearman"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--out", default="benchmarks/results/bi_parity_stsb.json")
    args = parser.parse_args()
    test = load("stsb", split="test")
    runs = []
    for seed in args.seeds:
        for library, train in (("xenc", train_xenc), ("sentence-transformers", train_peer)):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                model = train(seed, args.epochs, tmp)
                seconds = time.perf_counter() - start
                runs.append({"library": library, "seed": seed, "test_spearman": test_spearman(model, test),
                             "train_wall_s": seconds})  # fmt: skip
            print(f"{library:22s} seed {seed}: test Spearman {runs[-1]['test_spearman']:.4f} ({seconds:.0f} s)")
    summary = {}
    for library in ("xenc", "sentence-transformers"):
        scores = [r["test_spearman"] for r in runs if r["library"] == library]
        summary[library] = {"mean": statistics.mean(scores), "std": statistics.stdev(scores) if len(scores) > 1 else 0}
    print("| library | STSb test Spearman (mean ± std) | seeds |\n|---|---|---|")
    for library, s in summary.items():
        print(f"| {library} | {s['mean']:.4f} ± {s['std']:.4f} | {len(args.seeds)} |")
    result = {"settings": {**SETTINGS, "num_train_epochs": args.epochs, "loss": "cosine", "model": "minilm-l6"},
              "runs": runs, "summary": summary, "environment": environment(),
              "sentence_transformers": sentence_transformers.__version__}  # fmt: skip
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
