"""The precisions `predict` runs at, in one table: the torch dtype of its copy and OpenVINO's inference hint."""

from __future__ import annotations

from typing import NamedTuple

import torch


class Precision(NamedTuple):
    """How `predict` runs at a precision on each backend."""

    dtype: torch.dtype | None  # torch: the weights of its copy (None: the fp32 model itself)
    openvino_hint: str | None  # OpenVINO's INFERENCE_PRECISION_HINT (None: int8, its other ops in the CPU's default)
    openvino_only: bool = False


# the one table of precisions; torch's dynamic int8 was measured and left out: -0.012 STSb Spearman
PRECISIONS = {"fp32": Precision(None, "f32"), "bf16": Precision(torch.bfloat16, "bf16"),
              "fp16": Precision(torch.float16, "f16"), "int8": Precision(None, None, openvino_only=True)}  # fmt: skip
TORCH_PRECISIONS = tuple(name for name, p in PRECISIONS.items() if not p.openvino_only)
