"""The `xenc` command: `train`, `eval`, `predict` and `demo`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .pair_files import UsageError, eval_labels, read_pairs

DEMO_QUICK = ["--num_train_epochs", "1", "--max_train_samples", "4000", "--max_length", "128"]
DEMO_QUERY = "A man is playing a guitar."
DEMO_DOCS = [
    "A man is playing a flute.",
    "A person plays an acoustic guitar.",
    "A woman is slicing an onion.",
    "Someone is strumming a guitar on stage.",
    "A dog runs across the field.",
    "A man is playing the piano.",
]


def print_table(rows: list[tuple[str, object]], title: str = "") -> None:
    """Print `(name, value)` rows as a two-column Markdown table."""
    if title:
        print(f"\n{title}")
    width = max(len(name) for name, _ in rows)
    print(f"| {'':<{width}} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value:.4f} |" if isinstance(value, float) else f"| {name:<{width}} | {value} |")


def load_scorer(args: argparse.Namespace):
    """The `CrossEncoder` for eval / predict; refuses a base model whose head would be untrained (random scores)."""

    from .cross_encoder import CrossEncoder

    with warnings.catch_warnings(record=True):  # the untrained-head warning becomes the refusal below
        model = CrossEncoder(args.model, max_length=args.max_length, device=args.device, backend=args.backend,
                             precision=args.precision, token_keep=args.token_keep,
                             allow_pickle=args.allow_pickle)  # fmt: skip
    if model.untrained_head and not args.allow_untrained_head:
        raise UsageError(
            f"{args.model} has no trained classification head, so its scores would be random. Fix: pass a trained "
            "cross-encoder (xenc train writes one), or --allow_untrained_head to score anyway."
        )
    return model


def cmd_train(argv: list[str]) -> None:
    from .train import environment, main, parse_args

    metrics = main(*parse_args(argv))
    ends = ("spearman", "pearson", "accuracy", "macro_f1", "_map", "mrr@10", "ndcg@10")
    rows = [(k, v) for k, v in metrics.items() if k.endswith(ends)]
    print_table(rows + [("wall time (s)", f"{metrics['wall_time_s']:.0f}"), ("device", environment()["device"])])


def check_head_fits(name: str, task: str, num_labels: int) -> None:
    """Refuse to score a data set with a head made for the other kind of label (one score vs classes)."""
    if task in ("sts", "rerank") and num_labels != 1:
        raise UsageError(f"{name} holds {'0..1 scores' if task == 'sts' else 'relevance grades'}, but the model has "
                         f"{num_labels} class outputs. Fix: evaluate a one-score model on it, or this model on a "
                         "class set (sick-e, snli).")  # fmt: skip
    if task not in ("sts", "rerank") and num_labels == 1:
        raise UsageError(
            f"{name} holds class labels, but the model gives one score per pair. Fix: evaluate a "
            "classifier on it (num_labels=3 for NLI), or this model on a score set (stsb, sick-r)."
        )


def cmd_eval(args: argparse.Namespace) -> None:
    from .data import dataset_task, load
    from .metrics import NLIAccuracyF1, STSCorrelation, rerank_metrics

    name = args.data or f"{args.dataset}/{args.split}"
    if args.data:
        df = read_pairs(args.data, args.sep, args.encoding)
        if "label" not in df.columns:
            raise UsageError(f"{name}: no label column; eval needs sentence1,sentence2,label (predict does not).")
    else:
        data = load(args.dataset, split=args.split)
        if not hasattr(data, "to_pandas"):  # a retrieval set: a corpus, queries and judgments, not pairs
            raise UsageError(f"{args.dataset} is a retrieval set (corpus, queries, judgments), not a pair list; "
                             "score a first stage's top k with xenc.beir.score_top_k (notebook 03).")  # fmt: skip
        df = data.to_pandas()
    if len(df) < 2:
        raise UsageError(f"{name}: {len(df)} pair(s); a correlation or an accuracy needs at least 2.")
    model = load_scorer(args)
    if not args.data:
        check_head_fits(name, dataset_task(args.dataset), model.num_labels)
    labels = eval_labels(name, df, model, from_file=bool(args.data))
    start = time.perf_counter()
    scores = model.predict(list(zip(df["sentence1"], df["sentence2"])), batch_size=args.batch_size)
    if model.num_labels == 1 and "qid" in df.columns:  # candidate lists per query: ranking metrics, not Spearman
        metrics = rerank_metrics(scores, labels, df["qid"].to_numpy())
    elif model.num_labels == 1:
        metrics = STSCorrelation(keep_in_memory=True).compute(predictions=scores, references=labels)
    else:
        metrics = NLIAccuracyF1(keep_in_memory=True).compute(
            predictions=np.argmax(scores, -1), references=labels, label_names=model.config.id2label
        )
    rows = [*metrics.items(), ("pairs", len(df)), ("pairs/s", f"{len(df) / (time.perf_counter() - start):.0f}")]
    print_table(rows, f"{args.model} on {name}")


def _same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two existing paths are one file (hard or symbolic links included)."""
    return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)


