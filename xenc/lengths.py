"""`max_length`, the longest encoded input in tokens (special tokens included): the one range check that every
place taking it (scoring, embedding, training) runs against the model's position table."""

from __future__ import annotations

MIN_LENGTH = 8  # [CLS] a [SEP] b [SEP] with a token or two each
DEFAULT_LENGTH = 256  # the default of training (`--max_length`) and of `BiEncoder`
PADDED_POSITIONS = ("roberta", "xlm-roberta", "camembert", "mpnet")  # position ids start after the padding id


def position_limit(config) -> int:
    """The longest input the model's position table holds (RoBERTa-style models keep 2 of its rows for padding)."""
    rows = getattr(config, "max_position_embeddings", None) or 512
    return rows - 2 if getattr(config, "model_type", "") in PADDED_POSITIONS else rows


def check_max_length(max_length, config, name: str = "max_length") -> int:
    """`max_length` if it is an integer the model can take, else a ValueError that names the range and the fix."""
    limit = position_limit(config)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not MIN_LENGTH <= max_length <= limit:
        raise ValueError(
            f"{name}={max_length!r}: this model takes {MIN_LENGTH} to {limit} tokens per input (its position "
            f"table). Fix: pass a {name} in that range, or leave it unset."
        )
    return max_length


def fit_length(max_length: int, config, name: str = "max_length") -> int:
    """The default length shrinks to a shorter model's limit; any other length is checked (`check_max_length`)."""
    if max_length == DEFAULT_LENGTH:
        return min(DEFAULT_LENGTH, position_limit(config))
    return check_max_length(max_length, config, name)
