"""The peer's (sentence-transformers') old argument names: still accepted, with the deprecation warning the peer
gives, and mapped to today's names before `CrossEncoder` sees them."""

from __future__ import annotations

import functools
import warnings

# CrossEncoder(...): old name -> new name (sentence-transformers < 4, and < 6 for `tokenizer_args`)
INIT_RENAMES = {
    "model_name": "model_name_or_path",
    "default_activation_function": "activation_fn",
    "automodel_args": "model_kwargs",
    "tokenizer_args": "tokenizer_kwargs",
    "processor_kwargs": "tokenizer_kwargs",  # the peer's name since 6; xenc keeps `tokenizer_kwargs`, no warning
    "config_args": "config_kwargs",
    "cache_dir": "cache_folder",
}
CALL_RENAMES = {"sentences": "inputs", "activation_fct": "activation_fn"}  # predict / rank
NO_EFFECT = {"predict": ("num_workers",), "rank": ("num_workers", "apply_softmax", "convert_to_numpy",
                                                   "convert_to_tensor")}  # fmt: skip


def deprecated(message: str, stacklevel: int = 4) -> None:
    """A `FutureWarning` (shown to users, unlike `DeprecationWarning`) pointing at the caller's line (`stacklevel`:
    4 from a wrapper below, 3 from a property)."""
    warnings.warn(message, FutureWarning, stacklevel=stacklevel)


def rename(kwargs: dict, old: str, new: str, what: str) -> None:
    """Move `kwargs[old]` to `kwargs[new]` (a value given under the new name wins), warning unless `old` is only
    the peer's newer spelling of an xenc name."""
    value = kwargs.pop(old)
    if old != "processor_kwargs":
        deprecated(f"The {what} `{old}` argument was renamed and is now deprecated. Please use `{new}` instead.")
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
            deprecated(
                "The CrossEncoder `classifier_dropout` argument is deprecated. Please use "
                f"`config_kwargs={{'classifier_dropout': {dropout}}}` instead."
            )
            kwargs["config_kwargs"] = {**(kwargs.get("config_kwargs") or {}), "classifier_dropout": dropout}
        return init(self, *args, **kwargs)

    return wrapper


def call_names(method):
    """`predict` / `rank` taking the peer's old keyword names; the arguments it dropped warn and do nothing."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for old, new in CALL_RENAMES.items():
            if old in kwargs:
                rename(kwargs, old, new, f"CrossEncoder.{name}")
        for old in NO_EFFECT[name]:
            if old in kwargs:
                kwargs.pop(old)
                deprecated(f"The CrossEncoder.{name} `{old}` argument is deprecated and has no effect.")
        return method(self, *args, **kwargs)

    return wrapper
