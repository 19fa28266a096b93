"""`CrossEncoder`: score, rank and save sentence pairs with any `AutoModelForSequenceClassification`."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import PretrainedConfig

from .backends import QUALITY_TOLERANCE
from .call_options import scores_as_requested, text_settings, windowing
from .cards import cross_card, write_card
from .checks import check_device, check_model_folder, check_output_dir
from .heads import load_pair_classifier, mark_activation, saved_activation, write_st_config
from .legacy import call_names, deprecated_property, init_names
from .lengths import check_max_length, position_limit
from .models import DEFAULT_MODEL, resolve_model
from .pipeline import check_scoring_model, check_scoring_options, pair_settings, prepare_scoring, scoring_model
from .prompts import load_prompts, resolve_prompt, with_prompt
from .saving import save_atomically
from .scoring import CHUNK_SIZE, pair_logits, training_mode_kept

logger = logging.getLogger(__name__)


class CrossEncoder:
    """A pair scorer with the sentence-transformers `CrossEncoder` interface, on plain transformers checkpoints.

    Args:
        model_name_or_path: local folder, Hub id, or alias (`minilm-l6`, the default).
        num_labels: output size; a new head is created when it differs from the base model (3 gets `LABEL2ID`).
        max_length: longest encoded pair; default: the tokenizer's limit, at most 512.
        device: `cpu`, `cuda`, ...; default: CUDA when available.
        trust_remote_code: passed to transformers; keep False unless you trust the model's code.
        allow_pickle: also read pickle weights (`pytorch_model.bin`); by default only safetensors are read.
        precision: `fp32` (default, exact), or `bf16` / `fp16`: `predict` runs a copy of the model in that dtype
            (made on first use and again whenever the fp32 weights change). bf16 is the fast path on CPUs with
            AMX and on GPUs; its accuracy cost is in the README's "Performance". Training (`fit`) and saved
            weights stay fp32. With `backend="openvino"` also `int8` (static, calibrated on pairs) and `auto`: on
            first use, the fastest of fp32 and what this CPU offers (bf16 with AMX, int8 with VNNI), each with
            `token_keep` and with every token, whose guard passes, timed on the guard pairs; the choice and its
            figures are saved beside the conversion.
        backend: `torch` (default) or `openvino` (CPU; `pip install "xenc[fast]"`): `predict` runs an OpenVINO
            conversion of the model, cached beside it (see `xenc.backends`); fp32 there gives torch's scores.
        calibration_pairs: pairs int8 is calibrated on; default: a sample of the model's own training pairs
            (named by the `results.json` of `xenc train`).
        guard_pairs: `(pairs, labels)` on which a non-fp32 OpenVINO path is checked before use: when its Spearman
            (one output) or accuracy moves by more than `quality_tolerance` from fp32, predict falls back to
            OpenVINO fp32 with a warning (`quality_check` holds the numbers: the metric of `fp32` and of the
            `fast` path, the bound of its change). Default: up to 1,500 of the model's own dev pairs. `(pairs,
            labels, query_ids)` guards a reranker by MAP over each query's candidates (the default for a model
            trained on ranking data).
        processor_kwargs: the peer's (sentence-transformers 6) name for `tokenizer_kwargs`; both are taken.
        token_keep: below 1 (OpenVINO, BERT-family and MPNet classifiers), an approximation checked by the same
            guard: the last third of the layers sees only this fraction of each pair's tokens, those the first
            token attends to most (int8 `mpnet-base` on 256-token pairs: 0.5 is 1.14x faster; see the README).
            Guard it with pairs like those you score (for a reranker: its first stage's candidates). With
            `precision="auto"` it is what may be chosen: auto also tries every token and sets `token_keep` to 1 when
            that path wins.

    Example:
        >>> model = CrossEncoder("minilm-l6", num_labels=1)  # doctest: +SKIP
        >>> model.predict([["A man eats.", "A person is eating."]])  # doctest: +SKIP
        array([0.53], dtype=float32)
    """

    @init_names
    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        num_labels: int | None = None,
        max_length: int | None = None,
        device: str | None = None,
        trust_remote_code: bool = False,
        precision: str = "fp32",
        activation_fn: Callable | None = None,
        model_kwargs: dict | None = None,
        tokenizer_kwargs: dict | None = None,
        config_kwargs: dict | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
        cache_folder: str | None = None,
        allow_pickle: bool = False,
        backend: str = "torch",
        calibration_pairs: list | None = None,
        guard_pairs: tuple | None = None,
        quality_tolerance: float = QUALITY_TOLERANCE,
        token_keep: float = 1.0,
        prompts: dict[str, str] | None = None,
        default_prompt_name: str | None = None,
        processor_kwargs: dict | None = None,
    ):
        check_scoring_options(backend, precision, token_keep, quality_tolerance)
        path = resolve_model(model_name_or_path)
        folder = path if Path(path).is_dir() else None
        if folder:
            check_model_folder(path)
        hub = {"revision": revision, "local_files_only": local_files_only, "cache_dir": cache_folder,
               "trust_remote_code": trust_remote_code}  # fmt: skip
        tokenizer_kwargs = {**(tokenizer_kwargs or {}), **(processor_kwargs or {})}  # the peer's name wins a tie
        self.tokenizer, self.model, self.untrained_head = load_pair_classifier(
            path, num_labels, allow_pickle, hub, {**(config_kwargs or {}), **(model_kwargs or {})}, tokenizer_kwargs
        )
        default = min(self.tokenizer.model_max_length, 512, position_limit(self.model.config))
        self.max_length = default if max_length is None else max_length
        self.device = check_device(device)
        self.model.to(self.device)
        # `is not None`: an explicit activation is kept even when falsy (an empty `torch.nn.Sequential()`)
        self.activation_fn = saved_activation(self.model.config, folder) if activation_fn is None else activation_fn
        mark_activation(self.model.config, self.activation_fn)
        self.prompts, self.default_prompt_name = load_prompts(folder, prompts, default_prompt_name)
        record = Path(path) / "results.json" if folder else None  # how a saved model was trained: its model card
        self.training_record = json.loads(record.read_text()) if record and record.is_file() else None
        self._set_scoring(str(path), backend, precision, token_keep, calibration_pairs, guard_pairs, quality_tolerance)

    def _set_scoring(self, model_path: str, backend: str, precision: str, token_keep: float, calibration_pairs,
                     guard_pairs, quality_tolerance: float) -> None:  # fmt: skip
        """The inference options (checked against this model and device before any pair is scored) and the state
        `predict` fills in on first use."""
        self.precision, self.backend, self.model_path, self.token_keep = precision, backend, model_path, token_keep
        self.calibration_pairs, self.guard_pairs = calibration_pairs, guard_pairs
        self.quality_tolerance = quality_tolerance
        check_scoring_model(self)
        self.quality_check = None  # the guard's numbers once a non-fp32 OpenVINO path was checked
        self.auto_choice = None  # precision="auto": the precision chosen on first use and the figures it rests on
        self._exact_guard = (None, None)  # the exact fp32 logits of the guard pairs, for every path guarded on them
        self.last_truncated = 0  # pairs the last predict cut at max_length (also logged as a warning)
        self._low_precision = (None, None)  # (fp32 weights' version key, their bf16/fp16 copy)

    @property
    def config(self) -> PretrainedConfig:
        return self.model.config

    @property
    def num_labels(self) -> int:
        return self.model.config.num_labels

    @property
    def default_activation_function(self) -> Callable:
        """The name sentence-transformers < 4 used for `activation_fn` (deprecated there: it warns)."""
        deprecated_property("The `default_activation_function` property was renamed and is now deprecated. "
                            "Please use `activation_fn` instead.")  # fmt: skip
        return self.activation_fn

    @property
    def max_seq_length(self) -> int:
        """sentence-transformers' name for `max_length` (tokens per pair)."""
        return self.max_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self.max_length = value

    @call_names
    def predict(self, inputs: Iterable, batch_size: int = 32, show_progress_bar: bool | None = None,
                activation_fn: Callable | None = None, apply_softmax: bool = False, convert_to_numpy: bool = True,
                convert_to_tensor: bool = False, truncation: str = "longest_first", chunk_size: int = CHUNK_SIZE,
                windows: str | None = None, stride: int = 64, prompt_name: str | None = None,
                prompt: str | None = None, pool: dict | None = None, processing_kwargs: dict | None = None,
                ) -> np.ndarray | torch.Tensor | float:  # fmt: skip
        """Score pairs: sigmoid for one label, raw logits (or softmax with `apply_softmax`) for classes.

        `inputs` is a list of pairs or any iterable of them (a generator streams: it is read `chunk_size` pairs
        at a time, so only one chunk's encodings are held). Within a chunk, pairs run longest first in batches
        sorted by token count, so little compute goes to padding; the output keeps the input order. A single
        pair `[a, b]` returns a single score.

        Args:
            windows: for passages longer than `max_length` (one-label models): `"max"` scores every window of the
                second text (overlapping by `stride` tokens, the first text whole in each) and keeps the best
                (MaxP, Dai & Callan 2019); `"first"` keeps the first window (FirstP, what truncation scores).
                None (default): one window, cut by `truncation`.
            processing_kwargs: tokenizer settings for this call only, in the peer's form
                `{"text": {"max_length": 256, "truncation": "only_second"}}` (xenc takes these two).

        Returns:
            `(n,)` scores for one label, `(n, num_labels)` otherwise, after `activation_fn` (default: the model's,
            sigmoid for one label); a tensor with `convert_to_tensor`, a list when both convert flags are False, a
            numpy scalar (or row) for a single pair, as sentence-transformers returns them.

        Example:
            >>> model.predict(((a, b) for a, b in read_pairs("pairs.tsv")), batch_size=64)  # doctest: +SKIP
        """
        if pool is not None:
            raise ValueError(
                "pool (sentence-transformers 6) is not supported by xenc's CrossEncoder: for several processes use "
                "xenc.distributed.predict_distributed."
            )
        single = self.is_singular_input(inputs)
        if single:
            inputs = [inputs.tolist() if isinstance(inputs, np.ndarray) else inputs]
        inputs = with_prompt(inputs, self._prompt(prompt, prompt_name))
        text = text_settings(processing_kwargs)
        length = check_max_length(text.get("max_length", self.max_length), self.config, "max_length (per call)")
        window, truncation = windowing(windows, stride, length, text.get("truncation", truncation), self.num_labels)
        scorer = scoring_model(self)  # made for the model's own max_length: a per-call length does not remake it
        self.last_truncated = 0  # stays 0 if this call fails
        with training_mode_kept(self.model):
            logits, self.last_truncated = pair_logits(pair_settings(self, length), scorer, inputs, batch_size,
                                                      show_progress_bar, truncation, chunk_size, window)  # fmt: skip
        activation = activation_fn if activation_fn is not None else self.activation_fn
        out = scores_as_requested(logits, activation, apply_softmax, self.num_labels == 1, convert_to_numpy,
                                  convert_to_tensor)  # fmt: skip
        return out[0] if single else out

    def prepare(self) -> dict:
        """Make now what the first `predict` would: a torch bf16/fp16 copy (in memory), or the OpenVINO conversion
        with its int8 calibration, quality guard and `precision="auto"` choice, saved on disk (with the model, or in
        the xenc cache for a model that is not a folder) and reused by later models.

        Returns what will score (`scores_with`, `precision`, `token_keep`; after a refused guard exact fp32, with
        `guard_refused`), the saved conversion (`artifact`), and the guard's and `auto`'s figures (`quality_check`,
        `auto_choice`; None where not run).

        Example:
            >>> model = CrossEncoder("runs/stsb", backend="openvino", precision="auto")  # doctest: +SKIP
            >>> model.prepare()["scores_with"]  # doctest: +SKIP
            'openvino int8 (runs/stsb/openvino/...-int8-256-....xml)'
        """
        return prepare_scoring(self)

    def is_singular_input(self, inputs) -> bool:
        """Whether `inputs` is one pair (two texts: a list, tuple or 1-D string array), which `predict` answers with
        one score, rather than a batch of pairs (a list, a 2-D array, a generator; empty is an empty batch).

        Example:
            >>> model.is_singular_input(["a query", "a passage"])  # doctest: +SKIP
            True
        """
        if isinstance(inputs, np.ndarray):
            inputs = inputs.tolist() if inputs.ndim == 1 and inputs.dtype.kind in "UO" else None
        two_texts = isinstance(inputs, Sequence) and not isinstance(inputs, str) and len(inputs) == 2
        return two_texts and all(isinstance(t, str) for t in inputs)

    def encode(self, *args, **kwargs):
        """A cross-encoder has no sentence embedding: it reads two texts together and outputs their score."""
        raise TypeError(
            "A cross-encoder gives no sentence embedding: it scores two texts read together, so there is no vector "
            "to index or compare. Use xenc.BiEncoder(...).encode(sentences) for embeddings and predict([[a, b]]) here."
        )

    @call_names
    def rank(
        self,
        query: str,
        documents: Sequence[str],
        top_k: int | None = None,
        return_documents: bool = False,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        activation_fn: Callable | None = None,
        windows: str | None = None,
        stride: int = 64,
        prompt_name: str | None = None,
        prompt: str | None = None,
    ) -> list[dict]:
        """Score `query` against each document (documents truncated, or in `windows`: see `predict`) and sort.

        Returns:
            `[{"corpus_id": index in documents, "score": float[, "text": str]}, ...]`, at most `top_k` long.
        """
        if isinstance(documents, str):
            raise TypeError("documents must be a list of str; wrap a single document as [document].")
        documents = list(documents)  # a numpy array or pandas Series of texts too
        if self.num_labels != 1:
            raise ValueError(
                "CrossEncoder.rank() only works for models with num_labels=1. "
                "Consider using CrossEncoder.predict() with input pairs instead."
            )
        scores = self.predict(
            [(query, d) for d in documents], batch_size, show_progress_bar, activation_fn, truncation="only_second",
            windows=windows, stride=stride, prompt_name=prompt_name, prompt=prompt,
        ) if documents else np.zeros(0)  # fmt: skip
        if top_k is not None and (not isinstance(top_k, int | np.integer) or top_k < 1):
            raise ValueError(f"top_k={top_k!r}; pass a positive integer, or None for all documents.")
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [
            {"corpus_id": int(i), "score": float(scores[i]), **({"text": documents[i]} if return_documents else {})}
            for i in order
        ]

    def save_pretrained(self, path: str | Path, overwrite: bool = False, safe_serialization: bool = True) -> None:
        """Save model and tokenizer as a plain Hugging Face checkpoint (safetensors); refuse to replace a model."""
        if Path(path).exists() and not Path(path).is_dir():
            raise FileExistsError(f"{path} is a file; a model is saved into a folder. Fix: pass a folder path.")
        check_output_dir(path, overwrite)
        if not safe_serialization:
            warnings.warn("safe_serialization=False: xenc writes safetensors only (no pickle files).", stacklevel=2)
        mark_activation(self.model.config, self.activation_fn)

        def write(folder: Path) -> None:
            self.model.save_pretrained(folder)
            self.tokenizer.save_pretrained(folder)
            write_st_config(folder, self.model.config, self.prompts, self.default_prompt_name)

        save_atomically(path, write)  # a save cut short leaves no folder that loads
        task = "sts" if self.num_labels == 1 else "classification"
        write_card(path, cross_card(Path(path).name, task, self.num_labels, self.max_length, self.training_record))

    save = save_pretrained

    def push_to_hub(self, repo_id: str, **kwargs) -> str:
        """Save and upload to the Hugging Face Hub; the peer's arguments (`token`, `private`, `commit_message`,
        `exist_ok`, `replace_model_card`, `revision`, `create_pr`, ...): `xenc.publish.push_to_hub`."""
        from .publish import push_to_hub

        return push_to_hub(self, repo_id, **kwargs)

    def _prompt(self, prompt: str | None, prompt_name: str | None) -> str | None:
        if prompt is not None and prompt_name is not None:
            warnings.warn("Provide either a `prompt`, a `prompt_name`, or neither, but not both. Ignoring the "
                          "`prompt_name` in favor of `prompt`.", stacklevel=3)  # fmt: skip
        return resolve_prompt(self.prompts, self.default_prompt_name, prompt, prompt_name)

    @property
    def max_length(self) -> int:
        """Longest encoded pair; setting it also sets the tokenizer's `model_max_length` (saved with the model)."""
        return self._max_length

    @max_length.setter
    def max_length(self, value: int) -> None:
        self._max_length = self.tokenizer.model_max_length = check_max_length(value, self.model.config)

    def to(self, device: str | torch.device) -> CrossEncoder:
        """Move the model (and where predict runs) to `device`."""
        self.device = check_device(str(device))
        self.model.to(self.device)
        return self

    def eval(self) -> CrossEncoder:
        self.model.eval()
        return self

    def train(self, mode: bool = True) -> CrossEncoder:
        self.model.train(mode)
        return self

    def fit(self, train_dataloader, evaluator=None, epochs: int = 1, **kwargs) -> None:
        """Train on a DataLoader of `InputExample`s, as sentence-transformers' `CrossEncoder.fit` does."""
        from .fit import fit_cross_encoder

        fit_cross_encoder(self, train_dataloader, evaluator=evaluator, epochs=epochs, **kwargs)
