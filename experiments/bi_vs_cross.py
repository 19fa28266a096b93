"""The fair bi- vs cross-encoder comparison: the same base, training data, epochs and selection rule (best epoch on
dev), 3 seeds; beside them the zero-shot bi-encoder and what each costs to score 1,000 test pairs.

Usage (from the repository root):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python experiments/bi_vs_cross.py stsb
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python experiments/bi_vs_cross.py stsb --seeds 42 --runs runs

A comparison is a pair of recipes (`xenc reproduce NAME`): the cross-encoder recipe and its bi-encoder twin (NAME-bi).
Seeds whose `results.json` exists under `--runs/reproduce-NAME/seed-N` are kept, so a stopped run continues;
`--recorded NAME` reads a recipe's committed record instead of training it (its table line says "recorded"). Writes
benchmarks/results/bi_vs_cross_NAME.json and .md.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from xenc import BiEncoder, CrossEncoder
from xenc.data import load
from xenc.metrics import rerank_metrics, sts_metrics
from xenc.recipes import RECIPES, read_record, recipe_results, reproduce
from xenc.train import environment

# comparison -> (cross recipe, bi recipe, base, dataset, test metric)
COMPARISONS = {
    "stsb": ("stsb", "stsb-bi", "minilm-l6", "stsb", "spearman"),
    "stsb-mpnet": ("stsb-mpnet", "stsb-mpnet-bi", "mpnet-base", "stsb", "spearman"),
    "sick-e": ("sick-e", "sick-e-bi", "minilm-l6", "sick-e", "accuracy"),
    "trecqa": ("trecqa", "trecqa-bi", "minilm-l6", "trecqa", "map"),
}
N_COST = 1000
RECORDS = "benchmarks/results/recipes"


def zero_shot(base: str, test) -> dict[str, float]:
    """The untrained bi-encoder's cosine on the test split (no classes: a bi-encoder needs a head for SICK-E)."""
    scores = BiEncoder(base).similarity(test["sentence1"], test["sentence2"])
    if "qid" in test.column_names:
        return rerank_metrics(scores, np.asarray(test["label"]), np.asarray(test["qid"]))
    return sts_metrics(scores, test["label"]) if isinstance(test["label"][0], float) else {}


def cost_per_1000(cross_dir: str, bi_dir: str, test) -> dict[str, float]:
    """Seconds to score the first 1,000 test pairs: cross-encoder `predict` against bi-encoder `similarity`
    (embeds both sides, 2,000 texts); one warm-up call each, then one timed call each."""
    pairs = list(zip(test["sentence1"][:N_COST], test["sentence2"][:N_COST]))
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    cross, bi = CrossEncoder(cross_dir), BiEncoder(bi_dir)
    cross.predict(pairs[:64]), bi.similarity(a[:64], b[:64])
    start = time.perf_counter()
    cross.predict(pairs, batch_size=64)
    middle = time.perf_counter()
    bi.similarity(a, b, batch_size=64)
    scale = 1000 / len(pairs)
    return {"cross_s": (middle - start) * scale, "bi_s": (time.perf_counter() - middle) * scale}


def summary(results: list[dict], metric: str) -> dict:
    values = [r["metrics"][f"test_{metric}"] for r in results]
    dev = [r["metrics"][f"eval_{metric}"] for r in results]
    wall = float(np.mean([r["metrics"].get("wall_time_s", np.nan) for r in results]))  # older records lack it
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0  # one seed: no spread measured
    return {"test": values, "test_mean": float(np.mean(values)), "test_std": spread,
            "dev_mean": float(np.mean(dev)), "wall_s": wall}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comparison", choices=COMPARISONS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--runs", default="runs", help="folder of the recipe runs (reproduce-NAME/seed-N)")
    parser.add_argument("--recorded", nargs="*", default=[], metavar="RECIPE",
                        help=f"recipes read from their committed record in {RECORDS} instead of trained here (the "
                        "first seed's model must still be in --runs, for the cost column)")  # fmt: skip
    parser.add_argument("--table", action="store_true", help="only rewrite the .md table from the .json")
    args = parser.parse_args()
    stem = Path("benchmarks/results") / f"bi_vs_cross_{args.comparison}"
    if args.table:
        return stem.with_suffix(".md").write_text(table(json.loads(stem.with_suffix(".json").read_text())))
    cross, bi, base, dataset, metric = COMPARISONS[args.comparison]
    out = {"comparison": args.comparison, "base": base, "metric": metric, "seeds": args.seeds,
           "recipes": {name: RECIPES[name] for name in (cross, bi)}}  # fmt: skip
    for name in (cross, bi):
        folder = Path(args.runs) / f"reproduce-{name}"
        if name in args.recorded:
            results, provenance = read_record(name, RECORDS)
        else:
            reproduce(name, str(folder), seeds=args.seeds)
            results, provenance = recipe_results(name, folder)
        out[name] = {**summary(results, metric), "provenance": provenance}
        print(f"{name}: test {metric} {out[name]['test_mean']:.4f} ± {out[name]['test_std']:.4f}", flush=True)
    test = load(dataset, split="test")
    out["zero_shot"] = zero_shot(base, test)
    first = str(args.seeds[0])
    out["cost_per_1000_pairs"] = cost_per_1000(*(str(Path(args.runs) / f"reproduce-{n}" / f"seed-{first}")
                                                 for n in (cross, bi)), test)  # fmt: skip
    out["environment"] = environment()
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2))
    stem.with_suffix(".md").write_text(table(out))
    print(table(out))


def table(out: dict) -> str:
    cross, bi, *_ = COMPARISONS[out["comparison"]]
    metric, cost, zs = out["metric"], out["cost_per_1000_pairs"], out["zero_shot"].get(out["metric"])
    seeds = out["seeds"]
    lines = [f"### Bi- vs cross-encoder, {out['comparison']}, `{out['base']}`\n",
             f"| `{out['base']}`, {out['comparison']} test {metric} | "
             + " | ".join(f"seed {s}" for s in seeds) + " | mean ± std (dev) | s / 1,000 pairs |",
             "|---|" + "---|" * (len(seeds) + 2)]  # fmt: skip
    for name, encoder, seconds in ((bi, "bi-encoder", cost["bi_s"]), (cross, "cross-encoder", cost["cross_s"])):
        r = out[name]
        values = " | ".join(f"{v:.4f}" for v in r["test"]) + " | " * (len(seeds) - len(r["test"]))
        lines.append(f"| {encoder}, trained (`xenc reproduce {name}`) | {values} | {r['test_mean']:.4f} ± "
                     f"{r['test_std']:.4f} ({r['dev_mean']:.4f}) | {seconds:.1f} |")  # fmt: skip
    zero = "n/a (no class head)" if zs is None else f"{zs:.4f}"
    lines.append("| bi-encoder, zero-shot | " + " | " * len(seeds) + f"{zero} | |")
    lines.append(
        f"\nRuns: {out[bi]['provenance']}; {out[cross]['provenance']}. Machine: {out['environment']['cpu']}.\n"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
