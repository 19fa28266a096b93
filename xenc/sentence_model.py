"""A bi-encoder's model: transformer + pooling (+ L2 normalisation), read from and saved as a sentence-transformers
folder (`modules.json`, `1_Pooling/config.json`), so `SentenceTransformer(path)` gives the same embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel, PreTrainedModel, PreTrainedTokenizerBase

from .models import load_pretrained
from .saving import save_atomically

POOLING_KEYS = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token"}
_ST = "sentence_transformers.models."  # module type names every sentence-transformers release loads


class PooledEncoder(nn.Module):
    """Token states pooled into one vector per text: attention-masked mean or the first token, then (optionally)
    L2-normalised. Pooling runs in fp32 whatever the transformer's dtype.

    Example:
        >>> encoder = PooledEncoder(AutoModel.from_pretrained(path), "mean", normalize=True)  # doctest: +SKIP
        >>> encoder(**tokenizer(["A man eats."], return_tensors="pt")).shape  # doctest: +SKIP
        torch.Size([1, 384])
    """

    def __init__(self, transformer: PreTrainedModel, pooling: str = "mean", normalize: bool = True):
        super().__init__()
        if pooling not in POOLING_KEYS:
            raise ValueError(f"pooling={pooling!r} is not supported; use one of {list(POOLING_KEYS)}.")
        self.transformer, self.pooling, self.normalize = transformer, pooling, normalize
        if getattr(transformer, "pooler", None) is not None:  # BERT's pooler is never used here: no gradient, and
            transformer.pooler.requires_grad_(False)  # DDP (find_unused_parameters=False) must not wait for one

    @property
    def dim(self) -> int:
        return self.transformer.config.hidden_size

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs) -> torch.Tensor:
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
        hidden = hidden.float()  # (batch, seq, dim)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1) if self.normalize else pooled


def model_file(path: str, name: str) -> Path | None:
    """`name` inside a local model folder, or in a Hub repo (the cache, or a download when online); None if absent."""
    if Path(path).is_dir():
        return Path(path, name) if Path(path, name).is_file() else None
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(path, name))
    except Exception:  # noqa: BLE001 (not in the repo, offline and not cached, or not a repo: a plain checkpoint)
        return None


def read_pooling(path: str) -> tuple[str, bool]:
    """(pooling, normalize) of a sentence-transformers model (a folder or a Hub id); a plain checkpoint gets what
    sentence-transformers gives it: mean pooling, no normalisation."""
    modules_file = model_file(path, "modules.json")
    if modules_file is None:
        return "mean", False
    modules = json.loads(modules_file.read_text())
    types = [m["type"].rsplit(".", 1)[-1] for m in modules]
    unknown = [t for t in types if t not in ("Transformer", "Pooling", "Normalize")]
    if unknown:
        raise ValueError(
            f"{path} has sentence-transformers modules {unknown} that xenc.BiEncoder does not run; it runs "
            "Transformer, Pooling (mean or cls) and Normalize. Fix: use SentenceTransformer for this model."
        )
    pooling_dir = next((m["path"] for m in modules if m["type"].endswith("Pooling")), None)
    pooling_file = model_file(path, f"{pooling_dir}/config.json") if pooling_dir else None
    config = json.loads(pooling_file.read_text()) if pooling_file else {}
    if isinstance(config.get("pooling_mode"), str):  # sentence-transformers 6: {"pooling_mode": "mean", ...}
        config = {POOLING_KEYS.get(config["pooling_mode"], f"pooling_mode_{config['pooling_mode']}"): True}
    modes = [mode for mode, key in POOLING_KEYS.items() if config.get(key)]
    others = [k for k, v in config.items() if k.startswith("pooling_mode") and v and k not in POOLING_KEYS.values()]
    if others or len(modes) > 1:
        raise ValueError(f"{path}: pooling {others or modes} is not supported by xenc.BiEncoder (mean or cls only).")
    return (modes[0] if modes else "mean"), "Normalize" in types


def saved_max_length(path: str) -> int | None:
    """The `max_seq_length` a sentence-transformers model was saved with (None for a plain checkpoint)."""
    config = model_file(path, "sentence_bert_config.json")
    return json.loads(config.read_text()).get("max_seq_length") if config else None


def load_pooled_encoder(path: str, allow_pickle: bool = False, **kwargs) -> PooledEncoder:
    """The `PooledEncoder` of a sentence-transformers folder or a plain checkpoint (see `read_pooling`)."""
    pooling, normalize = read_pooling(path)
    return PooledEncoder(load_pretrained(AutoModel, path, allow_pickle, **kwargs), pooling, normalize)


def save_sentence_model(
    folder: str | Path, encoder: PooledEncoder, tokenizer: PreTrainedTokenizerBase, max_length: int, card: str = ""
) -> None:
    """Save `encoder` as a sentence-transformers folder (safetensors), atomically; `card` becomes README.md."""
    modules = [{"idx": 0, "name": "0", "path": "", "type": f"{_ST}Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": f"{_ST}Pooling"}]  # fmt: skip
    if encoder.normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": f"{_ST}Normalize"})
    pooling = {"word_embedding_dimension": encoder.dim, "pooling_mode_cls_token": encoder.pooling == "cls",
               "pooling_mode_mean_tokens": encoder.pooling == "mean", "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False}  # fmt: skip

    def write(staging: Path) -> None:
        encoder.transformer.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / "1_Pooling").mkdir()  # the classic pooling config: every sentence-transformers release reads it
        files = {"modules.json": modules, "1_Pooling/config.json": pooling,
                 "sentence_bert_config.json": {"max_seq_length": max_length, "do_lower_case": False},
                 "config_sentence_transformers.json": {"model_type": "SentenceTransformer",
                                                       "similarity_fn_name": "cosine"}}  # fmt: skip
        for name, content in files.items():
            (staging / name).write_text(json.dumps(content, indent=2))
        if card:
            (staging / "README.md").write_text(card)

    save_atomically(folder, write)


def model_card(base: str, loss: str, data: str, metrics: dict[str, float] | None = None) -> str:
    """A short model card: what the model is, how it was trained, how to load it, its scores."""
    rows = "".join(f"| {k} | {v:.4f} |\n" for k, v in (metrics or {}).items() if isinstance(v, float))
    table = f"\n## Scores\n\n| metric | value |\n|---|---|\n{rows}" if rows else ""
    return (
        f"---\nlibrary_name: sentence-transformers\npipeline_tag: sentence-similarity\ntags:\n- xenc\n- bi-encoder\n"
        f"---\n\n# Bi-encoder trained with xenc\n\nBase: `{base}`. Loss: `{loss}`. Training data: {data}.\n\n"
        "```python\nfrom xenc import BiEncoder  # or: from sentence_transformers import SentenceTransformer\n"
        'model = BiEncoder(path)\nmodel.similarity(["A man eats."], ["A person is eating."])\n```\n' + table
    )
