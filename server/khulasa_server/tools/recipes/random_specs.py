"""Random-weight CTranslate2 model specs with the layouts of real model families.

The spec options mirror ctranslate2.converters.transformers (MarianMTLoader, BartLoader,
Qwen2Loader), so a tiny model exercises the same C++ code paths as the real checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ctranslate2.specs import attention_spec, common_spec, transformer_spec

from khulasa_server.tools.recipes.layouts import qwen2_layout


@dataclass(frozen=True)
class Dims:
    d_model: int
    ffn: int
    heads: int
    vocab: int
    max_positions: int = 512
    kv_heads: int | None = None

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads


class _Filler:
    def __init__(self, dims: Dims, seed: int, attention_bias: str):
        self.dims = dims
        self.rng = np.random.default_rng(seed)
        # "all": every attention projection has a bias (BART, Marian); "qkv": only the fused
        # input projection (Qwen2).
        self.attention_bias = attention_bias

    def normal(self, *shape: int, scale: float | None = None) -> np.ndarray:
        scale = scale if scale is not None else 1.0 / math.sqrt(shape[-1])
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def linear(self, spec: common_spec.LinearSpec, out_dim: int, in_dim: int, bias: bool) -> None:
        spec.weight = self.normal(out_dim, in_dim)
        if bias:
            spec.bias = self.normal(out_dim, scale=0.02)

    def layer_norm(self, spec: common_spec.LayerNormSpec) -> None:
        d = self.dims.d_model
        spec.gamma = np.ones(d, dtype=np.float32)
        if hasattr(spec, "beta") and not isinstance(spec.beta, str):
            spec.beta = np.zeros(d, dtype=np.float32)

    def attention(self, spec: attention_spec.MultiHeadAttentionSpec) -> None:
        d = self.dims.d_model
        q = self.dims.heads * self.dims.head_dim
        kv = (self.dims.kv_heads or self.dims.heads) * self.dims.head_dim
        all_bias = self.attention_bias == "all"
        if len(spec.linear) == 2:  # self-attention: fused q/k/v, then output
            self.linear(spec.linear[0], q + 2 * kv, d, bias=True)
        else:  # encoder-decoder attention: q, fused k/v, then output
            self.linear(spec.linear[0], q, d, bias=all_bias)
            self.linear(spec.linear[1], 2 * kv, d, bias=all_bias)
        self.linear(spec.linear[-1], d, q, bias=all_bias)
        if hasattr(spec, "layer_norm"):
            self.layer_norm(spec.layer_norm)

    def ffn(self, spec: transformer_spec.FeedForwardSpec, bias: bool) -> None:
        d, f = self.dims.d_model, self.dims.ffn
        self.linear(spec.linear_0, f, d, bias)
        if hasattr(spec, "linear_0_noact"):
            self.linear(spec.linear_0_noact, f, d, bias)
        self.linear(spec.linear_1, d, f, bias)
        self.layer_norm(spec.layer_norm)

    def stack(self, spec, *, ffn_bias: bool, learned_positions: bool) -> None:
        embeddings = spec.embeddings if isinstance(spec.embeddings, list) else [spec.embeddings]
        for emb in embeddings:
            emb.weight = self.normal(self.dims.vocab, self.dims.d_model, scale=1.0)
        if hasattr(spec, "position_encodings"):
            spec.position_encodings.encodings = (
                self.normal(self.dims.max_positions, self.dims.d_model, scale=0.02)
                if learned_positions
                else sinusoids(self.dims.max_positions, self.dims.d_model)
            )
        for name in ("layer_norm", "layernorm_embedding"):
            if hasattr(spec, name):
                self.layer_norm(getattr(spec, name))
        for layer in spec.layer:
            self.attention(layer.self_attention)
            if hasattr(layer, "attention"):
                self.attention(layer.attention)
            self.ffn(layer.ffn, ffn_bias)
        if hasattr(spec, "projection"):
            self.linear(spec.projection, self.dims.vocab, self.dims.d_model, bias=False)


def sinusoids(positions: int, depth: int) -> np.ndarray:
    """Marian's sinusoidal table: sin in the first half of each row, cos in the second."""
    half = depth // 2
    rates = 1.0 / np.power(10000.0, np.arange(half) / half)
    angles = np.arange(positions)[:, None] * rates[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


def marian(dims: Dims, layers: tuple[int, int], seed: int = 0) -> transformer_spec.TransformerSpec:
    spec = transformer_spec.TransformerSpec.from_config(
        layers, dims.heads, pre_norm=False, activation=common_spec.Activation.SWISH
    )
    filler = _Filler(dims, seed, attention_bias="all")
    filler.stack(spec.encoder, ffn_bias=True, learned_positions=False)
    filler.stack(spec.decoder, ffn_bias=True, learned_positions=False)
    spec.encoder.scale_embeddings = math.sqrt(dims.d_model)
    spec.decoder.scale_embeddings = math.sqrt(dims.d_model)
    spec.decoder.start_from_zero_embedding = True
    _tie_embeddings(spec)
    return spec


def _tie_embeddings(spec: transformer_spec.TransformerSpec) -> None:
    """Marian and BART share one matrix for source and target embeddings and the output
    projection; CTranslate2 stores it once."""
    shared = spec.encoder.embeddings[0].weight
    spec.decoder.embeddings.weight = shared
    spec.decoder.projection.weight = shared


def bart(dims: Dims, layers: tuple[int, int], seed: int = 0) -> transformer_spec.TransformerSpec:
    spec = transformer_spec.TransformerSpec.from_config(
        layers,
        dims.heads,
        pre_norm=False,
        activation=common_spec.Activation.GELU,
        layernorm_embedding=True,
    )
    filler = _Filler(dims, seed, attention_bias="all")
    filler.stack(spec.encoder, ffn_bias=True, learned_positions=True)
    filler.stack(spec.decoder, ffn_bias=True, learned_positions=True)
    spec.encoder.scale_embeddings = 1.0
    spec.decoder.scale_embeddings = 1.0
    _tie_embeddings(spec)
    return spec


def m2m100(dims: Dims, layers: tuple[int, int], seed: int = 0) -> transformer_spec.TransformerSpec:
    """M2M100 and NLLB (M2M100Loader): pre-norm, ReLU, sinusoidal positions, scaled embeddings."""
    spec = transformer_spec.TransformerSpec.from_config(
        layers, dims.heads, pre_norm=True, activation=common_spec.Activation.RELU, layernorm_embedding=False
    )
    filler = _Filler(dims, seed, attention_bias="all")
    filler.stack(spec.encoder, ffn_bias=True, learned_positions=False)
    filler.stack(spec.decoder, ffn_bias=True, learned_positions=False)
    spec.encoder.scale_embeddings = math.sqrt(dims.d_model)
    spec.decoder.scale_embeddings = math.sqrt(dims.d_model)
    _tie_embeddings(spec)
    return spec


def qwen2(dims: Dims, layers: int, seed: int = 0) -> transformer_spec.TransformerDecoderModelSpec:
    spec = qwen2_layout(layers, dims.heads, dims.kv_heads or dims.heads, rotary_base=1_000_000)
    _Filler(dims, seed, attention_bias="qkv").stack(spec.decoder, ffn_bias=False, learned_positions=False)
    return spec