def cmd_predict(args: argparse.Namespace) -> None:
    df = read_pairs(args.input, args.sep, args.encoding)
    if args.output:
        out_path = Path(args.output)
        if args.input != "-" and _same_file(out_path, args.input):
            raise UsageError(f"--output {args.output} is the input file; write the scores to another file.")
        if not out_path.parent.is_dir():
            raise UsageError(f"--output {args.output}: folder {out_path.parent} does not exist; create it first.")
        if out_path.exists() and not args.overwrite:
            raise UsageError(f"{args.output} exists; nothing was written. Pass --overwrite or another --output.")
    model = load_scorer(args)
    scores = model.predict(list(zip(df["sentence1"], df["sentence2"])), batch_size=args.batch_size)
    cols = {"score": scores} if scores.ndim == 1 else {f"logit_{i}": scores[:, i] for i in range(scores.shape[1])}
    out = df[["sentence1", "sentence2"]].assign(**cols)
    out.to_csv(args.output or sys.stdout, index=False, sep="\t" if (args.output or "").endswith(".tsv") else ",")


def cmd_prepare(args: argparse.Namespace) -> None:
    print(json.dumps(load_scorer(args).prepare(), indent=2))


def cmd_demo(args: argparse.Namespace) -> None:
    from .cross_encoder import CrossEncoder
    from .train import environment, main, parse_args

    out = args.output_dir or f"runs/demo-{time.strftime('%Y%m%d-%H%M%S')}"
    from .recipes import RECIPES

    recipe = RECIPES["stsb"] if args.full else DEMO_QUICK  # --full: the README's STSb recipe, one seed
    metrics = main(*parse_args(["--dataset", "stsb", "--output_dir", out, *recipe]))
    model = CrossEncoder(out)
    print(f"\nRe-ranking with the trained model, query: {DEMO_QUERY!r}")
    for hit in model.rank(DEMO_QUERY, DEMO_DOCS, return_documents=True):
        print(f"  {hit['score']:.3f}  {hit['text']}")
    print_table(
        [
            ("STSb test Spearman", metrics["test_spearman"]),
            ("STSb test Pearson", metrics["test_pearson"]),
            ("untrained dev Spearman", metrics["untrained_spearman"]),
            ("train pairs x epochs", f"{metrics['train_pairs']} x {metrics['epochs']:g}"),
            ("recipe", "full" if args.full else "quick (--full for the full recipe)"),
            ("wall time (s)", f"{metrics['wall_time_s']:.0f}"),
            ("device", environment()["device"]),
            ("model saved to", out),
        ],
        "xenc demo: cross-encoder trained on STSb from minilm-l6",
    )


def print_summary(summary: dict[str, tuple[float, float]], n_runs: int, title: str) -> None:
    """Print mean ± std rows of `recipes.summarize_runs`."""
    rows = [
        (k, f"{m:.1f} ± {s:.1f}" if k.endswith("wall_time_s") else f"{m:.4f} ± {s:.4f}")
        for k, (m, s) in summary.items()
    ]
    print_table(rows, f"{title} (mean ± std over {n_runs} runs)")


def cmd_reproduce(args: argparse.Namespace) -> None:
    from .recipes import reproduce, write_record

    out = args.output_dir or f"runs/reproduce-{args.recipe}"
    summary = reproduce(args.recipe, out, args.seeds, args.extra)
    print_summary(summary, len(args.seeds), f"recipe {args.recipe} in {out}")
    if args.record:
        print(f"record: {write_record(args.recipe, out, args.record, args.extra)}")


