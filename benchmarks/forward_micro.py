"""One model forward, timed alone: transformers' own forward against xenc's first-token scorer on one padded-free
batch (default 32 pairs x 256 tokens), to tell the model's arithmetic apart from everything around it.

Usage (from the repository root, nothing else running; run it in each virtual environment to compare
transformers versions, `--xenc` where xenc is installed):
    python benchmarks/forward_micro.py --model runs/reproduce-stsb-mpnet/seed-42 --xenc
    .venv-peer/bin/python benchmarks/forward_micro.py --model runs/reproduce-stsb-mpnet/seed-42
"""

import argparse
import platform
import time

import torch
import transformers
from transformers import AutoModelForSequenceClassification


def cpu() -> str:
    info = open("/proc/cpuinfo").read() if platform.system() == "Linux" else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    wanted = [f for f in ("amx_bf16", "avx512_bf16", "avx512_vnni") if f in flags]
    return f"{name or platform.processor()} ({' '.join(wanted) or 'no avx512_bf16 / vnni / amx'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--xenc", action="store_true", help="also time xenc's first-token scorer")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, model.config.vocab_size, (args.batch, args.length), generator=generator)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    forwards = {f"transformers {transformers.__version__} forward": lambda: model(**batch).logits}
    if args.xenc:
        from xenc.first_token import first_token_scorer

        scorer = first_token_scorer(model)
        forwards[f"xenc {type(scorer).__name__}"] = lambda: scorer(**batch)
    print(f"{cpu()}, {args.threads} threads; torch {torch.__version__}; {args.model}")
    with torch.inference_mode():
        for forward in forwards.values():
            forward()  # warm-up
        times = {name: [] for name in forwards}
        for _ in range(args.repeats):  # alternating, so a drift of the machine hits both alike
            for name, forward in forwards.items():
                start = time.perf_counter()
                forward()
                times[name].append(time.perf_counter() - start)
    for name, seconds in times.items():
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"{name}: {sorted(seconds)[len(seconds) // 2]:.2f} s per {args.batch} x {args.length} batch ({runs})")


if __name__ == "__main__":
    main()
