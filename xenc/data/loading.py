"""`load(name)`: datasets by name, from `XENC_DATA_DIR` or, when it is unset, from the Hub."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from datasets import Dataset, DatasetDict

from ..split_zip import cache_dir
from . import hub, mirror


@dataclass(frozen=True)
class DataSpec:
    folder: str  # mirror folder, also the key of `hub.PREPARERS`
    files: tuple[str, ...]  # what must exist under the folder
    read: Callable[[Path], DatasetDict]
    task: str  # "sts", "nli", "rerank" (query, candidate, grade, qid rows) or "retrieval" (a BEIR corpus)


_STS1216 = ("sts12-16", ("sts12-16.tsv",))
CATALOG: dict[str, DataSpec] = {
    "stsb": DataSpec("stsb", ("train.tsv", "dev.tsv", "test.tsv"), mirror.read_stsb, "sts"),
    "sick-r": DataSpec("sick", ("SICK.txt",), partial(mirror.read_sick, view="relatedness"), "sts"),
    "sick-e": DataSpec("sick", ("SICK.txt",), partial(mirror.read_sick, view="entailment"), "nli"),
    # TRAIN twice: (A, B) with the official label and (B, A) with SICK's B-to-A annotation
    "sick-e-both": DataSpec(
        "sick", ("SICK.txt",), partial(mirror.read_sick, view="entailment", both_directions=True), "nli"
    ),  # fmt: skip
    "snli": DataSpec("snli", ("test.tsv",), partial(mirror.read_nli, name="snli"), "nli"),
    "mnli": DataSpec("mnli", ("train.tsv", "dev_mismatched.tsv"), partial(mirror.read_nli, name="mnli"), "nli"),
    "allnli": DataSpec("allnli", ("train.tsv", "test.tsv"), partial(mirror.read_nli, name="allnli"), "nli"),
    "sts12-16": DataSpec(*_STS1216, partial(mirror.read_sts12_16, name="sts12-16"), "sts"),
    **{n: DataSpec(*_STS1216, partial(mirror.read_sts12_16, name=n), "sts") for n in mirror.STS_YEARS},
    "trecqa": DataSpec("trecqa", ("train.csv", "dev.csv", "test.csv"), mirror.read_trecqa, "rerank"),
    "scifact": DataSpec("scifact", ("corpus.jsonl.gz", "queries.jsonl", "qrels/test.tsv"), None, "retrieval"),
}
ALIASES = {"sick": "sick-r", "sick-relatedness": "sick-r", "sick-entailment": "sick-e", "sts-b": "stsb"}


def data_dir() -> Path | None:
    """The mirror named by `XENC_DATA_DIR`, or None when it is unset."""
    value = os.environ.get("XENC_DATA_DIR")
    return Path(value).expanduser() if value else None


def _hub_cache() -> Path:
    """Where Hub downloads are laid out as a mirror: `data/` in xenc's cache (`XENC_CACHE_DIR`, else
    `$XDG_CACHE_HOME/xenc`, else `~/.cache/xenc`), beside the assembled models."""
    return cache_dir() / "data"


def dataset_task(name: str) -> str:
    """The task ("sts", "nli", "rerank" or "retrieval") of a named dataset."""
    return _spec(name)[1].task


def _spec(name: str) -> tuple[str, DataSpec]:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in CATALOG:
        raise ValueError(f"Unknown dataset {name!r}. Known names: {', '.join(sorted(CATALOG))} (also 'sick').")
    return key, CATALOG[key]


def _script(spec: DataSpec) -> str:
    return f"python data_scripts/prepare_{spec.folder.replace('-', '_')}.py"


def _ensure_files(spec: DataSpec) -> Path:
    """Return a root holding the spec's files: the mirror if set, else the Hub cache (downloading on first use)."""
    root = data_dir()
    missing = [
        spec.folder + "/" + f for f in spec.files if not (Path(root or _hub_cache()) / spec.folder / f).exists()
    ]
    if root is not None:
        if missing:
            raise FileNotFoundError(
                f"XENC_DATA_DIR={root} lacks {', '.join(missing)}. Fix: `XENC_DATA_DIR={root} {_script(spec)}` "
                f"builds it from the Hub, or point XENC_DATA_DIR at a complete mirror (e.g. ../shared/data)."
            )
        return root
    if missing:
        try:
            hub.PREPARERS[spec.folder](_hub_cache())
        except Exception as err:  # network errors come in many types; all get the same advice
            raise RuntimeError(
                f"XENC_DATA_DIR is unset and downloading {hub.HUB_SOURCES[spec.folder]} from the Hugging Face Hub "
                f"into {_hub_cache()} failed ({type(err).__name__}: {err}). Fix: set XENC_DATA_DIR to a local "
                f"mirror (e.g. export XENC_DATA_DIR=../shared/data), or go online and run `{_script(spec)}`."
            ) from err
    return _hub_cache()


def load(name: str, split: str | None = None) -> DatasetDict | Dataset:
    """Load a named dataset with canonical columns.

    Args:
        name: one of `CATALOG` (`stsb`, `sick-r`, `sick-e`, `snli`, `sts12`..`sts16`, `sts12-16`, `trecqa`,
            `scifact`).
        split: a split name (`train`, `validation`, `test`) to get one `Dataset`; for `scifact`, the qrels split
            (default `test`) and the result is a `DatasetDict` with `corpus`, `queries`, `qrels`.

    Returns:
        A `DatasetDict` of splits (or one `Dataset` when `split` is given).

    Example:
        >>> test = load("stsb", split="test")  # doctest: +SKIP
        >>> test.column_names
        ['sentence1', 'sentence2', 'label']
    """
    key, spec = _spec(name)
    root = _ensure_files(spec)
    if spec.task == "retrieval":
        return mirror.read_beir(root, spec.folder, split or "test")
    splits = spec.read(root)
    if split is None:
        return splits
    if split not in splits:
        raise ValueError(f"Dataset {key!r} has splits {list(splits)} here, not {split!r}.")
    return splits[split]
