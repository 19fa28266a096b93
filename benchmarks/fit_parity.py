"""`CrossEncoder.fit` quality parity: the same seed-page script on xenc and on sentence-transformers, seed by seed.

Usage:
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/fit_parity.py --seeds 0 1 2 3 4

The script is sentence-transformers' STSb `fit` example cut small: `InputExample`s of the first 800 STSb training
pairs (score / 5), `DataLoader(shuffle=True, batch_size=16)`, 1 epoch, 10% warmup, lr 2e-5, base `minilm-l6`
(num_labels=1); scored by Spearman on the first 300 dev pairs. Only the `CrossEncoder` / `InputExample` imports
differ between the two libraries. `--seed S` seeds torch / numpy / random before the model is built (the new
classifier head is the only random part; both libraries' Trainers then reseed with 42). Prints a table per seed
and the mean +- std, and writes benchmarks/results/fit_parity.json.
"""

import argparse
import json
import math
import os
import statistics
import tempfile
import time

from scipy.stats import spearmanr
from torch.utils.data import DataLoader
from transformers import set_seed

from xenc import resolve_model
from xenc.data import load
from xenc.train import environment

TRAIN, DEV = 800, 300


def run_script(lib: str, seed: int, base: str, train, dev) -> float:
    """The example script; `lib` only picks the imports."""
    if lib == "xenc":
        from xenc import CrossEncoder, InputExample
    else:
        from sentence_transformers import InputExample
        from sentence_transformers.cross_encoder import CrossEncoder
    set_seed(seed)
    samples = [InputExample(texts=[a, b], label=s / 5.0) for a, b, s in zip(*train)]
    model = CrossEncoder(base, num_labels=1)
    loader = DataLoader(samples, shuffle=True, batch_size=16)
    warmup_steps = math.ceil(len(loader) * 1 * 0.1)
    model.fit(train_dataloader=loader, epochs=1, warmup_steps=warmup_steps, show_progress_bar=False)
    scores = model.predict(list(zip(dev[0], dev[1])), show_progress_bar=False)
    return float(spearmanr(scores, dev[2]).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--libs", nargs="+", default=["xenc", "sentence-transformers"])
    parser.add_argument("--base", default="minilm-l6")
    args = parser.parse_args()
    base = str(resolve_model(args.base))
    data = load("stsb")
    t, d = data["train"].select(range(TRAIN)), data["validation"].select(range(DEV))
    train = (t["sentence1"], t["sentence2"], [5 * x for x in t["label"]])  # the mirror's labels are already 0..1
    dev = (d["sentence1"], d["sentence2"], d["label"])
    results = {lib: {} for lib in args.libs}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # sentence-transformers' fit makes a checkpoints/ folder in the working directory
        try:
            for seed in args.seeds:
                for lib in args.libs:  # alternating, so a slow phase of the machine hits both
                    start = time.perf_counter()
                    results[lib][seed] = run_script(lib, seed, base, train, dev)
                    print(f"seed {seed}  {lib:22s} dev Spearman {results[lib][seed]:.4f}  "
                          f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
        finally:
            os.chdir(cwd)
    print("\n| library | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean ± std |")
    print("|---|" + "---|" * (len(args.seeds) + 1))
    for lib, by_seed in results.items():
        values = [by_seed[s] for s in args.seeds]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        cells = " | ".join(f"{v:.4f}" for v in values)
        print(f"| {lib} | {cells} | {statistics.mean(values):.4f} ± {spread:.4f} |")
    out = {"results": results, "base": args.base, "train_pairs": TRAIN, "dev_pairs": DEV, "environment": environment()}
    path = os.path.join(os.path.dirname(__file__), "results", "fit_parity.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
