"""Distributed inference: score a long pair list with every process of a launch, results back in input order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from accelerate import PartialState
from accelerate.utils import gather_object

from .checks import check_pairs
from .cross_encoder import CrossEncoder


def predict_distributed(model: CrossEncoder, pairs: Sequence, **predict_kwargs) -> np.ndarray:
    """`model.predict(pairs)` split across the processes of a launch; every process gets all scores in input order.

    Each process scores one contiguous slice of `pairs` (`PartialState.split_between_processes`: the first
    `len(pairs) % num_processes` slices are one pair longer, none is padded), and `gather_object` concatenates the
    slices in process order, which is input order. In a plain single process it is `model.predict(pairs)`.
    Call it on every process (it synchronises them); under several GPUs the model is moved to this process's GPU.
    End the script with `PartialState().destroy_process_group()`: a gloo group left open can abort a process at exit.

    Args:
        model: a `CrossEncoder`, loaded on every process.
        pairs: `[[text_a, text_b], ...]`, the same list on every process.
        **predict_kwargs: passed to `CrossEncoder.predict` (`batch_size`, `apply_softmax`, `activation_fn`...).

    Returns:
        `(n,)` scores for a one-label model, `(n, num_labels)` otherwise, as `predict` returns them.

    Example:
        >>> # accelerate launch --num_processes 2 score.py   (score.py calls this on both processes)
        >>> scores = predict_distributed(CrossEncoder("runs/stsb"), pairs, batch_size=64)  # doctest: +SKIP
    """
    pairs = check_pairs(pairs)  # the same check on every process, so a bad list stops all of them alike
    # Without GPUs the launched processes can only be CPU processes: cpu=True makes them one gloo group (accelerate
    # would otherwise leave each alone). A state set up earlier in this process (e.g. by a Trainer) is kept.
    state = PartialState(cpu=not torch.cuda.is_available())
    if state.num_processes > 1 and state.device.type != "cpu" and model.device != state.device:
        model.model.to(state.device)  # each process on its own GPU
        model.device = state.device
    with state.split_between_processes(pairs) as shard:
        scores = np.asarray(model.predict(shard, **predict_kwargs))  # an empty shard gives an empty (0, ...) array
    return np.concatenate(gather_object([scores]))  # one array per process, in process order
