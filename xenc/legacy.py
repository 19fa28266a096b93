"""The peer's (sentence-transformers') old argument names: still accepted and mapped to today's names before
`CrossEncoder` sees them, with the peer's notices: a renamed or dropped argument is logged once per process (WARNING,
`xenc.legacy` logger), `classifier_dropout` every time; the old property raises a `DeprecationWarning`."""

from __future__ import annotations

import functools
import inspect
import logging
import warnings

logger = logging.getLogger(__name__)

# CrossEncoder(...): old name -> new name (sentence-transformers < 4, and < 6 for `tokenizer_args`)
INIT_RENAMES = {
    "model_name": "model_name_or_path",
    "default_activation_function": "activation_fn",
    "automodel_args": "model_kwargs",
    "tokenizer_args": "processor_kwargs",  # the peer's name since 6; `CrossEncoder` takes it beside `tokenizer_kwargs`
    "config_args": "config_kwargs",
    "cache_dir": "cache_folder",
}
CALL_RENAMES = {"sentences": "inputs", "activation_fct": "activation_fn"}  # predict / rank
# arguments the peer dropped from predict / rank: they do nothing where the method does not take them (why, if known)
NO_EFFECT = {
    "num_workers": "",
    "apply_softmax": ", as `{name}` only supports models with `num_labels=1`",
    "convert_to_numpy": ", as `{name}` always returns Python floats",
    "convert_to_tensor": ", as `{name}` always returns Python floats",
}


@functools.cache
def warn_once(message: str) -> None:
    """Log `message` as a warning the first time it is given in this process (as the peer's `warning_once`)."""
    logger.warning(message)


def deprecated_property(message: str) -> None:
    """A `DeprecationWarning` at the line that read the property (as the peer's `typing_extensions.deprecated`)."""
    warnings.warn(message, DeprecationWarning, stacklevel=3)


def rename(kwargs: dict, old: str, new: str, what: str) -> None:
    """Move `kwargs[old]` to `kwargs[new]` (a value given under the new name wins) and log the rename once."""
    value = kwargs.pop(old)
    warn_once(f"The {what} `{old}` argument was renamed and is now deprecated. Please use `{new}` instead.")
    kwargs.setdefault(new, value)


def init_names(init):
    """`CrossEncoder.__init__` taking the peer's old keyword names, and `classifier_dropout` as the peer now wants
    it: inside `config_kwargs`."""

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        for old, new in INIT_RENAMES.items():
            if old in kwargs:
                rename(kwargs, old, new, "CrossEncoder")
        if "classifier_dropout" in kwargs:
            dropout = kwargs.pop("classifier_dropout")
            logger.warning(
                "The CrossEncoder `classifier_dropout` argument is deprecated. Please use "
                f"`config_kwargs={{'classifier_dropout': {dropout}}}` instead."
            )
            kwargs["config_kwargs"] = {**(kwargs.get("config_kwargs") or {}), "classifier_dropout": dropout}
        return init(self, *args, **kwargs)

    return wrapper


def call_names(method):
    """`predict` / `rank` (or any method) taking the peer's old keyword names; an argument the peer dropped that
    `method` does not declare is logged and does nothing."""
    name = method.__name__
    dropped = [old for old in NO_EFFECT if old not in inspect.signature(method).parameters]

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for old, new in CALL_RENAMES.items():
            if old in kwargs:
                rename(kwargs, old, new, f"CrossEncoder.{name}")
        for old in dropped:
            if old in kwargs:
                kwargs.pop(old)
                reason = NO_EFFECT[old].format(name=name)
                warn_once(f"The CrossEncoder.{name} `{old}` argument is deprecated and has no effect{reason}. "
                          "It will be removed in a future version.")  # fmt: skip
        return method(self, *args, **kwargs)

    return wrapper