def cmd_summarize(args: argparse.Namespace) -> None:
    from .recipes import summarize_runs

    print_summary(summarize_runs(args.runs), len(args.runs), "runs " + ", ".join(args.runs))


def add_scoring_options(p: argparse.ArgumentParser) -> None:
    """The options `load_scorer` reads: length, device, what may be loaded, backend and precision."""
    p.add_argument("--max_length", type=int, default=None)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: a GPU when there is one)")
    p.add_argument("--allow_untrained_head", action="store_true", help="score with a base model's random head")
    p.add_argument("--allow_pickle", action="store_true", help="also read pytorch_model.bin (if trusted)")
    p.add_argument("--backend", default="torch", choices=("torch", "openvino"), help="openvino: needs xenc[fast]")
    p.add_argument("--precision", default="fp32", help="fp32 (exact), bf16, fp16; int8 or auto (the fastest that "
                   "passes the quality guard on this CPU) with --backend openvino")  # fmt: skip
    p.add_argument("--token_keep", type=float, default=1.0, help="below 1: fewer tokens in the last layers "
                   "(an approximation checked against fp32; with --backend openvino)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xenc", description="Cross-encoders on the Hugging Face Trainer.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train; takes XencArguments and TrainingArguments flags (see xenc train --help)")
    ev = sub.add_parser("eval", help="evaluate a saved model on a named split or a CSV/TSV file")
    ev.add_argument("--model", required=True)
    ev.add_argument("--dataset", default="stsb")
    ev.add_argument("--split", default="test")
    ev.add_argument("--data", help="CSV/TSV with sentence1,sentence2,label (instead of --dataset)")
    pr = sub.add_parser("predict", help="score the pairs of a CSV/TSV file ('-' for stdin)")
    pr.add_argument("--model", required=True)
    pr.add_argument("--input", required=True)
    pr.add_argument("--output", help="file to write (default: stdout)")
    pr.add_argument("--overwrite", action="store_true")
    prep = sub.add_parser("prepare", help="convert, quantize, guard and choose now (what the first predict would "
                          "do; saved with the model or in the xenc cache) and print what will score")  # fmt: skip
    prep.add_argument("--model", required=True)
    for p in (ev, pr):
        p.add_argument("--batch_size", type=int, default=32)
        p.add_argument("--sep", default=None, help="field separator of the file (default: tab for .tsv/.txt, else ,)")
        p.add_argument("--encoding", default="utf-8")
    for p in (ev, pr, prep):
        add_scoring_options(p)
    demo = sub.add_parser("demo", help="train on STSb, evaluate, and re-rank an example (quick by default)")
    demo.add_argument("--full", action="store_true", help="the full recipe (4 epochs on all of STSb train)")
    demo.add_argument("--output_dir", default=None)
    rep = sub.add_parser("reproduce", help="run a named recipe over several seeds and print mean ± std")
    rep.add_argument("recipe", help="recipe name (see xenc/recipes.py)")
    rep.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    rep.add_argument("--output_dir", default=None, help="default: runs/reproduce-<recipe>")
    rep.add_argument(
        "--extra", nargs=argparse.REMAINDER, default=[], help="more train flags, e.g. --extra --bf16 true"
    )
    rep.add_argument("--record", default=None, help="a folder (e.g. benchmarks/results/recipes) to write the "
                     "runs' small record to, which notebooks and docs read where the runs are not")  # fmt: skip
    summ = sub.add_parser("summarize", help="mean ± std of the results.json of finished runs")
    summ.add_argument("runs", nargs="+")
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    train = bool(argv) and argv[0] == "train"  # HfArgumentParser owns the train flags
    args = argparse.Namespace(command="train") if train else build_parser().parse_args(argv)
    commands = {
        "eval": cmd_eval,
        "predict": cmd_predict,
        "prepare": cmd_prepare,
        "demo": cmd_demo,
        "reproduce": cmd_reproduce,
    }
    try:
        cmd_train(argv[1:]) if train else {**commands, "summarize": cmd_summarize}[args.command](args)
    except (UsageError, ValueError, TypeError, OSError) as err:  # OSError: missing, unreadable or refused files
        if os.environ.get("XENC_DEBUG"):
            raise
        print(f"xenc {args.command}: error: {err}", file=sys.stderr)  # XENC_DEBUG=1 shows the traceback
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
