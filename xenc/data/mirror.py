"""Read the local data mirror (the layout of `data_scripts/`, e.g. `../shared/data`) into canonical datasets.

Canonical columns: pair tasks have `sentence1`, `sentence2`, `label`; STS labels are floats in 0..1 (divided by the
dataset's own scale), NLI labels are ints under `LABEL2ID`. Splits are named `train`, `validation`, `test`.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
from datasets import Dataset, DatasetDict, concatenate_datasets

from ..tasks import ID2LABEL, LABEL2ID  # noqa: F401 (ID2LABEL re-exported)

STS_YEARS = {"sts12": 2012, "sts13": 2013, "sts14": 2014, "sts15": 2015, "sts16": 2016}
_SPLIT_FILES = {"train": "train", "validation": "dev", "test": "test"}
_SICK_SETS = {"TRAIN": "train", "TRIAL": "validation", "TEST": "test"}


def read_tsv(path: Path) -> pd.DataFrame:
    """Read a mirror TSV (tab-separated, standard CSV quoting, no NA parsing)."""
    return pd.read_csv(path, sep="\t", keep_default_na=False, quoting=csv.QUOTE_MINIMAL, encoding="utf-8-sig")


def _pairs(df: pd.DataFrame, s1: str, s2: str, labels) -> Dataset:
    out = pd.DataFrame({"sentence1": df[s1].astype(str), "sentence2": df[s2].astype(str), "label": labels})
    return Dataset.from_pandas(out.reset_index(drop=True), preserve_index=False)


def _lines(mask: pd.Series) -> list[int]:
    """File line numbers (header = line 1) of the rows where `mask` holds; the first 5."""
    return [int(i) + 2 for i in mask[mask].index[:5]]


def _sts_labels(scores: pd.Series, low: float, high: float, path: Path) -> pd.Series:
    """Scores on `low..high` -> 0..1; a score that is not a number or is outside the scale is an error, never
    clipped (a file on another scale would otherwise turn most labels into 1.0)."""
    values = pd.to_numeric(scores, errors="coerce")
    bad = values.isna() | (values < low) | (values > high)
    if bad.any():
        raise ValueError(
            f"{path}: score '{scores[bad].iloc[0]}' on line(s) {_lines(bad)} is not a number in {low:g}..{high:g} "
            f"({int(bad.sum())} rows). Fix the file (or its scale) first; xenc does not clip scores."
        )
    return (values - low) / (high - low)


def _class_labels(labels: pd.Series, path: Path, mapping: dict[str, int] = LABEL2ID) -> pd.Series:
    """Class names -> ids, in any letter case; a name outside `mapping` is an error naming its lines."""
    ids = labels.astype(str).str.strip().str.lower().map(mapping)
    bad = ids.isna()
    if bad.any():
        raise ValueError(
            f"{path}: label '{labels[bad].iloc[0]}' on line(s) {_lines(bad)} is not one of {list(mapping)} "
            f"({int(bad.sum())} rows). Fix the file; xenc does not drop rows silently."
        )
    return ids.astype(int)


def read_stsb(root: Path) -> DatasetDict:
    """STS benchmark: `stsb/{train,dev,test}.tsv`, scores 0..5 -> label 0..1."""
    return DatasetDict(
        {
            split: _pairs(df, "sentence1", "sentence2", _sts_labels(df["score"], 0, 5, path))
            for split, stem in _SPLIT_FILES.items()
            for path in [root / "stsb" / f"{stem}.tsv"]
            for df in [read_tsv(path)]
        }
    )


_SICK_BA = {"B_entails_A": "entailment", "B_neutral_A": "neutral", "B_contradicts_A": "contradiction"}


def read_sick(root: Path, view: str, both_directions: bool = False) -> DatasetDict:
    """SICK `sick/SICK.txt`: view `relatedness` (1..5 -> 0..1) or `entailment` (3 classes, `LABEL2ID`).

    `both_directions` (entailment only) adds to TRAIN each pair reversed, (B, A), with SICK's own B-to-A
    annotation (`entailment_BA`); TRIAL and TEST keep the official A-to-B labels.
    """
    path = root / "sick" / "SICK.txt"
    df = read_tsv(path)
    out = {}
    for semeval_set, split in _SICK_SETS.items():
        part = df[df["SemEval_set"] == semeval_set]
        if view == "relatedness":
            labels = _sts_labels(part["relatedness_score"], 1, 5, path)
        else:
            labels = _class_labels(part["entailment_label"], path)
        out[split] = _pairs(part, "sentence_A", "sentence_B", labels)
        if both_directions and split == "train":
            reverse = _class_labels(part["entailment_BA"], path, {k.lower(): LABEL2ID[v] for k, v in _SICK_BA.items()})
            out[split] = concatenate_datasets([out[split], _pairs(part, "sentence_B", "sentence_A", reverse)])
    return DatasetDict(out)


NLI_FILES = {
    "snli": _SPLIT_FILES,
    "allnli": _SPLIT_FILES,
    "mnli": {"train": "train", "validation": "dev_matched", "test": "dev_mismatched"},  # MNLI's test is unlabelled
}


def read_nli(root: Path, name: str) -> DatasetDict:
    """NLI TSVs `premise, hypothesis, label` (string labels): whichever split files exist (the shared mirror has
    SNLI dev and test only). MNLI's `validation` is dev-matched and its `test` dev-mismatched."""
    out = {}
    for split, stem in NLI_FILES[name].items():
        path = root / name / f"{stem}.tsv"
        if path.is_file():
            df = read_tsv(path)
            df = df[df["label"].astype(str).str.strip() != "-"]  # SNLI's pairs without a gold label, by design
            out[split] = _pairs(df, "premise", "hypothesis", _class_labels(df["label"], path))
    return DatasetDict(out)


