"""What CTranslate2 runs on this CPU: the instruction set it picked, whether it uses Intel MKL,
and its GEMM backends. Results depend on them (int8 on CPUs without VNNI, recipes/int8.py), so
every bench and eval result records them. CTranslate2 says so only in its log when a model
loads, so a 1-layer random model is loaded once in a subprocess with CT2_VERBOSE=1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import lru_cache

_PROBE = """
import sys, tempfile
import ctranslate2
sys.path[:0] = {path!r}
from khulasa_server.tools.recipes import random_specs
spec = random_specs.qwen2(random_specs.Dims(d_model=8, ffn=16, heads=2, vocab=8), 1)
spec.register_vocabulary([str(i) for i in range(8)])
spec.validate()
spec.optimize(quantization="int8")
with tempfile.TemporaryDirectory() as folder:
    spec.save(folder)
    ctranslate2.Generator(folder, compute_type="int8")
"""
_FIELDS = {
    "cpu": r"\] CPU: (.+)",
    "isa": r"Selected ISA: (\S+)",
    "mkl": r"Use Intel MKL: (\S+)",
    "sgemm": r"SGEMM backend: (.+)",
    "gemm_s8": r"GEMM_S8 backend: (.+)",
}
# Environment variables that change what CTranslate2, oneDNN and MKL pick.
_SETTINGS = ("CT2_FORCE_CPU_ISA", "CT2_USE_MKL", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


@lru_cache(maxsize=1)
def ctranslate2_cpu() -> dict[str, str]:
    """{"cpu", "isa", "mkl", "sgemm", "gemm_s8", "vnni", and any of _SETTINGS set}; {"error": …} if the
    probe failed (the result is recorded, never fatal)."""
    import khulasa_server

    path = [os.path.dirname(os.path.dirname(khulasa_server.__file__))]
    env = {**os.environ, "CT2_VERBOSE": "1"}
    try:
        run = subprocess.run(
            [sys.executable, "-c", _PROBE.format(path=path)], env=env, capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": str(exc)}
    found = {key: m.group(1).strip() for key, pattern in _FIELDS.items() if (m := re.search(pattern, run.stderr))}
    if "isa" not in found:
        return {"error": (run.stderr.strip().splitlines() or ["no CTranslate2 log"])[-1][:300]}
    return {**found, "vnni": _vnni(), **{name: os.environ[name] for name in _SETTINGS if name in os.environ}}


def _vnni() -> str:
    """Whether the CPU has VNNI (int8 dot products without int16 clipping), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    return "true" if {"avx512_vnni", "avx_vnni"} & set(flags) else "false"
