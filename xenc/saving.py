"""Atomic model saves: a save that is killed half-way never leaves a folder that loads."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def save_atomically(folder: str | Path, write: Callable[[Path], None]) -> None:
    """Run `write(staging)` into a sibling staging folder, then move its files into `folder`, `config.json` last.

    Until the last move `folder` has no `config.json` from this save (an earlier one is removed first), so a folder
    cut short never loads as a model; files of `folder` that the save does not write (notes, eval CSVs) are kept.
    The staging folder is removed when `write` fails.
    """
    folder = Path(folder)
    staging = fresh_staging(folder)
    try:
        write(staging)
        move_into(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def staging_path(folder: Path) -> Path:
    """Where a save of `folder` is written first: a sibling, on the same file system, so each move is atomic."""
    return folder.parent / f".{folder.name}.saving"


def fresh_staging(folder: Path) -> Path:
    """`staging_path(folder)`, emptied of anything a killed save left there."""
    shutil.rmtree(staging_path(folder), ignore_errors=True)
    return staging_path(folder)


WEIGHT_PATTERNS = ("model*.safetensors", "pytorch_model*.bin", "*.safetensors.index.json", "*.bin.index.json")


def move_into(staging: Path, folder: Path) -> None:
    """Move every file of `staging` into `folder` (same file system: each move is atomic), `config.json` last.

    Weights files in `folder` that this save does not write (an older `pytorch_model.bin` beside the new
    safetensors, the shards of a larger save) are removed, so the folder loads only what was just saved.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").unlink(missing_ok=True)
    if any(staging.glob(pattern) for pattern in WEIGHT_PATTERNS):
        written = {p.name for p in staging.iterdir()}
        for stale in (p for pattern in WEIGHT_PATTERNS for p in folder.glob(pattern) if p.name not in written):
            stale.unlink()
    files = sorted((p for p in staging.rglob("*") if p.is_file()), key=lambda p: p.name == "config.json")
    for src in files:
        dst = folder / src.relative_to(staging)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
