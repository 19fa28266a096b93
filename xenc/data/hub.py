"""Build the data mirror from the Hugging Face Hub (used by `data_scripts/` and as `xenc.data.load`'s fallback).

Each `prepare_*` writes one dataset in the mirror layout under `out_dir` and is idempotent: files that already
exist are kept unless `force=True`. `source` replaces the Hub download (tests pass small in-memory datasets).
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import os
from pathlib import Path

import pandas as pd
from datasets import DatasetDict, load_dataset

logger = logging.getLogger(__name__)

HUB_SOURCES = {
    "stsb": "mteb/stsbenchmark-sts",
    "sick": "RobZamp/sick",
    "snli": "stanfordnlp/snli",
    "mnli": "nyu-mll/multi_nli",
    "allnli": "sentence-transformers/all-nli (pair-class)",
    "sts12-16": "mteb/sts{yy}-sts",
    "scifact": "BeIR/scifact (+ BeIR/scifact-qrels)",
    "trecqa": "github.com/brmson/dataset-sts data/anssel/wang (Wang et al. 2007, jacana form)",
}
# TrecQA is not on the Hub in its original form: the files of the public mirror, pinned by commit and SHA-256
TRECQA_URL = (
    "https://raw.githubusercontent.com/brmson/dataset-sts/e1d3375f5b3bc24f21aa4e46f96eb379e9fc1081/data/anssel/wang/"
)
TRECQA_SHA256 = {
    "train.csv": "b3398769dee040bceb5ca4ffe49eaa9096e71c9533432031f3bddfdb3dee7a8f",
    "dev.csv": "3c266ccaa633e929515bc8643a0615c05f64d2fb62b3a687d85ff7fabdf79a6a",
    "test.csv": "5aaf688f8c79a0eab96c77dcc8919e82006169712a799aa97343588000769288",
}
_MIRROR_SPLITS = {"train": "train", "validation": "dev", "test": "test"}
_NLI_NAMES = ["entailment", "neutral", "contradiction"]  # ClassLabel order of SNLI and SICK on the Hub


def _write(path: Path, write_fn, force: bool) -> bool:
    """Write through a temporary file so an interrupted run never leaves half a file behind."""
    if path.exists() and not force:
        logger.info("keeping %s (exists; pass force=True to rewrite)", path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write_fn(tmp)
    os.replace(tmp, path)
    return True


def write_tsv(df: pd.DataFrame, path: Path, force: bool = False) -> bool:
    """Write a mirror TSV: tab-separated, standard CSV quoting, UTF-8, no index."""
    return _write(path, lambda p: df.to_csv(p, sep="\t", index=False, quoting=csv.QUOTE_MINIMAL), force)


def prepare_stsb(out_dir: Path, source: DatasetDict | None = None, force: bool = False) -> None:
    """STSb -> `stsb/{train,dev,test}.tsv` (expected rows 5749 / 1500 / 1379)."""
    source = source or load_dataset(HUB_SOURCES["stsb"])
    columns = ["genre", "dataset", "year", "sid", "score", "sentence1", "sentence2"]
    for split, stem in _MIRROR_SPLITS.items():
        df = source[split].to_pandas()
        for col in columns:
            df[col] = df[col] if col in df else ""
        write_tsv(df[columns], Path(out_dir) / "stsb" / f"{stem}.tsv", force)


def prepare_sick(out_dir: Path, source: DatasetDict | None = None, force: bool = False) -> None:
    """SICK -> `sick/SICK.txt` in the release's 12-column layout (expected 4439 train / 495 trial / 4906 test)."""
    source = source or load_dataset(HUB_SOURCES["sick"])
    sets = {"train": "TRAIN", "validation": "TRIAL", "test": "TEST"}
    parts = []
    for split, semeval_set in sets.items():
        df = source[split].to_pandas().rename(columns={"id": "pair_ID"})
        df["entailment_label"] = [_NLI_NAMES[i].upper() for i in df.pop("label")]
        df["SemEval_set"] = semeval_set
        parts.append(df)
    columns = ["pair_ID", "sentence_A", "sentence_B", "entailment_label", "relatedness_score", "SemEval_set"]
    df = pd.concat(parts)
    extra = [c for c in df.columns if c not in columns]
    write_tsv(df[columns[:5] + extra + columns[5:]], Path(out_dir) / "sick" / "SICK.txt", force)


def _write_nli(source: DatasetDict, folder: Path, files: dict[str, str], force: bool) -> None:
    for split, stem in files.items():
        df = source[split].to_pandas()
        df = df[df["label"] >= 0]  # -1: no gold label
        df["label"] = [_NLI_NAMES[i] for i in df["label"]]
        write_tsv(df[["premise", "hypothesis", "label"]], folder / f"{stem}.tsv", force)


