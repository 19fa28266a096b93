"""AugSBERT on STSb, in-domain or transferred to an STS12-16 set.

In-domain: a trained cross-encoder (the teacher) labels new pairs of the STSb training sentences, a bi-encoder
trains on gold + silver; compared with the same bi-encoder trained on gold only (`xenc reproduce stsb-bi`, the same
seeds).

Usage (from the repository root; the teacher is a `xenc reproduce stsb-mpnet` run):
    XENC_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python experiments/augsbert.py \
        --teacher runs/reproduce-stsb-mpnet/seed-42 --sampler bm25 --k 3 --seeds 42 43 44

Students: the `stsb-bi` recipe (`stsb-mpnet-bi` for mpnet-base; lr 2e-5, batch 16, best epoch on dev) plus
`--extra_train_file` silver pairs and `--student_epochs` epochs. The silver pairs are cached in
`--runs/augsbert/STUDENT-SAMPLER-kK/silver.tsv` beside a record of what made them (teacher, sampler, k); a cache whose
record differs is made again. Writes benchmarks/results/augsbert_stsb_STUDENT_SAMPLER.json and .md.

Domain transfer (`--target sts16`): the target's pairs that STSb does not hold are halved (seed 0); the teacher
labels the first half's pairs and `--sampler` pairs of its sentences (their gold is never read); the zero-shot and
the `stsb-bi` bi-encoders train one epoch on that silver (batch 16, lr 2e-5, 10% warm-up); every model is scored on
the second half's gold. `--sampled_only`: the silver leaves out the pool's own pairs (only the sampler's pairs).
Writes benchmarks/results/augsbert_transfer_TARGET_STUDENT_SAMPLER[_sampled-only].json and .md.

Scarce gold (`--gold_pairs 500 1500`): the first N pairs of STSb train shuffled once (seed 0) are the gold; the
teacher labels `--sampler` pairs of their sentences; each seed's student trains from the base on gold only (4 epochs,
a dev evaluation each) and on gold + silver (`--student_epochs`, one each quarter and at the end), through
`BiEncoder.fit` (batch 16, lr 2e-5, 10% warm-up), keeping the best. `--teacher_base mpnet-base`: instead of
`--teacher`, each N gets its own teacher, a cross-encoder trained from that base on the same N gold pairs only (the
paper's setting: `CrossEncoder.fit`, 3 epochs, batch 16, lr 3e-5, 10% warm-up, best epoch on dev). Writes
benchmarks/results/augsbert_stsb_scarce_STUDENT_SAMPLER[_own-teacher].json and .md.

Caches: the silver is made again when its record (teacher path, size and SHA-256, sampler, k, ...) differs,
and then every student trained on the old silver in its folder is removed.
"""

import argparse
import functools
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset
from torch.utils.data import DataLoader
from transformers import set_seed

from xenc import BiEncoder, CrossEncoder, EmbeddingSimilarityEvaluator, InputExample, resolve_model
from xenc.augment import SAMPLERS, label_pairs, sample_pairs
from xenc.data import load
from xenc.metrics import sts_metrics
from xenc.recipes import RECIPES, recipe_results, reproduce
from xenc.train import environment, main, parse_args


def silver_file(args, folder: Path, sentences: list[str], exclude: list, keep: list = (),
                teacher: str | None = None) -> tuple[Path, dict]:  # fmt: skip
    """The labelled silver pairs (`keep` + pairs sampled from `sentences`, none in `exclude`), made or read from a
    cache whose record matches (teacher, its size and SHA-256, sampler, k, target, gold pairs, pool pairs kept); a
    remade silver removes the students trained on the old one (`silver-*`, `seed-*`, `*-seed-*` in `folder`)."""
    teacher = Path(teacher or args.teacher).resolve()
    weights = teacher / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()  # a retrained teacher in the same folder differs here
    made_by = {"teacher": str(teacher), "teacher_bytes": weights.stat().st_size, "teacher_sha256": digest,
               "sampler": args.sampler, "k": args.k,
               "teacher_backend": args.teacher_backend, "target": args.target,
               "gold_pairs": len(exclude) if getattr(args, "gold_pairs", None) else None}  # fmt: skip
    if getattr(args, "sampled_only", False):
        made_by["pool_pairs_kept"] = False
    record, tsv = folder / "silver.json", folder / "silver.tsv"
    if record.exists() and tsv.exists():
        cached = json.loads(record.read_text())
        if {k: cached.get(k) for k in made_by} == made_by:
            return tsv, cached
    for student in [*folder.glob("silver-*"), *folder.glob("seed-*"), *folder.glob("*-seed-*")]:
        shutil.rmtree(student)  # trained on a silver that is no longer there
    bi = BiEncoder(args.student) if args.sampler == "bi-encoder" else None
    pairs = [*keep, *sample_pairs(sentences, args.sampler, args.k, bi_encoder=bi, exclude=[*exclude, *keep])]
    silver, seconds = label_pairs(CrossEncoder(str(teacher), backend=args.teacher_backend), pairs)
    folder.mkdir(parents=True, exist_ok=True)
    silver.to_pandas().to_csv(tsv, sep="\t", index=False)
    info = {**made_by, "pairs": len(pairs), "label_s": seconds, "pairs_per_s": len(pairs) / seconds}
    record.write_text(json.dumps(info, indent=2))
    return tsv, info


