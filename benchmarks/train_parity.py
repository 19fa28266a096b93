"""Training parity with sentence-transformers: the same script or settings on both libraries, seed by seed.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks train_parity cross --seeds 0 1 2 3 4
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks train_parity bi --seeds 42 43 44

`cross`: `CrossEncoder.fit` with sentence-transformers' STSb `fit` example cut small, only the `CrossEncoder` /
`InputExample` imports differ: the first 800 STSb training pairs (score / 5), `DataLoader(shuffle=True,
batch_size=16)`, 1 epoch, 10% warm-up, lr 2e-5, `minilm-l6` with a new one-label head (the seed is set before the
model is built: the head is the only random part); Spearman on the first 300 dev pairs. Writes
results/fit_parity.json.

`bi`: xenc's `BiEncoderTrainer` (`xenc train --encoder bi`) against the peer's `SentenceTransformerTrainer`: all STSb
training pairs, cosine-similarity loss, `minilm-l6`, batch 16, lr 2e-5, 10% warm-up, the last model of `--epochs`;
STSb test Spearman of the cosine. Writes results/bi_parity_stsb.json.

The libraries alternate seed by seed, so a slow phase of the machine hits both. Prints a table (mean ± std).
"""

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

from torch.utils.data import DataLoader
from transformers import set_seed

from xenc import BiEncoder, resolve_model, sts_metrics
from xenc.data import load
from xenc.train import environment, train_from_dict

LIBRARIES = ("xenc", "sentence-transformers")
BI_SETTINGS = {"per_device_train_batch_size": 16, "learning_rate": 2e-5, "warmup_steps": 0.1}


def fit_script(lib: str, seed: int, epochs: int) -> float:
    """The peer's STSb `fit` example, cut small; `lib` only picks the imports. Dev Spearman."""
    if lib == "xenc":
        from xenc import CrossEncoder, InputExample
    else:
        from sentence_transformers import InputExample
        from sentence_transformers.cross_encoder import CrossEncoder
    data = load("stsb")
    train, dev = data["train"].select(range(800)), data["validation"].select(range(300))
    set_seed(seed)
    # the example divides 0..5 scores by 5; the mirror's are already 0..1
    samples = [InputExample(texts=[a, b], label=float(y)) for a, b, y in zip(*(train[c] for c in train.column_names))]
    model = CrossEncoder(str(resolve_model("minilm-l6")), num_labels=1)
    loader = DataLoader(samples, shuffle=True, batch_size=16)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the peer's fit makes a checkpoints/ folder in the working directory
        try:
            model.fit(train_dataloader=loader, epochs=epochs, warmup_steps=math.ceil(len(loader) * epochs * 0.1),
                      show_progress_bar=False)  # fmt: skip
        finally:
            os.chdir(cwd)
    scores = model.predict(list(zip(dev["sentence1"], dev["sentence2"])), show_progress_bar=False)
    return sts_metrics(scores, dev["label"])["spearman"]


def bi_training(lib: str, seed: int, epochs: float) -> float:
    """Train the STSb bi-encoder with `lib`'s own trainer; test Spearman of the cosine."""
    test = load("stsb", split="test")
    with tempfile.TemporaryDirectory() as tmp:
        if lib == "xenc":
            train_from_dict({"encoder": "bi", "dataset": "stsb", "model": "minilm-l6", **BI_SETTINGS, "seed": seed,
                             "num_train_epochs": epochs, "output_dir": tmp, "eval_strategy": "no",
                             "save_strategy": "no", "load_best_model_at_end": False, "test_split": "none",
                             "disable_tqdm": True})  # fmt: skip
            scores = BiEncoder(tmp).similarity(test["sentence1"], test["sentence2"])
            return sts_metrics(scores, test["label"])["spearman"]
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from sentence_transformers import SentenceTransformerTrainingArguments as Arguments
        from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

        model = SentenceTransformer(str(resolve_model("minilm-l6")))
        args = Arguments(output_dir=tmp, **BI_SETTINGS, num_train_epochs=epochs, seed=seed, save_strategy="no",
                         eval_strategy="no", report_to="none", disable_tqdm=True)  # fmt: skip
        train = load("stsb", split="train").select_columns(["sentence1", "sentence2", "label"])
        loss = CosineSimilarityLoss(model)
        SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss).train()
        a, b = (model.encode(test[c], normalize_embeddings=True) for c in ("sentence1", "sentence2"))
        return sts_metrics((a * b).sum(-1), test["label"])["spearman"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("encoder", choices=("cross", "bi"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=float, default=1)
    args = parser.parse_args()
    train = fit_script if args.encoder == "cross" else bi_training
    if args.encoder == "cross" and args.epochs != int(args.epochs):
        parser.error("cross: --epochs must be a whole number (fit takes epochs); e.g. --epochs 1")
    runs = []
    for seed in args.seeds:
        for lib in LIBRARIES:
            start = time.perf_counter()
            epochs = int(args.epochs) if args.encoder == "cross" else args.epochs
            runs.append({"library": lib, "seed": seed, "spearman": train(lib, seed, epochs),
                         "wall_s": time.perf_counter() - start})  # fmt: skip
            print(f"seed {seed}  {lib:22s} Spearman {runs[-1]['spearman']:.4f}  ({runs[-1]['wall_s']:.0f} s)")
    summary = {}
    for lib in LIBRARIES:
        scores = [r["spearman"] for r in runs if r["library"] == lib]
        summary[lib] = {"mean": statistics.mean(scores), "std": statistics.stdev(scores) if len(scores) > 1 else 0}
    split = "dev (first 300 pairs)" if args.encoder == "cross" else "test"
    print(f"| library | STSb {split} Spearman (mean ± std) | seeds |\n|---|---|---|")
    for lib, s in summary.items():
        print(f"| {lib} | {s['mean']:.4f} ± {s['std']:.4f} | {len(args.seeds)} |")
    from importlib.metadata import version

    name = "fit_parity" if args.encoder == "cross" else "bi_parity_stsb"
    record = {"encoder": args.encoder, "split": split, "epochs": args.epochs, "runs": runs, "summary": summary,
              "environment": environment(), "sentence_transformers": version("sentence-transformers")}  # fmt: skip
    (Path(__file__).parent / "results" / f"{name}.json").write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
