"""What this CPU is and offers, from /proc/cpuinfo: read once here for run records and for the choice of a
scoring precision."""

from __future__ import annotations

import os
import platform
from pathlib import Path

SPEED_FLAGS = ("amx_bf16", "amx_int8", "avx512_bf16", "avx512_vnni", "avx_vnni", "avx512f", "avx2")


def cpu_fields(info: str | None = None) -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (`info`: its text; read when None; {} off Linux)."""
    if info is None:
        info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags(info: str | None = None) -> set[str]:
    return set(cpu_fields(info).get("flags", "").split())


def cpu_description(info: str | None = None) -> str:
    """CPU model, generation and the flags that decide bf16 / int8 speed, e.g. `AMD EPYC (family 26 model 2;
    avx512_bf16 avx512_vnni)`: the family tells apart CPUs sold under one name (Zen 4 is 25, Zen 5 is 26)."""
    fields = cpu_fields(info)
    flags = set(fields.get("flags", "").split())
    shown = [f for f in SPEED_FLAGS if f in flags and f != "avx_vnni"]
    family = f"family {fields['cpu family']} model {fields.get('model', '?')}; " if "cpu family" in fields else ""
    model = fields.get("model name") or platform.processor()
    return f"{model} ({family}{' '.join(shown) or 'no avx2'}), {os.cpu_count()} cores"


def fast_precisions(flags: set[str]) -> list[str]:
    """The approximate OpenVINO precisions worth trying on a CPU with these flags, likeliest fastest first: bf16
    then int8 with AMX; int8 (then bf16 where avx512_bf16 exists) with VNNI and no AMX; none otherwise."""
    if "amx_bf16" in flags:
        return ["bf16", "int8"]
    if {"avx512_vnni", "avx_vnni"} & flags:
        return ["int8", "bf16"] if "avx512_bf16" in flags else ["int8"]
    return []
