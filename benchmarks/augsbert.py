"""AugSBERT in-domain on STSb: a trained cross-encoder (the teacher) labels new pairs of the STSb training sentences,
a bi-encoder trains on gold + silver; compared with the same bi-encoder trained on gold only (`xenc reproduce
stsb-bi`, the same seeds).

Usage (from the repository root; the teacher is a `xenc reproduce stsb-mpnet` run):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/augsbert.py \
        --teacher runs/reproduce-stsb-mpnet/seed-42 --sampler bm25 --k 3 --seeds 42 43 44

Students: the `stsb-bi` recipe (`stsb-mpnet-bi` for mpnet-base; lr 2e-5, batch 16, best epoch on dev) plus
`--extra_train_file` silver pairs and `--student_epochs` epochs. The silver pairs are cached in
`--runs/augsbert/STUDENT-SAMPLER-kK/silver.tsv` beside a record of what made them (teacher, sampler, k); a cache whose
record differs is made again. Writes benchmarks/results/augsbert_stsb_STUDENT_SAMPLER.json and .md.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from xenc import BiEncoder, CrossEncoder
from xenc.augment import SAMPLERS, label_pairs, sample_pairs
from xenc.data import load
from xenc.metrics import sts_metrics
from xenc.recipes import RECIPES, recipe_results, reproduce
from xenc.train import environment, main, parse_args


def silver_file(args, folder: Path) -> tuple[Path, dict]:
    """The labelled silver pairs (made, or read from a cache whose record matches) and how they were made."""
    teacher = Path(args.teacher).resolve()
    weights = teacher / "model.safetensors"
    made_by = {"teacher": str(teacher), "teacher_bytes": weights.stat().st_size, "sampler": args.sampler, "k": args.k,
               "teacher_backend": args.teacher_backend}  # fmt: skip
    record, tsv = folder / "silver.json", folder / "silver.tsv"
    if record.exists() and tsv.exists():
        cached = json.loads(record.read_text())
        if {k: cached.get(k) for k in made_by} == made_by:
            return tsv, cached
    train = load("stsb", split="train")
    gold = list(zip(train["sentence1"], train["sentence2"]))
    bi = BiEncoder(args.student) if args.sampler == "bi-encoder" else None
    pairs = sample_pairs(
        list(train["sentence1"]) + list(train["sentence2"]), args.sampler, args.k, bi_encoder=bi, exclude=gold
    )
    silver, seconds = label_pairs(CrossEncoder(args.teacher, backend=args.teacher_backend), pairs)
    folder.mkdir(parents=True, exist_ok=True)
    silver.to_pandas().to_csv(tsv, sep="\t", index=False)
    info = {**made_by, "pairs": len(pairs), "label_s": seconds, "pairs_per_s": len(pairs) / seconds}
    record.write_text(json.dumps(info, indent=2))
    return tsv, info


def teacher_test(teacher: str, backend: str) -> float:
    test = load("stsb", split="test")
    return sts_metrics(
        CrossEncoder(teacher, backend=backend).predict(list(zip(test["sentence1"], test["sentence2"]))), test["label"]
    )["spearman"]


def stats(results: list[dict]) -> dict:
    test = [r["metrics"]["test_spearman"] for r in results]
    return {"test": test, "mean": float(np.mean(test)), "std": float(np.std(test, ddof=1)) if len(test) > 1 else 0.0,
            "dev_mean": float(np.mean([r["metrics"]["eval_spearman"] for r in results])),
            "wall_s": float(np.mean([r["metrics"]["wall_time_s"] for r in results]))}  # fmt: skip


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True, help="a trained STSb cross-encoder folder")
    parser.add_argument("--sampler", choices=SAMPLERS, default="bm25")
    parser.add_argument("--k", type=int, default=3, help="silver pairs per sentence")
    parser.add_argument("--teacher_backend", choices=("torch", "openvino"), default="openvino",
                        help="openvino fp32 gives torch's scores (exact), faster on CPUs")  # fmt: skip
    parser.add_argument("--student", default="minilm-l6")
    parser.add_argument("--student_epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--runs", default="runs")
    args = parser.parse_args()
    folder = Path(args.runs) / "augsbert" / f"{args.student}-{args.sampler}-k{args.k}"
    tsv, silver = silver_file(args, folder)
    print(f"silver: {silver['pairs']} pairs labelled at {silver['pairs_per_s']:.0f} pairs/s", flush=True)
    gold_recipe = "stsb-mpnet-bi" if args.student == "mpnet-base" else "stsb-bi"
    recipe = [*RECIPES[gold_recipe], "--model", args.student, "--extra_train_file", str(tsv),
              "--num_train_epochs", str(args.student_epochs)]  # fmt: skip
    for seed in args.seeds:
        out = folder / f"seed-{seed}"
        if not (out / "results.json").exists():
            main(*parse_args([*recipe, "--seed", str(seed), "--output_dir", str(out)]))
    students = [json.loads((folder / f"seed-{s}" / "results.json").read_text()) for s in args.seeds]
    gold_dir = Path(args.runs) / f"reproduce-{gold_recipe}"
    reproduce(gold_recipe, str(gold_dir), seeds=args.seeds)
    gold, provenance = recipe_results(gold_recipe, gold_dir)
    teacher_spearman = teacher_test(args.teacher, args.teacher_backend)
    out = {"teacher": args.teacher, "teacher_test_spearman": teacher_spearman, "silver": silver,
           "student": args.student, "student_recipe": recipe, "student_epochs": args.student_epochs,
           "seeds": args.seeds, "gold_only": stats(gold), "gold_only_provenance": provenance,
           "gold_silver": stats(students), "environment": environment()}  # fmt: skip
    stem = Path("benchmarks/results") / f"augsbert_stsb_{args.student}_{args.sampler}"
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2))
    stem.with_suffix(".md").write_text(table(out))
    print(table(out))


def table(out: dict) -> str:
    g, s, silver = out["gold_only"], out["gold_silver"], out["silver"]
    return (
        f"### AugSBERT in-domain (STSb), `{out['student']}` student\n\n"
        f"| `{out['student']}` bi-encoder, STSb test Spearman | seeds | gold only (recipe) | gold + silver "
        f"({out['student_epochs']} epoch) | gain | teacher "
        "(test) | silver pairs | labelling |\n|---|---|---|---|---|---|---|---|\n"
        f"| {silver['sampler']}, k = {silver['k']} | {', '.join(map(str, out['seeds']))} | {g['mean']:.4f} ± "
        f"{g['std']:.4f} | {s['mean']:.4f} ± {s['std']:.4f} | {s['mean'] - g['mean']:+.4f} | "
        f"{out['teacher_test_spearman']:.4f} | {silver['pairs']:,} | {silver['pairs_per_s']:.0f} pairs/s, "
        f"{silver['label_s']:.0f} s |\n\nMachine: {out['environment']['cpu']}; "
        f"commit {out['environment']['commit']}.\n"
    )


if __name__ == "__main__":
    main_()
