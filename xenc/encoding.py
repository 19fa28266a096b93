"""Length-sorted inference shared by both encoders: inputs tokenized once, run in batches sorted by token count
(so little compute goes to padding), results returned in input order; and window scores folded back into pairs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def forward_sorted(
    tokenizer, encodings, batch_size: int, forward: Callable, width: int, device: torch.device, bar=None
) -> torch.Tensor:
    """`forward(padded batch)` over `encodings` (unpadded token ids), longest first; `(n, width)` in input order."""
    order = np.argsort([-len(ids) for ids in encodings["input_ids"]], kind="stable")
    multiple = 8 if device.type == "cuda" else None  # tensor cores like it; on CPU padding is just work
    outputs = []  # kept on the device until the end: a GPU runs one batch while the next one is padded
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = tokenizer.pad(
            {k: [encodings[k][i] for i in idx] for k in encodings.keys()}, pad_to_multiple_of=multiple,
            return_tensors="pt",
        )  # fmt: skip
        outputs.append(forward(batch.to(device)).float())
        if bar is not None:
            bar.update(len(idx))
    out = torch.empty(len(order), width)
    if outputs:
        out[torch.as_tensor(order)] = torch.cat(outputs).cpu()
    return out


def fold_windows(scores: torch.Tensor, owner, n_pairs: int, aggregate: str) -> torch.Tensor:
    """Scores of windows -> one per pair (`owner[w]` = the pair of window w, ascending): the first window's score
    (FirstP) or the best one (MaxP, Dai & Callan 2019)."""
    owner = torch.as_tensor(owner)
    if aggregate == "first":
        return scores[torch.searchsorted(owner, torch.arange(n_pairs))]
    best = torch.full((n_pairs, scores.shape[-1]), -torch.inf)
    return best.scatter_reduce(0, owner.view(-1, 1).expand_as(scores), scores, "amax")