def cross_spearman(teacher: str, backend: str, data) -> float:
    """Spearman of a cross-encoder's scores of `data`'s pairs against their gold."""
    scores = CrossEncoder(teacher, backend=backend).predict(list(zip(data["sentence1"], data["sentence2"])))
    return sts_metrics(scores, data["label"])["spearman"]


@functools.cache  # one teacher serves every N of a scarce-gold run
def teacher_test(teacher: str, backend: str) -> float:
    return cross_spearman(teacher, backend, load("stsb", split="test"))


def bi_spearman(path, data) -> float:
    """Spearman of a bi-encoder's cosine on `data`'s pairs against their gold."""
    scores = BiEncoder(str(path)).similarity(data["sentence1"], data["sentence2"])
    return sts_metrics(scores, data["label"])["spearman"]


def train_bi(start: str, examples: list, epochs: int, seed: int, out: Path, dev=None) -> None:
    """A bi-encoder from `start` trained on `examples` (batch 16, lr 2e-5, 10% warm-up) and saved to `out`: the last
    model, or with `dev` the best of its dev evaluations (one each epoch; with fewer than 4 epochs, one each quarter
    and at the end)."""
    set_seed(seed)
    loader = DataLoader(examples, shuffle=True, batch_size=16)
    steps = len(loader) * epochs
    evaluator = None if dev is None else EmbeddingSimilarityEvaluator(dev["sentence1"], dev["sentence2"], dev["label"])
    BiEncoder(start).fit(loader, evaluator, epochs, warmup_steps=steps // 10, optimizer_params={"lr": 2e-5},
                         evaluation_steps=steps // 4 if dev is not None and epochs < 4 else 0, output_path=str(out),
                         show_progress_bar=False)  # fmt: skip


def stats(results: list[dict]) -> dict:
    test = [r["metrics"]["test_spearman"] for r in results]
    return {"test": test, "mean": float(np.mean(test)), "std": float(np.std(test, ddof=1)) if len(test) > 1 else None,
            "dev_mean": float(np.mean([r["metrics"]["eval_spearman"] for r in results])),
            "wall_s": float(np.mean([r["metrics"]["wall_time_s"] for r in results]))}  # fmt: skip


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", help="a trained STSb cross-encoder folder")
    parser.add_argument("--teacher_base", help="with --gold_pairs: train each N's teacher from this base on its gold")
    parser.add_argument("--sampler", choices=SAMPLERS, default="bm25")
    parser.add_argument("--k", type=int, default=3, help="silver pairs per sentence")
    parser.add_argument("--teacher_backend", choices=("torch", "openvino"), default="openvino",
                        help="openvino fp32 gives torch's scores (exact), faster on CPUs")  # fmt: skip
    parser.add_argument("--student", default="minilm-l6")
    parser.add_argument("--student_epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--runs", default="runs")
    parser.add_argument("--target", choices=[f"sts{y}" for y in range(12, 17)],
                        help="domain transfer to this STS set instead of in-domain STSb")  # fmt: skip
    parser.add_argument("--sampled_only", action="store_true", help="transfer: silver without the pool's own pairs")
    parser.add_argument("--gold_pairs", type=int, nargs="+", help="in-domain with only N gold pairs (each N)")
    args = parser.parse_args()
    if args.gold_pairs and args.target:
        parser.error("--gold_pairs is in-domain; --target is domain transfer: use one of them")
    if args.sampled_only and not args.target:
        parser.error("--sampled_only drops the target pool's own pairs: it needs --target")
    if args.teacher_base and not args.gold_pairs:
        parser.error("--teacher_base trains a teacher on the scarce gold: it needs --gold_pairs")
    if not args.teacher and not args.teacher_base:
        parser.error("name the teacher: --teacher FOLDER (or, with --gold_pairs, --teacher_base BASE)")
    if args.target:
        return transfer(args)
    if args.gold_pairs:
        return scarce(args)
    in_domain(args)


