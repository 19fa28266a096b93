"""What a saved head means beyond its weights: one output or several, and the activation of its scores.

The activation is recorded where sentence-transformers reads it (`config.json`, `sentence_transformers.activation_fn`,
and `config_sentence_transformers.json` when present), so saved models score the same in both libraries.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
import transformers
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PretrainedConfig

from .models import load_pretrained
from .tasks import TASKS

logger = logging.getLogger(__name__)
_ACTIVATIONS = {1: "torch.nn.modules.activation.Sigmoid"}  # the default per num_labels; Identity otherwise


def mark_activation(config: PretrainedConfig, activation: Callable | None = None) -> None:
    """Record the score activation in `config.json` (`sentence_transformers.activation_fn`) for interop: the
    default of the head (sigmoid for one label, identity otherwise) or `activation`'s class path."""
    default = _ACTIVATIONS.get(config.num_labels, "torch.nn.modules.linear.Identity")
    path = f"{type(activation).__module__}.{type(activation).__qualname__}" if activation is not None else default
    config.sentence_transformers = {**(getattr(config, "sentence_transformers", None) or {}), "activation_fn": path}


# the two small files of sentence-transformers 6's CrossEncoder layout: one Transformer module at the folder's root,
# which reads the plain checkpoint; with them the peer reads `config_sentence_transformers.json` (activation, prompts)
ST_TRANSFORMER_TYPE = "sentence_transformers.base.modules.transformer.Transformer"
ST_MODULES = [{"idx": 0, "name": "0", "path": "", "type": ST_TRANSFORMER_TYPE}]
ST_TRANSFORMER = {"transformer_task": "sequence-classification", "module_output_name": "scores",
                  "modality_config": {"text": {"method": "forward", "method_output_name": "logits"}}}  # fmt: skip


def write_st_config(
    folder: Path, config: PretrainedConfig, prompts: dict | None = None, default_prompt_name: str | None = None
) -> None:
    """`config_sentence_transformers.json` (model type, score activation after `mark_activation`, prompts),
    `modules.json` and `sentence_bert_config.json` as sentence-transformers 6 writes them for a CrossEncoder."""
    content = {"__version__": {"pytorch": torch.__version__, "transformers": transformers.__version__},
               "activation_fn": config.sentence_transformers["activation_fn"],
               "default_prompt_name": default_prompt_name, "model_type": "CrossEncoder",
               "prompts": prompts or {}}  # fmt: skip
    files = {"config_sentence_transformers.json": content, "modules.json": ST_MODULES,
             "sentence_bert_config.json": ST_TRANSFORMER}  # fmt: skip
    for name, value in files.items():
        (Path(folder) / name).write_text(json.dumps(value, indent=2))


def saved_activation(config: PretrainedConfig, folder: str | None = None) -> torch.nn.Module:
    """The activation a saved model asks for (`config_sentence_transformers.json`, else `config.json` in the
    sentence-transformers 4-6 or 3 way), or the head's default. Only `torch.nn` modules are built from a saved name:
    loading never imports other code."""
    path = (getattr(config, "sentence_transformers", None) or {}).get("activation_fn")
    path = path or getattr(config, "sbert_ce_default_activation_function", None)  # sentence-transformers 3
    st_config = Path(folder or "") / "config_sentence_transformers.json"
    if folder and st_config.is_file():
        path = json.loads(st_config.read_text()).get("activation_fn") or path
    default = _ACTIVATIONS.get(config.num_labels, "torch.nn.modules.linear.Identity")
    module, _, name = (path or default).rpartition(".")
    if not module.startswith("torch.nn.") or not isinstance(getattr(torch.nn, name, None), type):
        logger.warning("The saved activation_fn %r is not a torch.nn module and is not imported; using %s. Pass "
                       "activation_fn= to choose another.", path, default)  # fmt: skip
        module, _, name = default.rpartition(".")
    return getattr(torch.nn, name)()


def has_classifier_head(path: str, hub: dict) -> bool:
    """Whether the checkpoint was saved as a sequence classifier (else it is a base model: one output)."""
    try:
        architectures = AutoConfig.from_pretrained(path, **hub).architectures or []
    except OSError:
        return True  # let the model loader raise its own message
    return any(a.endswith("ForSequenceClassification") for a in architectures)


def load_pair_classifier(path: str, num_labels: int | None, allow_pickle: bool, hub: dict, model_kwargs: dict,
                         tokenizer_kwargs: dict | None) -> tuple:  # fmt: skip
    """(tokenizer, model, untrained_head) of a checkpoint as a pair classifier: a base without a head gets one
    label (as sentence-transformers) and a warning; 3 labels get the NLI names; a saved head of another size is a
    named error."""
    untrained = not has_classifier_head(path, hub)
    if num_labels is None and untrained:
        num_labels = 1  # one relevance / similarity output
    kwargs = {**hub, **model_kwargs, **({"num_labels": num_labels} if num_labels is not None else {})}
    if num_labels == TASKS["nli"].num_labels:  # 3 outputs: the NLI label names, as training uses them
        label2id = TASKS["nli"].label2id
        kwargs.update(label2id=label2id, id2label={i: name for name, i in label2id.items()})
    tokenizer = AutoTokenizer.from_pretrained(path, **{**hub, **(tokenizer_kwargs or {})})
    try:
        model = load_pretrained(AutoModelForSequenceClassification, path, allow_pickle, **kwargs)
    except RuntimeError as err:  # size mismatch of a trained head
        raise ValueError(f"{path} has a classification head that does not fit num_labels={num_labels}. "
                         "Leave num_labels unset to use the saved head.") from err  # fmt: skip
    if untrained:
        warnings.warn(
            f"{path} has no classification head: a new, untrained one was created, so scores are random until you "
            "train the model (fit, xenc train). Load a trained cross-encoder to score pairs.",
            stacklevel=4,
        )
    return tokenizer, model, untrained