def read_sts12_16(root: Path, name: str) -> DatasetDict:
    """SemEval STS 2012-2016 test sets from `sts12-16/sts12-16.tsv`; `sts12-16` gives one split per year."""
    df = read_tsv(root / "sts12-16" / "sts12-16.tsv")
    years = STS_YEARS if name == "sts12-16" else {"test": STS_YEARS[name]}
    return DatasetDict(
        {
            key: _pairs(part, "sentence1", "sentence2", _sts_labels(part["score"], 0, 5, root / "sts12-16"))
            for key, year in years.items()
            for part in [df[df["year"].astype(int) == year]]
        }
    )


def read_trecqa(root: Path) -> DatasetDict:
    """TrecQA answer selection `trecqa/{train,dev,test}.csv` (`qtext, label, atext`, one row per candidate) ->
    `sentence1` (question), `sentence2` (candidate), `label` (1 = answer), `qid` (the question's number in its split).
    """
    out = {}
    for split, stem in _SPLIT_FILES.items():
        df = pd.read_csv(root / "trecqa" / f"{stem}.csv", keep_default_na=False, encoding="utf-8")
        qid = pd.factorize(df["qtext"])[0]  # rows of one question are consecutive; numbered in order of appearance
        out[split] = _pairs(df, "qtext", "atext", df["label"].astype(int)).add_column("qid", qid.tolist())
    return DatasetDict(out)


def read_beir(root: Path, name: str, split: str) -> DatasetDict:
    """BEIR layout: `corpus.jsonl.gz`, `queries.jsonl`, `qrels/<split>.tsv` -> corpus, queries (judged), qrels."""
    folder = root / name
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        corpus = [json.loads(line) for line in fh]
    qrels = read_tsv(folder / "qrels" / f"{split}.tsv").astype({"query-id": str, "corpus-id": str, "score": int})
    judged = set(qrels["query-id"])
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        queries = [q for q in map(json.loads, fh) if str(q["_id"]) in judged]
    return DatasetDict(
        {
            "corpus": Dataset.from_dict(
                {
                    "_id": [str(d["_id"]) for d in corpus],
                    "title": [d.get("title", "") for d in corpus],
                    "text": [d["text"] for d in corpus],
                }
            ),
            "queries": Dataset.from_dict(
                {"_id": [str(q["_id"]) for q in queries], "text": [q["text"] for q in queries]}
            ),
            "qrels": Dataset.from_pandas(
                qrels.rename(columns={"query-id": "query_id", "corpus-id": "corpus_id"}), preserve_index=False
            ),
        }
    )
