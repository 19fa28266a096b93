"""`BiEncoder`: one embedding per text (mean pooling), compared by cosine; the baseline a cross-encoder must beat."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModel, AutoTokenizer

from .checks import check_device
from .encoding import forward_sorted
from .models import DEFAULT_MODEL, load_pretrained, resolve_model
from .scoring import PRECISIONS


class BiEncoder:
    """Sentence embeddings by attention-masked mean pooling, L2-normalised (as all-MiniLM-L6-v2 was trained).

    `precision` ("fp32", "bf16" for GPUs and CPUs with avx512_bf16 / AMX, "fp16" for GPUs) is the dtype the weights
    are cast to once, at construction; embeddings are pooled and normalised in fp32.

    Example:
        >>> bi = BiEncoder("minilm-l6")  # doctest: +SKIP
        >>> bi.similarity(["A man eats."], ["A person is eating."])  # doctest: +SKIP
        array([0.7...], dtype=float32)
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        max_length: int = 256,
        device: str | None = None,
        allow_pickle: bool = False,
        precision: str = "fp32",
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"precision={precision!r} is unknown; use one of {tuple(PRECISIONS)}.")
        path = resolve_model(model_name_or_path)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.device, self.precision = check_device(device), precision
        self.model = load_pretrained(AutoModel, path, allow_pickle).to(self.device, PRECISIONS[precision]).eval()
        self.max_length = min(max_length, self.tokenizer.model_max_length)  # never past the position table

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = False) -> np.ndarray:
        """Embed texts in length-sorted batches; returns (n, hidden) unit vectors in input order."""
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; wrap a single text as [text].")

        def pool(batch) -> torch.Tensor:
            hidden = self.model(**batch).last_hidden_state.float()  # (batch, seq, hidden); pooled in fp32
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)

        encodings = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
        with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not show_progress_bar) as bar:
            width = self.model.config.hidden_size
            return forward_sorted(self.tokenizer, encodings, batch_size, pool, width, self.device, bar).numpy()

    def similarity(self, texts_a: Sequence[str], texts_b: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Cosine similarity of each pair (texts_a[i], texts_b[i])."""
        if len(texts_a) != len(texts_b):
            raise ValueError(f"Got {len(texts_a)} and {len(texts_b)} texts; pass two lists of equal length.")
        return (self.encode(texts_a, batch_size) * self.encode(texts_b, batch_size)).sum(-1)
