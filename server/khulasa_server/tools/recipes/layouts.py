"""CTranslate2 spec layouts of real model families, declared as CTranslate2's own converters
declare them (weights unset). Shared by the converters of real checkpoints (gguf_qwen2.py) and
the random-weight test models (random_specs.py), so both run the same C++ code paths."""

from __future__ import annotations

from ctranslate2.specs import common_spec, transformer_spec


def qwen2_layout(layers: int, heads: int, kv_heads: int, rotary_base: float) -> transformer_spec.TransformerDecoderModelSpec:
    """Qwen2's decoder as CTranslate2's Qwen2Loader declares it (weights unset)."""
    spec = transformer_spec.TransformerDecoderModelSpec.from_config(
        layers,
        heads,
        activation=common_spec.Activation.SWISH,
        pre_norm=True,
        ffn_glu=True,
        rms_norm=True,
        rotary_dim=0,
        rotary_interleave=False,
        rotary_base=rotary_base,
        num_heads_kv=kv_heads if kv_heads != heads else None,
    )
    spec.decoder.scale_embeddings = False
    return spec