def prepare_snli(out_dir: Path, source: DatasetDict | None = None, force: bool = False) -> None:
    """SNLI -> `snli/{train,dev,test}.tsv`, string labels, no-gold pairs dropped (549367 / 9842 / 9824)."""
    _write_nli(source or load_dataset(HUB_SOURCES["snli"]), Path(out_dir) / "snli", _MIRROR_SPLITS, force)


def prepare_mnli(out_dir: Path, source: DatasetDict | None = None, force: bool = False) -> None:
    """MultiNLI -> `mnli/{train,dev_matched,dev_mismatched}.tsv` (392702 / 9815 / 9832)."""
    files = {"train": "train", "validation_matched": "dev_matched", "validation_mismatched": "dev_mismatched"}
    _write_nli(source or load_dataset(HUB_SOURCES["mnli"]), Path(out_dir) / "mnli", files, force)


def prepare_allnli(out_dir: Path, source: DatasetDict | None = None, force: bool = False) -> None:
    """AllNLI (SNLI + MultiNLI) -> `allnli/{train,dev,test}.tsv` (942069 / 19657 / 19656)."""
    source = source or load_dataset("sentence-transformers/all-nli", "pair-class")
    _write_nli(source, Path(out_dir) / "allnli", {"train": "train", "dev": "dev", "test": "test"}, force)


def prepare_sts12_16(out_dir: Path, sources: dict[int, DatasetDict] | None = None, force: bool = False) -> None:
    """SemEval STS 2012-16 test sets -> `sts12-16/sts12-16.tsv` (3108 / 1500 / 3750 / 3000 / 1186 rows)."""
    parts = []
    for year in range(2012, 2017):
        test = (
            sources[year]["test"] if sources else load_dataset(HUB_SOURCES["sts12-16"].format(yy=year % 100))["test"]
        )
        df = test.to_pandas()
        df["year"], df["dataset"], df["line"] = year, df.get("dataset", ""), range(1, len(df) + 1)
        parts.append(df[["year", "dataset", "line", "score", "sentence1", "sentence2"]])
    write_tsv(pd.concat(parts), Path(out_dir) / "sts12-16" / "sts12-16.tsv", force)


def prepare_scifact(out_dir: Path, source: dict | None = None, force: bool = False) -> None:
    """BEIR SciFact -> `scifact/corpus.jsonl.gz` (5183 docs), `queries.jsonl` (1109), `qrels/{train,test}.tsv`."""
    if source is None:
        source = {
            "corpus": load_dataset("BeIR/scifact", "corpus", split="corpus"),
            "queries": load_dataset("BeIR/scifact", "queries", split="queries"),
            "qrels": load_dataset("BeIR/scifact-qrels"),
        }
    folder = Path(out_dir) / "scifact"

    def jsonl(rows, opener):
        return lambda p: _dump_jsonl(rows, opener(p))

    docs = [{"_id": str(d["_id"]), "title": d["title"], "text": d["text"], "metadata": {}} for d in source["corpus"]]
    queries = [{"_id": str(q["_id"]), "text": q["text"], "metadata": {}} for q in source["queries"]]
    _write(folder / "corpus.jsonl.gz", jsonl(docs, lambda p: gzip.open(p, "wt", encoding="utf-8")), force)
    _write(folder / "queries.jsonl", jsonl(queries, lambda p: open(p, "w", encoding="utf-8")), force)
    for split in ("train", "test"):
        write_tsv(source["qrels"][split].to_pandas(), folder / "qrels" / f"{split}.tsv", force)


def prepare_trecqa(out_dir: Path, source: dict[str, bytes] | None = None, force: bool = False) -> None:
    """TrecQA -> `trecqa/{train,dev,test}.csv` (4718 / 1148 / 1517 candidate rows; 93 / 81 / 95 questions).

    Downloads the files pinned in `TRECQA_URL` and refuses any whose SHA-256 differs (`source`: file name -> bytes).
    """
    import hashlib
    import urllib.request

    files = {
        n: source[n] if source else urllib.request.urlopen(TRECQA_URL + n, timeout=60).read() for n in TRECQA_SHA256
    }
    for name, data in files.items():  # all checked before any is written
        if hashlib.sha256(data).hexdigest() != TRECQA_SHA256[name]:
            raise ValueError(f"trecqa/{name}: SHA-256 {hashlib.sha256(data).hexdigest()} is not the pinned one.")
    for name, data in files.items():
        _write(Path(out_dir) / "trecqa" / name, lambda p, data=data: p.write_bytes(data), force)


def _dump_jsonl(rows: list[dict], fh) -> None:
    with fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


PREPARERS = {
    "stsb": prepare_stsb,
    "sick": prepare_sick,
    "snli": prepare_snli,
    "mnli": prepare_mnli,
    "allnli": prepare_allnli,
    "sts12-16": prepare_sts12_16,
    "scifact": prepare_scifact,
    "trecqa": prepare_trecqa,
}