def in_domain(args) -> None:
    """In-domain on all of STSb train: the `stsb-bi` recipe (gold only, its seeds) against gold + the teacher's
    silver."""
    folder = Path(args.runs) / "augsbert" / f"{args.student}-{args.sampler}-k{args.k}"
    train = load("stsb", split="train")
    gold = list(zip(train["sentence1"], train["sentence2"]))
    tsv, silver = silver_file(args, folder, list(train["sentence1"]) + list(train["sentence2"]), exclude=gold)
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
    gold, provenance = recipe_results(gold_recipe, gold_dir, seeds=args.seeds)  # the students' seeds only
    teacher_spearman = teacher_test(args.teacher, args.teacher_backend)
    out = {"teacher": args.teacher, "teacher_test_spearman": teacher_spearman, "silver": silver,
           "student": args.student, "student_recipe": recipe, "student_epochs": args.student_epochs,
           "seeds": args.seeds, "gold_only": stats(gold), "gold_only_provenance": provenance,
           "gold_silver": stats(students), "environment": environment()}  # fmt: skip
    stem = Path("benchmarks/results") / f"augsbert_stsb_{args.student}_{args.sampler}"
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2))
    stem.with_suffix(".md").write_text(table(out))
    print(table(out))


def examples_of(rows) -> list[InputExample]:
    return [InputExample(texts=[a, b], label=float(y)) for a, b, y in zip(rows["sentence1"], rows["sentence2"],
                                                                           rows["label"])]  # fmt: skip


def fit_student(args, examples: list, epochs: int, seed: int, out: Path) -> dict:
    """Train `args.student` from its base on `examples` (best of 4 dev evaluations); STSb dev and test Spearman."""
    dev, test = load("stsb", split="validation"), load("stsb", split="test")
    record = out / "student.json"
    if record.exists() and json.loads(record.read_text()).get("epochs", epochs) != epochs:  # older records: as asked
        shutil.rmtree(out)
    if not record.exists():
        start = time.perf_counter()
        train_bi(str(resolve_model(args.student)), examples, epochs, seed, out, dev)
        record.write_text(json.dumps({"wall_time_s": time.perf_counter() - start, "epochs": epochs}))
    wall = json.loads(record.read_text())["wall_time_s"]
    return {"metrics": {"test_spearman": bi_spearman(out, test), "eval_spearman": bi_spearman(out, dev),
                        "wall_time_s": wall}}  # fmt: skip


def scarce(args) -> None:
    """In-domain with N gold pairs: gold only against gold + the teacher's silver, for each N."""
    shuffled, rows = load("stsb", split="train").shuffle(seed=0), {}
    variant = f"-{args.teacher_base}-teacher" if args.teacher_base else ""
    for n in args.gold_pairs:
        gold = shuffled.select(range(n))
        base = Path(args.runs) / "augsbert" / f"scarce{n}-{args.student}-{args.sampler}-k{args.k}"
        folder = base.with_name(base.name + variant)
        teacher = own_teacher(args.teacher_base, gold, folder / "teacher") if args.teacher_base else args.teacher
        pairs = list(zip(gold["sentence1"], gold["sentence2"]))
        sentences = list(gold["sentence1"]) + list(gold["sentence2"])
        tsv, silver = silver_file(args, folder, sentences, exclude=pairs, teacher=teacher)
        both = examples_of(gold) + examples_of(pd.read_csv(tsv, sep="\t", keep_default_na=False))
        runs = {"gold only": [fit_student(args, examples_of(gold), 4, s, base / f"gold-{s}") for s in args.seeds],
                "gold + silver": [fit_student(args, both, args.student_epochs, s, folder / f"silver-{s}")
                                  for s in args.seeds]}  # fmt: skip
        rows[n] = {"silver": silver, "teacher_test_spearman": teacher_test(teacher, args.teacher_backend),
                   **{k: stats(v) for k, v in runs.items()}}  # fmt: skip
        print(n, {k: round(v["mean"], 4) for k, v in rows[n].items() if k in runs}, flush=True)
    out = {"teacher": args.teacher or f"{args.teacher_base}, trained on each N's gold", "student": args.student,
           "student_epochs": args.student_epochs, "seeds": args.seeds, "rows": rows,
           "environment": environment()}  # fmt: skip
    stem = Path("benchmarks/results") / f"augsbert_stsb_scarce_{args.student}_{args.sampler}"
    stem = stem.with_name(stem.name + ("_own-teacher" if args.teacher_base else ""))
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2))
    stem.with_suffix(".md").write_text(scarce_table(out))
    print(scarce_table(out))


