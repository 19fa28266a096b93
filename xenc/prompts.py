"""Prompts as sentence-transformers 6 has them: named texts put before the first text of every pair (e.g. an
instruction before the query), saved in `config_sentence_transformers.json`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path


def load_prompts(folder: str | None, prompts: dict | None, default_prompt_name: str | None) -> tuple[dict, str | None]:
    """The saved prompts of `folder` updated by the given ones, and the default prompt name (given, else saved);
    an unknown default is an error, as in the peer. Only a cross-encoder's save is read: an embedding model's
    prompts (a SentenceTransformer folder, which gets a new head here) were not meant for pairs, as in the peer."""
    saved = Path(folder or "") / "config_sentence_transformers.json"
    config = json.loads(saved.read_text()) if folder and saved.is_file() else {}
    if config.get("model_type") != "CrossEncoder":  # none means SentenceTransformer (it wrote none before 5)
        config = {}
    merged = {**(config.get("prompts") or {}), **(prompts or {})}
    default = default_prompt_name or config.get("default_prompt_name")
    if default is not None and default not in merged:
        raise ValueError(
            f"Default prompt name '{default}' not found in the configured prompts dictionary with keys "
            f"{list(merged)!r}. Fix: add it to prompts= or leave default_prompt_name unset."
        )
    return merged, default


def resolve_prompt(prompts: dict, default: str | None, prompt: str | None, prompt_name: str | None) -> str | None:
    """The text to put first: `prompt`, else the named one, else the default's; None for no prompt."""
    if prompt is not None:
        return prompt
    if prompt_name is not None and prompt_name not in prompts:
        raise ValueError(
            f"Prompt name '{prompt_name}' not found in the configured prompts dictionary with keys {list(prompts)!r}."
        )
    name = prompt_name if prompt_name is not None else default
    return prompts.get(name) if name is not None else None


def with_prompt(pairs: Iterable, prompt: str | None) -> Iterable:
    """`pairs` with `prompt` before each first text (lazily for a generator, so streaming still streams)."""
    if not prompt:
        return pairs
    prefixed = ((prompt + p[0], *p[1:]) if isinstance(p, Sequence) and p and isinstance(p[0], str) else p
                for p in pairs)  # fmt: skip
    return prefixed if iter(pairs) is pairs else list(prefixed)
