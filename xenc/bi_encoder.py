"""`BiEncoder`: one embedding per text (pooled, compared by cosine); trained with `fit` or `xenc train --encoder bi`,
saved as a sentence-transformers folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from .checks import check_device, check_output_dir
from .encoding import forward_sorted
from .lengths import DEFAULT_LENGTH, fit_length
from .models import DEFAULT_MODEL, resolve_model
from .precisions import PRECISIONS, TORCH_PRECISIONS
from .sentence_model import load_pooled_encoder, model_card, save_sentence_model, saved_max_length


class BiEncoder:
    """Sentence embeddings as a sentence-transformers folder defines them (Transformer, Pooling, Normalize), or mean
    pooling for a plain checkpoint; `similarity` is the cosine of each pair.

    `max_length` (default 256, or the model's limit when that is shorter; another length past the model's position
    table is an error); `None` takes the `max_seq_length` the model was saved with, as
    `SentenceTransformer(path)` does. `precision` ("fp32", "bf16" for GPUs and CPUs with avx512_bf16 / AMX, "fp16"
    for GPUs) is the dtype the weights are cast to once, at construction; embeddings are pooled and normalised in
    fp32. Train with `fit` (keep fp32).

    Example:
        >>> bi = BiEncoder("minilm-l6")  # doctest: +SKIP
        >>> bi.similarity(["A man eats."], ["A person is eating."])  # doctest: +SKIP
        array([0.7...], dtype=float32)
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        max_length: int | None = DEFAULT_LENGTH,
        device: str | None = None,
        allow_pickle: bool = False,
        precision: str = "fp32",
    ):
        if precision not in TORCH_PRECISIONS:
            raise ValueError(f"precision={precision!r} is unknown; use one of {TORCH_PRECISIONS}.")
        self.path = resolve_model(model_name_or_path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.device, self.precision = check_device(device), precision
        self.encoder = load_pooled_encoder(self.path, allow_pickle).to(self.device, PRECISIONS[precision].dtype).eval()
        if max_length is None:  # as SentenceTransformer(path) embeds: the saved length, else 256
            max_length = saved_max_length(self.path) or DEFAULT_LENGTH
        max_length = fit_length(max_length, self.encoder.transformer.config)
        self.max_length = min(max_length, self.tokenizer.model_max_length)  # a tokenizer saved with a shorter limit

    @property
    def model(self):
        """The transformer under the pooling."""
        return self.encoder.transformer

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = False) -> np.ndarray:
        """Embed texts in length-sorted batches; returns (n, hidden) vectors in input order (unit vectors when the
        model normalises, as sentence-transformers' all-* models do)."""
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; wrap a single text as [text].")
        training = self.encoder.training  # an evaluator may call encode during fit
        self.encoder.eval()
        encodings = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
        try:
            with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not show_progress_bar) as bar:
                width = self.encoder.dim
                pool = lambda batch: self.encoder(**batch)  # noqa: E731
                return forward_sorted(self.tokenizer, encodings, batch_size, pool, width, self.device, bar).numpy()
        finally:
            self.encoder.train(training)

    def similarity(self, texts_a: Sequence[str], texts_b: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Cosine similarity of each pair (texts_a[i], texts_b[i])."""
        if len(texts_a) != len(texts_b):
            raise ValueError(f"Got {len(texts_a)} and {len(texts_b)} texts; pass two lists of equal length.")
        a, b = (unit(self.encode(texts, batch_size)) for texts in (texts_a, texts_b))
        return (a * b).sum(-1)

    def fit(self, train_dataloader, evaluator=None, epochs: int = 1, **kwargs) -> None:
        """Train on a DataLoader of `InputExample`s with `CrossEncoder.fit`'s arguments (`xenc.fit.fit_bi_encoder`)."""
        from .fit import fit_bi_encoder

        fit_bi_encoder(self, train_dataloader, evaluator, epochs, **kwargs)

    def save_pretrained(self, path: str | Path, overwrite: bool = False) -> None:
        """Save as a sentence-transformers folder (safetensors, modules, pooling, model card); refuse to replace a
        model unless `overwrite`."""
        if Path(path).exists() and not Path(path).is_dir():
            raise FileExistsError(f"{path} is a file; a model is saved into a folder. Fix: pass a folder path.")
        check_output_dir(path, overwrite)
        card = model_card(self.path, "see fit_args.json / results.json beside it", "see the training record")
        save_sentence_model(path, self.encoder, self.tokenizer, self.max_length, card)

    save = save_pretrained

    def push_to_hub(self, repo_id: str, **kwargs) -> str:
        """Save and upload to the Hugging Face Hub; the peer's arguments (`token`, `private`, `commit_message`,
        `exist_ok`, `replace_model_card`, `revision`, `create_pr`, ...): `xenc.publish.push_to_hub`."""
        from .publish import push_to_hub

        return push_to_hub(self, repo_id, **kwargs)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (cosine by dot product), whatever the model's normalisation."""
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12, None)
