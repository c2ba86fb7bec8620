"""CTranslate2 int8 weights that every x86-64 CPU multiplies exactly.

CTranslate2 runs an int8 layer as unsigned activations × signed weights: each activation row
becomes bytes 0…255 (x·127/max|x| + 128), each weight row integers in [-127, 127]. On a CPU
with VNNI (AVX512_VNNI or AVX_VNNI) the int8 GEMM of oneDNN and of MKL adds every product into
int32. Without it (AVX2 only, e.g. AMD EPYC up to Zen 3; AVX-512 without VNNI, e.g. Intel
Skylake-SP) both use vpmaddubsw, which first adds two neighbouring products into an int16 that
clips at ±32,767: with CTranslate2's own rounding (scale 127/max|w| per row) two large weights
of one sign side by side, against large activations, make 255·(w₁ + w₂) > 32,767, and the layer
output is silently wrong.

Here each row's scale is chosen so that no neighbouring pair can clip, on any activation:
|q| ≤ 127 and |q[k] + q[k+1]| ≤ 128 (same signs: 255·128 = 32,640; opposite signs: 255·127).
The scale is 127 / max(max|w|, max|w[k] + w[k+1]|), one per row as before, so nothing changes
in the file format or at run time; rows whose largest weight has a large same-sign neighbour
get a coarser step (×1.36 in the median row of Qwen2.5-1.5B, where 8-bit rows of CTranslate2's
own rounding differ from the weights by 1.1 % RMS and these by 1.4 %). Results on VNNI and
non-VNNI CPUs then agree up to floating-point rounding."""

from __future__ import annotations

from collections import Counter

import numpy as np
from ctranslate2.specs import model_spec

LIMIT = 127.0  # |q| and |q[k] + q[k+1]| - 1 never exceed it (see the module docstring)
ROWS_PER_BLOCK = 4096  # quantized a block at a time: the temporaries of a 151,936-row matrix stay small


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and the per-row float32 scales (value = weight · scale, rounded) of a weight,
    rows being its first dimension, as CTranslate2's `weight_scale` holds them."""
    rows = weight.reshape(weight.shape[0], -1)
    values = np.empty(rows.shape, dtype=np.int8)
    scales = np.empty(rows.shape[0], dtype=np.float32)
    for start in range(0, rows.shape[0], ROWS_PER_BLOCK):
        block = np.array(rows[start : start + ROWS_PER_BLOCK], dtype=np.float32)
        peak = np.abs(block).max(axis=1)
        if block.shape[1] > 1:
            peak = np.maximum(peak, np.abs(block[:, 1:] + block[:, :-1]).max(axis=1))
        peak[peak == 0] = LIMIT  # an all-zero row: scale 1, as CTranslate2 stores it
        # A scale that stays finite for tiny nonzero rows (as CTranslate2 does).
        peak = np.maximum(peak, np.float32(LIMIT) / np.finfo(np.float32).max)
        scale = (np.float32(LIMIT) / peak).astype(np.float32)
        block *= scale[:, None]
        values[start : start + len(block)] = np.rint(block)
        scales[start : start + len(block)] = scale
    return values.reshape(weight.shape), scales


def _layers(layer: model_spec.LayerSpec):
    yield layer
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, model_spec.LayerSpec):
                yield from _layers(child)


def _quantizable(layer: model_spec.LayerSpec, name: str) -> bool:
    value = getattr(layer, name)
    return (
        isinstance(value, model_spec.Variable)
        and hasattr(layer, name + "_scale")
        and not value.is_scalar()
        and value.dtype in ("float32", "float16", "bfloat16")
    )


def _held(value: model_spec.Variable) -> object:
    """The array or tensor a variable wraps: one object for a matrix set on two layers."""
    held = getattr(value, "array", None)
    return getattr(value, "tensor", value) if held is None else held


def quantize(spec: model_spec.LayerSpec) -> None:
    """Validates the spec and stores every quantizable weight (those with a `<name>_scale`
    beside them: linear layers, embeddings) as int8 by `quantize_rows`. A matrix set on two
    layers (a tied embedding and output projection) is quantized once; `spec.optimize` then
    stores it once. Each float matrix is let go once quantized (a 1.5B model: 6 GB of them)."""
    spec.validate()
    targets = [(layer, name) for layer in _layers(spec) for name in list(vars(layer)) if _quantizable(layer, name)]
    uses = Counter(id(_held(getattr(layer, name))) for layer, name in targets)
    shared: dict[int, tuple[object, model_spec.Variable, model_spec.Variable]] = {}
    for layer, name in targets:
        value = getattr(layer, name)
        held = _held(value)
        key = id(held)
        if key in shared:
            _, values, scales = shared[key]
        else:
            quantized, row_scales = quantize_rows(value.to("float32").numpy())
            values, scales = model_spec.NumpyVariable(quantized), model_spec.NumpyVariable(row_scales)
            if uses[key] > 1:
                shared[key] = (held, values, scales)
        uses[key] -= 1
        if not uses[key]:
            shared.pop(key, None)
        setattr(layer, name, values)
        setattr(layer, name + "_scale", scales)


def optimize(spec: model_spec.LayerSpec, quantization: str) -> None:
    """`spec.validate()` and `spec.optimize(quantization)`, with "int8" weights from `quantize`:
    the same file layout CTranslate2 writes, values that cannot clip. Other types are
    CTranslate2's own."""
    if quantization.startswith("int8") and quantization != "int8":
        raise ValueError(f"{quantization}: only plain int8 is written here (see khulasa_server.tools.recipes.int8)")
    if quantization == "int8":
        quantize(spec)
        spec.optimize(quantization=None)  # aliases equal variables; keeps the int8 values and scales as set
    else:
        spec.validate()
        spec.optimize(quantization=quantization)