def own_teacher(base: str, gold, out: Path) -> str:
    """A cross-encoder trained from `base` on these gold pairs only (3 epochs, best on STSb dev); its folder."""
    if not (out / "model.safetensors").exists():
        from xenc.evaluation import CrossEncoderCorrelationEvaluator

        set_seed(0)
        dev = load("stsb", split="validation")
        loader = DataLoader(examples_of(gold), shuffle=True, batch_size=16)
        evaluator = CrossEncoderCorrelationEvaluator(list(zip(dev["sentence1"], dev["sentence2"])), dev["label"])
        CrossEncoder(str(resolve_model(base)), num_labels=1).fit(
            loader, evaluator, epochs=3, warmup_steps=len(loader) * 3 // 10, optimizer_params={"lr": 3e-5},
            output_path=str(out), show_progress_bar=False)  # fmt: skip
    return str(out)


def scarce_table(out: dict) -> str:
    epochs = f"{out['student_epochs']} epoch{'s' if out['student_epochs'] > 1 else ''}"
    lines = [f"### AugSBERT in-domain with scarce gold (STSb), `{out['student']}` student\n",
             f"| gold pairs | `{out['student']}` gold only (4 epochs) | gold + silver ({epochs}) | gain "
             "| teacher (test) | silver pairs | labelling |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for n, row in out["rows"].items():
        g, s, silver = row["gold only"], row["gold + silver"], row["silver"]
        teacher = row.get("teacher_test_spearman", out.get("teacher_test_spearman"))
        labelling = f"{silver['pairs_per_s']:.0f} pairs/s, {silver['label_s']:.0f} s"
        lines.append(f"| {int(n):,} | {spread(g)} | {spread(s)} | {s['mean'] - g['mean']:+.4f} | {teacher:.4f} "
                     f"| {silver['pairs']:,} | {labelling} |")  # fmt: skip
    env, given = out["environment"], "trained on each N's gold" not in out["teacher"]
    return "\n".join(lines) + (
        f"\n\nSTSb test Spearman, seeds {', '.join(map(str, out['seeds']))}; teacher {out['teacher']}"
        f"{' (trained on all 5,749 gold pairs)' if given else ''}; commit {env['commit']}; {env['cpu']}.\n"
    )


def spread(row: dict) -> str:
    """Mean ± std over seeds, or the one seed's score said as such."""
    return f"{row['mean']:.4f} ± {row['std']:.4f}" if row["std"] is not None else f"{row['mean']:.4f} (one seed)"


def table(out: dict) -> str:
    g, s, silver = out["gold_only"], out["gold_silver"], out["silver"]
    return (
        f"### AugSBERT in-domain (STSb), `{out['student']}` student\n\n"
        f"| `{out['student']}` bi-encoder, STSb test Spearman | seeds | gold only (recipe) | gold + silver "
        f"({out['student_epochs']} epoch) | gain | teacher "
        "(test) | silver pairs | labelling |\n|---|---|---|---|---|---|---|---|\n"
        f"| {silver['sampler']}, k = {silver['k']} | {', '.join(map(str, out['seeds']))} | {spread(g)} | "
        f"{spread(s)} | {s['mean'] - g['mean']:+.4f} | "
        f"{out['teacher_test_spearman']:.4f} | {silver['pairs']:,} | {silver['pairs_per_s']:.0f} pairs/s, "
        f"{silver['label_s']:.0f} s |\n\nMachine: {out['environment']['cpu']}; "
        f"commit {out['environment']['commit']}.\n"
    )


def target_halves(name: str) -> tuple[Dataset, Dataset]:
    """The target set's pairs that STSb does not hold (any split; STSb was drawn from STS12-16), deduplicated,
    shuffled once (seed 0) and halved: the first half is the unlabelled pool, the second half's gold the test."""
    stsb = load("stsb")
    seen = {frozenset(p) for split in stsb.values() for p in zip(split["sentence1"], split["sentence2"])}
    data = load(name, split="test")
    keep, kept = [], set()
    for i, pair in enumerate(zip(data["sentence1"], data["sentence2"])):
        key = frozenset(pair)
        if key not in seen and key not in kept and len(key) == 2:
            kept.add(key)
            keep.append(i)
    data = data.select(keep).shuffle(seed=0)
    half = len(data) // 2
    return data.select(range(half)), data.select(range(half, len(data)))


def transfer(args) -> None:
    """Domain transfer: the STSb teacher labels the target's unlabelled pool (its own pairs, unless `--sampled_only`,
    and `--sampler` pairs of its sentences); students fine-tune one epoch on that silver only; every model is scored
    on the other half's gold."""
    pool, test = target_halves(args.target)
    variant = f"{args.sampler}_sampled-only" if args.sampled_only else args.sampler
    folder = Path(args.runs) / "augsbert" / f"transfer-{args.target}-{args.student}-{variant}-k{args.k}"
    sentences = list(pool["sentence1"]) + list(pool["sentence2"])
    own = list(zip(pool["sentence1"], pool["sentence2"]))
    tsv, silver = silver_file(args, folder, sentences, exclude=own, keep=() if args.sampled_only else own)
    print(f"{args.target}: pool {len(pool)}, test {len(test)}; silver {silver['pairs']} pairs", flush=True)
    gold_dirs = [Path(args.runs) / "reproduce-stsb-bi" / f"seed-{s}" for s in args.seeds]
    reproduce("stsb-bi", str(gold_dirs[0].parent), seeds=args.seeds)
    rows = {"bi-encoder, zero-shot": [bi_spearman(resolve_model(args.student), test)],
            "bi-encoder, STSb (`stsb-bi`)": [bi_spearman(d, test) for d in gold_dirs]}  # fmt: skip
    examples = examples_of(pd.read_csv(tsv, sep="\t", keep_default_na=False))
    for start, name in ((resolve_model(args.student), "zero-shot"), (None, "STSb")):
        rows[f"bi-encoder, {name} + target silver"] = []
        for seed, gold_dir in zip(args.seeds, gold_dirs):
            out = folder / f"{name}-seed-{seed}"
            if not (out / "model.safetensors").exists():
                train_bi(str(start or gold_dir), examples, 1, seed, out)
            rows[f"bi-encoder, {name} + target silver"].append(bi_spearman(out, test))
    rows["teacher (cross-encoder)"] = [cross_spearman(args.teacher, args.teacher_backend, test)]
    out = {"target": args.target, "pool_pairs": len(pool), "test_pairs": len(test), "teacher": args.teacher,
           "silver": silver, "student": args.student, "seeds": args.seeds, "environment": environment(),
           "rows": {k: {"test": v, "mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0}
                    for k, v in rows.items()}}  # fmt: skip
    stem = Path("benchmarks/results") / f"augsbert_transfer_{args.target}_{args.student}_{variant}"
    stem.with_suffix(".json").write_text(json.dumps(out, indent=2))
    stem.with_suffix(".md").write_text(transfer_table(out))
    print(transfer_table(out))


def transfer_table(out: dict) -> str:
    silver = out["silver"]
    lines = [
        f"### AugSBERT domain transfer: STSb -> {out['target']} (pairs not in STSb), `{out['student']}`\n",
        f"| {out['target']} test half ({out['test_pairs']} pairs), Spearman | runs | mean ± std |",
        "|---|---|---|",
    ]
    for name, row in out["rows"].items():
        lines.append(f"| {name} | {len(row['test'])} | {row['mean']:.4f} ± {row['std']:.4f} |")
    env = out["environment"]
    lines.append(
        f"\nSilver: {silver['pairs']:,} pairs ("
        f"{'' if silver.get('pool_pairs_kept', True) is False else str(out['pool_pairs']) + ' pool pairs + '}"
        f"{silver['sampler']} pairs of the pool's sentences, k = {silver['k']}), "
        f"labelled at {silver['pairs_per_s']:.0f} pairs/s ({silver['label_s']:.0f} s). Seeds "
        f"{', '.join(map(str, out['seeds']))}; commit {env['commit']}; {env['cpu']}.\n"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main_()
