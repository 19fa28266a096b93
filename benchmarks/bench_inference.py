"""Inference speed, side by side: xenc `CrossEncoder.predict` vs sentence-transformers' vs a naive transformers loop.

Usage (from the repository root; about 4 minutes on 2 CPU cores):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/bench_inference.py
    ... bench_inference.py --inputs scifact --scifact-max-length 512        # long pairs, truncated at 512 tokens
    ... bench_inference.py --device cuda --dtype fp16                        # GPU: fp32 rows plus an fp16 row
    ... bench_inference.py --n 200 --reps 1                                  # a quick smoke run

Every contender runs in this one process on the same weights (default: the trained STSb model of
`xenc reproduce stsb`, else `minilm-l6` with a fresh one-label head) and the same pairs, one warm-up call each,
then `--reps` rounds in rotating order. Inputs: `stsb` = the 1379 STSb test pairs (max_length 128, none is cut);
`scifact` = the 339 SciFact test (query, title + abstract) pairs of the qrels (truncated at 256 or 512 tokens).
All use batch 32 and `longest_first` truncation (the peer's), so the scores must agree.

Columns: median pairs/s (min-max over the reps), the ratio to the peer, the largest |score difference| to the
peer, peak memory above the level before the call, the useful FLOP rate (2 x non-embedding parameters x tokens
+ attention, padding not counted) and its fraction of a measured fp32 matmul rate of the model's FFN shape, and
STSb test Spearman. Writes benchmarks/results/inference_<input>.{md,json}. Needs the `bench` extra
(sentence-transformers); xenc itself never imports it.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from _bench import TRAINED, load_pairs, markdown_table, rate_summary, report, time_alternating
from sentence_transformers import CrossEncoder as PeerCrossEncoder

from xenc import CrossEncoder, sts_metrics

COLUMNS = {
    "name": ("contender", "s"), "rate": ("pairs/s (median)", ".0f"), "min_max": ("min-max", "s"),
    "x_peer": ("x peer", ".2f"), "max_diff": ("max abs score diff to peer", ".1e"), "peak_mib": ("peak MiB", ".0f"),
    "gflops": ("GFLOP/s", ".0f"), "matmul_pct": ("% of fp32 matmul", ".0f"), "spearman": ("STSb test Spearman", ".4f"),
}  # fmt: skip


def naive_loop(model, tokenizer, pairs, batch_size: int, max_length: int, device: str) -> np.ndarray:
    """The plain transformers loop: input order, each batch padded to its longest pair."""
    scores = []
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            a, b = zip(*pairs[start : start + batch_size])
            batch = tokenizer(
                list(a), list(b), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            scores.append(torch.sigmoid(model(**batch.to(device)).logits.float()).squeeze(-1).cpu())
    return torch.cat(scores).numpy()


def matmul_gflops(dtype: torch.dtype, device: str, seconds: float = 1.0) -> float:
    """Measured rate of (4096 x 384) @ (384 x 1536), the shape of MiniLM's FFN on a batch of 4096 tokens."""
    a, b = torch.randn(4096, 384, device=device, dtype=dtype), torch.randn(384, 1536, device=device, dtype=dtype)
    a @ b
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * 4096 * 384 * 1536 * n / (time.perf_counter() - start) / 1e9


def pair_flops(model: torch.nn.Module, lengths: np.ndarray) -> float:
    """Useful FLOPs of one forward pass over pairs of these token counts: 2 x params x tokens + attention."""
    params = sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)
    cfg = model.config
    return float(2 * params * lengths.sum() + 4 * cfg.num_hidden_layers * cfg.hidden_size * (lengths**2).sum())


def bench_input(name: str, args: argparse.Namespace, matmul: float) -> None:
    pairs, labels = load_pairs(name, args.n)
    max_length = 128 if name == "stsb" else args.scifact_max_length
    ours = CrossEncoder(args.model, max_length=max_length, device=args.device)
    fast = CrossEncoder(args.model, max_length=max_length, device=args.device, precision=args.dtype)
    peer = PeerCrossEncoder(args.model, max_length=max_length, device=args.device)
    ours.model.eval()
    kw = {"batch_size": 32, "show_progress_bar": False}
    contenders = {
        "sentence-transformers CrossEncoder.predict (peer)": lambda: peer.predict(pairs, **kw),
        "naive transformers loop": lambda: naive_loop(ours.model, ours.tokenizer, pairs, 32, max_length, args.device),
        "xenc CrossEncoder.predict": lambda: ours.predict(pairs, **kw),
    }
    if args.dtype != "fp32":
        contenders[f"xenc CrossEncoder.predict, precision='{args.dtype}'"] = lambda: fast.predict(pairs, **kw)
    runs = time_alternating(contenders, args.reps, args.device)
    lengths = np.array([len(ids) for ids in ours.tokenizer(*map(list, zip(*pairs)), truncation=True,
                                                           max_length=max_length)["input_ids"]])  # fmt: skip
    flops, peer_name = pair_flops(ours.model, lengths), next(iter(runs))
    peer_rate = rate_summary(runs[peer_name]["times"], len(pairs))["rate"]
    rows = []
    for contender, run in runs.items():
        row = {"name": contender, **rate_summary(run["times"], len(pairs), peer_rate), "peak_mib": run["peak_mib"]}
        row["max_diff"] = float(np.abs(run["output"] - runs[peer_name]["output"]).max())
        row["gflops"] = flops / len(pairs) * row["rate"] / 1e9
        row["matmul_pct"] = 100 * row["gflops"] / matmul
        row["spearman"] = sts_metrics(run["output"], labels)["spearman"] if labels is not None else None
        rows.append(row)
    title = (f"Inference, {name} ({len(pairs)} pairs, {lengths.mean():.1f} tokens on average, max_length "
             f"{max_length}), {args.device}, batch 32, {args.reps} reps; model {args.model_name}; fp32 matmul "
             f"{matmul:.0f} GFLOP/s")  # fmt: skip
    report(f"inference_{name}_{args.device}", title, markdown_table(rows, COLUMNS), {"rows": rows})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", nargs="+", choices=("stsb", "scifact"), default=["stsb", "scifact"])
    parser.add_argument("--scifact-max-length", type=int, choices=(256, 512), default=256)
    parser.add_argument("--model", default=None, help="default: runs/reproduce-stsb/seed-42, else minilm-l6")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16", "fp16"), default="bf16", help="xenc's fast-path row")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--n", type=int, default=None, help="first n pairs of each input (smoke runs)")
    args = parser.parse_args()
    args.model_name = args.model = args.model or (str(TRAINED) if (TRAINED / "model.safetensors").exists() else None)
    if args.model is None:  # one saved copy, so that every contender gets the same fresh head
        args.model, args.model_name = tempfile.mkdtemp(), "minilm-l6 + an untrained one-label head"
        CrossEncoder("minilm-l6", num_labels=1).save_pretrained(args.model, overwrite=True)
    matmul = matmul_gflops(torch.float32, args.device)
    for name in args.inputs:
        bench_input(name, args, matmul)


if __name__ == "__main__":
    main()
