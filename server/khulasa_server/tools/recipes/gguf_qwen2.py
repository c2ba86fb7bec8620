"""GGUF (llama.cpp) Qwen2 checkpoints → a CTranslate2 Generator model and a tokenizer.json,
without torch: weights are dequantized with the gguf package's numpy kernels and written into
CTranslate2's Qwen2 spec with the same options as its Transformers converter (Qwen2Loader)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from khulasa_server.tools.recipes import int8

# Qwen2's pre-tokenizer split pattern, as in its tokenizer.json.
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_NORMAL, _CONTROL, _USER_DEFINED = 1, 3, 4


class GGUFCheckpoint:
    def __init__(self, path: Path):
        import gguf

        self._gguf = gguf
        self.reader = gguf.GGUFReader(str(path))
        self.tensors = {t.name: t for t in self.reader.tensors}

    def meta(self, key: str, default: Any = None) -> Any:
        field = self.reader.fields.get(key)
        return field.contents() if field is not None else default

    def bits_per_weight(self, name: str) -> float:
        block, size = self._gguf.GGML_QUANT_SIZES[self.tensors[name].tensor_type]
        return 8 * size / block

    def array(self, name: str) -> np.ndarray:
        """A tensor in float32, rows × columns as PyTorch would hold it."""
        tensor = self.tensors[name]
        data = self._gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        shape = tuple(int(n) for n in reversed(tensor.shape))
        return np.ascontiguousarray(data.reshape(shape), dtype=np.float32)


TIED_TOLERANCE = 0.5  # relative RMS difference; two unrelated matrices of equal scale differ by ~1.4


def embedding_and_projection(ckpt: GGUFCheckpoint) -> tuple[np.ndarray, np.ndarray]:
    """The input embedding and the output projection. Qwen2.5 up to 3B ties them (one matrix),
    but GGUF files still carry both, each quantized on its own (Q4_K and Q6_K in the default
    model: 7 % apart, the quantization noise). Given both as one array, CTranslate2 stores the
    matrix once (spec.optimize aliases equal variables): 233 MB less on disk and in memory for
    Qwen2.5-1.5B. The copy with more bits per weight serves both, so neither side loses
    precision against the original matrix. Matrices that really differ stay two."""
    embeddings = ckpt.array("token_embd.weight")
    if "output.weight" not in ckpt.tensors:
        return embeddings, embeddings
    projection = ckpt.array("output.weight")
    if projection.shape != embeddings.shape:
        return embeddings, projection
    difference = np.sqrt(np.mean((embeddings - projection) ** 2) / max(np.mean(projection**2), 1e-30))
    if difference > TIED_TOLERANCE:
        return embeddings, projection
    if ckpt.bits_per_weight("output.weight") >= ckpt.bits_per_weight("token_embd.weight"):
        return projection, projection
    return embeddings, embeddings


def qwen2_spec(ckpt: GGUFCheckpoint):
    from khulasa_server.tools.recipes.layouts import qwen2_layout

    arch = ckpt.meta("general.architecture")
    if arch != "qwen2":
        raise ValueError(f"expected a qwen2 GGUF, got architecture {arch!r}")
    heads = int(ckpt.meta("qwen2.attention.head_count"))
    spec = qwen2_layout(
        int(ckpt.meta("qwen2.block_count")),
        heads,
        int(ckpt.meta("qwen2.attention.head_count_kv", heads)),
        rotary_base=float(ckpt.meta("qwen2.rope.freq_base", 10_000.0)),
    )
    decoder = spec.decoder
    embeddings, projection = embedding_and_projection(ckpt)
    decoder.embeddings.weight = embeddings
    decoder.layer_norm.gamma = ckpt.array("output_norm.weight")
    decoder.projection.weight = projection
    for i, layer in enumerate(decoder.layer):
        p = f"blk.{i}."
        attention = layer.self_attention
        attention.layer_norm.gamma = ckpt.array(p + "attn_norm.weight")
        attention.linear[0].weight = np.concatenate([ckpt.array(p + f"attn_{x}.weight") for x in "qkv"])
        attention.linear[0].bias = np.concatenate([ckpt.array(p + f"attn_{x}.bias") for x in "qkv"])
        attention.linear[1].weight = ckpt.array(p + "attn_output.weight")
        layer.ffn.layer_norm.gamma = ckpt.array(p + "ffn_norm.weight")
        layer.ffn.linear_0.weight = ckpt.array(p + "ffn_gate.weight")
        layer.ffn.linear_0_noact.weight = ckpt.array(p + "ffn_up.weight")
        layer.ffn.linear_1.weight = ckpt.array(p + "ffn_down.weight")

    tokens = list(ckpt.meta("tokenizer.ggml.tokens"))
    tokens += [f"<extra_id_{i}>" for i in range(embeddings.shape[0] - len(tokens))]
    spec.register_vocabulary(tokens)
    spec.config.bos_token = tokens[int(ckpt.meta("tokenizer.ggml.bos_token_id", 0))]
    spec.config.eos_token = tokens[int(ckpt.meta("tokenizer.ggml.eos_token_id"))]
    spec.config.unk_token = ""
    spec.config.layer_norm_epsilon = float(ckpt.meta("qwen2.attention.layer_norm_rms_epsilon", 1e-6))
    return spec


def tokenizer_json(ckpt: GGUFCheckpoint) -> str:
    """The byte-level BPE tokenizer stored in the GGUF, as a tokenizers JSON document."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    if ckpt.meta("tokenizer.ggml.model") != "gpt2" or ckpt.meta("tokenizer.ggml.pre") != "qwen2":
        raise ValueError("expected a GPT-2 style BPE tokenizer with the qwen2 pre-tokenizer")
    tokens = ckpt.meta("tokenizer.ggml.tokens")
    types = ckpt.meta("tokenizer.ggml.token_type")
    vocab = {t: i for i, (t, kind) in enumerate(zip(tokens, types)) if kind == _NORMAL}
    merges = [tuple(m.split(" ", 1)) for m in ckpt.meta("tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    added = [
        AddedToken(t, special=kind == _CONTROL, normalized=False)
        for t, kind in zip(tokens, types)
        if kind in (_CONTROL, _USER_DEFINED)
    ]
    tok.add_tokens(added)  # ids follow the GGUF order: the added tokens come right after the BPE vocabulary
    for t in added:
        assert tok.token_to_id(t.content) == tokens.index(t.content)
    return tok.to_str()


def convert(gguf_path: Path, out: Path, quantization: str = "int8") -> dict[str, Any]:
    """Writes model.bin, config.json, vocabulary and tokenizer.json into `out`; returns facts
    for the bundle manifest."""
    ckpt = GGUFCheckpoint(gguf_path)
    out.mkdir(parents=True)
    (out / "tokenizer.json").write_text(tokenizer_json(ckpt), encoding="utf-8")
    spec = qwen2_spec(ckpt)
    int8.optimize(spec, quantization)  # int8 that CPUs without VNNI compute exactly too
    spec.save(str(out))
    template = ckpt.meta("tokenizer.chat_template", "")
    return {
        "name": ckpt.meta("general.name", ""),
        "chat_format": "chatml" if "<|im_start|>" in template else "",
        "gguf_file_type": ckpt.meta("general.file_type"),
        "context_length": ckpt.meta("qwen2.context_length"),
    }


def describe(path: Path) -> str:
    ckpt = GGUFCheckpoint(path)
    keys = ["general.name", "general.architecture", "qwen2.block_count", "qwen2.embedding_length"]
    return json.dumps({k: ckpt.meta(k) for k in keys})
