"""`CrossEncoder`: score, rank and save sentence pairs with any `AutoModelForSequenceClassification`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PretrainedConfig

from .checks import check_output_dir, check_pairs
from .data.mirror import ID2LABEL, LABEL2ID
from .models import DEFAULT_MODEL, resolve_model

logger = logging.getLogger(__name__)
_ACTIVATIONS = {1: "torch.nn.modules.activation.Sigmoid"}  # what sentence-transformers' loader reads


def mark_activation(config: PretrainedConfig) -> None:
    """Record the score activation in `config.json` (`sentence_transformers.activation_fn`) for interop."""
    path = _ACTIVATIONS.get(config.num_labels, "torch.nn.modules.linear.Identity")
    config.sentence_transformers = {**(getattr(config, "sentence_transformers", None) or {}), "activation_fn": path}


class CrossEncoder:
    """A pair scorer with the sentence-transformers `CrossEncoder` interface, on plain transformers checkpoints.

    Args:
        model_name_or_path: local folder, Hub id, or alias (`minilm-l6`, the default).
        num_labels: output size; a new head is created when it differs from the base model (3 gets `LABEL2ID`).
        max_length: longest encoded pair; default: the tokenizer's limit, at most 512.
        device: `cpu`, `cuda`, ...; default: CUDA when available.
        trust_remote_code: passed to transformers; keep False unless you trust the model's code.

    Example:
        >>> model = CrossEncoder("minilm-l6", num_labels=1)  # doctest: +SKIP
        >>> model.predict([["A man eats.", "A person is eating."]])  # doctest: +SKIP
        array([0.53], dtype=float32)
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        num_labels: int | None = None,
        max_length: int | None = None,
        device: str | None = None,
        trust_remote_code: bool = False,
    ):
        path = resolve_model(model_name_or_path)
        kwargs = {"trust_remote_code": trust_remote_code}
        if num_labels is not None:
            kwargs["num_labels"] = num_labels
            if num_labels == len(LABEL2ID):
                kwargs.update(label2id=LABEL2ID, id2label=ID2LABEL)
        self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(path, **kwargs)
        except RuntimeError as err:  # size mismatch of a trained head
            raise ValueError(
                f"{model_name_or_path} has a classification head that does not fit num_labels={num_labels}. "
                "Leave num_labels unset to use the saved head."
            ) from err
        self.max_length = max_length or min(self.tokenizer.model_max_length, 512)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device)
        mark_activation(self.model.config)

    @property
    def config(self) -> PretrainedConfig:
        return self.model.config

    @property
    def num_labels(self) -> int:
        return self.model.config.num_labels

    def predict(
        self,
        sentences: Sequence,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        activation_fn: Callable | None = None,
        apply_softmax: bool = False,
        convert_to_numpy: bool = True,
        truncation: str = "longest_first",
    ) -> np.ndarray | torch.Tensor | float:
        """Score pairs: sigmoid for one label, raw logits (or softmax with `apply_softmax`) for classes.

        Pairs are processed longest first in length-sorted batches, so little compute goes to padding; the
        output keeps the input order. A single pair `[a, b]` returns a single score.

        Returns:
            `(n,)` scores for one label, `(n, num_labels)` otherwise.
        """
        single = len(sentences) == 2 and all(isinstance(t, str) for t in sentences)
        pairs = check_pairs([sentences] if single else sentences)
        if not pairs:
            return np.zeros((0,) if self.num_labels == 1 else (0, self.num_labels), dtype=np.float32)
        logits = self._logits(pairs, batch_size, show_progress_bar, truncation)
        if activation_fn is not None:
            scores = activation_fn(logits)
        elif self.num_labels == 1:
            scores = torch.sigmoid(logits)
        else:
            scores = logits
        if apply_softmax and scores.shape[-1] > 1:
            scores = torch.softmax(scores, dim=-1)
        scores = scores.squeeze(-1) if self.num_labels == 1 else scores
        if single:
            return scores[0].item() if self.num_labels == 1 else scores[0].numpy()
        return scores.numpy() if convert_to_numpy else scores

    @torch.inference_mode()
    def _logits(self, pairs: list[tuple[str, str]], batch_size: int, progress: bool | None, truncation: str):
        """Raw logits (n, num_labels) in input order, computed in length-sorted batches."""
        a, b = zip(*pairs)
        enc = self.tokenizer(list(a), list(b), truncation=truncation, max_length=self.max_length)
        order = np.argsort([-len(ids) for ids in enc["input_ids"]], kind="stable")
        out = torch.empty(len(pairs), self.num_labels)
        was_training = self.model.training
        self.model.eval()
        show = progress if progress is not None else len(pairs) > 10 * batch_size
        for start in tqdm(range(0, len(pairs), batch_size), desc="Scoring pairs", disable=not show):
            idx = order[start : start + batch_size]
            batch = self.tokenizer.pad(
                {k: [enc[k][i] for i in idx] for k in enc.keys()}, pad_to_multiple_of=8, return_tensors="pt"
            )
            logits = self.model(**batch.to(self.device)).logits
            out[torch.as_tensor(idx)] = logits.float().cpu()
        self.model.train(was_training)
        return out

    def rank(
        self,
        query: str,
        documents: Sequence[str],
        top_k: int | None = None,
        return_documents: bool = False,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
    ) -> list[dict]:
        """Score `query` against each document (documents truncated first) and sort, best first.

        Returns:
            `[{"corpus_id": index in documents, "score": float[, "text": str]}, ...]`, at most `top_k` long.
        """
        if isinstance(documents, str):
            raise TypeError("documents must be a list of str; wrap a single document as [document].")
        if self.num_labels != 1:
            raise ValueError(f"rank needs a one-label (relevance) model; this one has {self.num_labels} labels.")
        scores = self.predict(
            [(query, d) for d in documents], batch_size, show_progress_bar, truncation="only_second"
        ) if documents else np.zeros(0)  # fmt: skip
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [
            {"corpus_id": int(i), "score": float(scores[i]), **({"text": documents[i]} if return_documents else {})}
            for i in order
        ]

    def save_pretrained(self, path: str | Path, overwrite: bool = False, safe_serialization: bool = True) -> None:
        """Save model and tokenizer as a plain Hugging Face checkpoint (safetensors); refuse to replace a model."""
        check_output_dir(path, overwrite)
        mark_activation(self.model.config)
        self.model.save_pretrained(path, safe_serialization=safe_serialization)
        self.tokenizer.save_pretrained(path)

    save = save_pretrained

    def fit(self, train_dataloader, evaluator=None, epochs: int = 1, **kwargs) -> None:
        """Train on a DataLoader of `InputExample`s, as sentence-transformers' `CrossEncoder.fit` does."""
        from .fit import fit_cross_encoder

        fit_cross_encoder(self, train_dataloader, evaluator=evaluator, epochs=epochs, **kwargs)
