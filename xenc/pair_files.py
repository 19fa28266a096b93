"""Pair files for the `xenc` command: reading a CSV/TSV of pairs and its labels, each problem a `UsageError` that
names the file and the line."""

from __future__ import annotations

import csv
import io
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import encode_labels


class UsageError(Exception):
    """A bad command line or input file: printed as one line, exit status 2."""


def check_fields(path: str, text: str, sep: str) -> None:
    """Every row has the header's number of fields (empty fields after them, a trailing separator, are allowed):
    a row with more or fewer would shift or drop a column. The error names the row's line."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        numbered = [(rows.line_num, row) for row in rows]
    except csv.Error as err:  # e.g. a stray carriage return or NUL inside an unquoted field
        raise UsageError(
            f"{path}: line {rows.line_num} cannot be read as {sep!r}-separated fields ({err}). "
            "Fix: quote texts that contain line breaks, or save the file again as UTF-8."
        ) from err
    header = numbered[0][1] if numbered else []
    for line, row in numbered[1:]:
        extra = row[len(header) :]
        if row and (len(row) < len(header) or any(field.strip() for field in extra)):
            raise UsageError(f"{path}: line {line} has {len(row)} fields, the header {len(header)}. "
                             f"Fix: quote texts that contain {sep!r}, or pass --sep.")  # fmt: skip


def read_pairs(path: str, sep: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV/TSV with `sentence1,sentence2[,label]` columns (or the first two columns as the pair).

    Every problem is a `UsageError` naming the file (and the line where there is one): missing, empty, not in
    `encoding`, a row with another number of fields than the header, an empty text.
    """
    sep = sep or ("\t" if path.endswith((".tsv", ".txt")) else ",")
    if path != "-" and not Path(path).is_file():
        raise UsageError(f"{path}: no such file. Fix: check the path (or pass - to read stdin).")
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_bytes().decode(encoding)
        check_fields(path, text, sep)
        with warnings.catch_warnings():  # check_fields allowed only empty trailing fields: nothing is lost
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), sep=sep, keep_default_na=False, dtype=str, index_col=False)
    except pd.errors.EmptyDataError as err:
        raise UsageError(
            f"{path}: the file is empty; it needs a header sentence1,sentence2[,label] and rows."
        ) from err
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: byte {err.start} is not {encoding}. Fix: pass --encoding (e.g. latin-1).") from err
    except pd.errors.ParserError as err:  # "Expected 3 fields in line 7, saw 4"
        raise UsageError(f"{path}: {err}. Fix: quote texts that contain {sep!r}, or pass --sep.") from err
    named = {"sentence1", "sentence2", "label"} & set(df.columns)
    if named and not {"sentence1", "sentence2"} <= named:
        missing = sorted({"sentence1", "sentence2"} - named)
        raise UsageError(f"{path}: column(s) {missing} missing; found {list(df.columns)}. Name both texts' columns.")
    if not named:  # no header names: the first two columns are the pair
        if df.shape[1] < 2:
            raise UsageError(f"{path}: need columns sentence1,sentence2[,label]; found {list(df.columns)}.")
        df = df.rename(columns={df.columns[0]: "sentence1", df.columns[1]: "sentence2"})
    if df.empty:
        raise UsageError(f"{path}: a header but no rows; nothing to score.")
    for column in ("sentence1", "sentence2"):
        empty = [i + 2 for i, text in enumerate(df[column]) if not text.strip()]  # line numbers: header is line 1
        if empty:
            raise UsageError(f"{path}: empty {column} on line(s) {empty[:5]}; fill in or drop those rows.")
    return df


def score_labels(path: str, df: pd.DataFrame) -> np.ndarray:
    """The `label` column as floats, or a UsageError naming the lines that are not numbers."""
    values = pd.to_numeric(df["label"].str.strip(), errors="coerce")
    bad = [i + 2 for i, v in enumerate(values) if not np.isfinite(v)]
    if bad:
        raise UsageError(f"{path}: label on line(s) {bad[:5]} is not a number: {df['label'].iloc[bad[0] - 2]!r}.")
    return values.to_numpy(dtype=float)


def eval_labels(name: str, df: pd.DataFrame, model, from_file: bool) -> np.ndarray:
    """The gold labels of `df` for `model`: 0..1 scores (one output) or class ids (names mapped by `label2id`)."""
    if model.num_labels != 1:
        raw = [int(y) if str(y).strip().isdigit() else str(y).strip() for y in df["label"]]  # ids or names
        try:
            labels = np.array(encode_labels(raw, model.config.label2id))
        except ValueError as err:
            raise UsageError(f"{name}: {err}") from err
        if labels.max() >= model.num_labels:
            raise UsageError(f"{name}: class id {labels.max()} but the model has {model.num_labels} classes.")
        return labels
    if len(df) < 3:
        raise UsageError(f"{name}: {len(df)} pairs; a correlation of 2 pairs is always +-1. Evaluate on 3 or more.")
    labels = score_labels(name, df) if from_file else df["label"].to_numpy(dtype=float)
    if labels.min() == labels.max():
        raise UsageError(f"{name}: every label is {labels[0]}; a correlation with constant labels is undefined.")
    if labels.min() < 0 or labels.max() > 1:
        raise UsageError(
            f"{name}: labels span {labels.min():g}..{labels.max():g}, but the model scores 0..1. "
            "Fix: divide the labels by their scale (e.g. STS 0..5 -> /5)."
        )
    return labels
