"""GGUF → CTranslate2 conversion, checked against an independent numpy Qwen2 forward pass on a
tiny GGUF written here the way llama.cpp's converter writes one (HF tensor layout, Q8_0)."""

from __future__ import annotations

import json
import os
import platform
import struct
import subprocess
import sys

import ctranslate2
import gguf
import numpy as np
import pytest
from tokenizers import Tokenizer

from khulasa_server.tools.recipes import gguf_qwen2, int8
from khulasa_server.tools.recipes.tokenizers import corpus, train_byte_bpe

LAYERS, D, FFN, HEADS, KV_HEADS, EPS, BASE = 2, 64, 96, 4, 2, 1e-6, 10000.0
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    root = tmp_path_factory.mktemp("gguf")
    train_byte_bpe(root / "bpe.json", special_tokens=[], vocab_size=600, split_pattern=gguf_qwen2.QWEN2_PATTERN)
    reference = Tokenizer.from_file(str(root / "bpe.json"))
    model = json.loads((root / "bpe.json").read_text())["model"]
    tokens = [t for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1])] + SPECIALS
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    rng = np.random.default_rng(7)
    head_dim = D // HEADS

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)

    weights = {"token_embd.weight": w(len(tokens), D), "output_norm.weight": 1 + 0.1 * w(D), "output.weight": w(len(tokens), D)}
    for i in range(LAYERS):
        p = f"blk.{i}."
        weights.update({
            p + "attn_norm.weight": 1 + 0.1 * w(D), p + "ffn_norm.weight": 1 + 0.1 * w(D),
            p + "attn_q.weight": w(HEADS * head_dim, D), p + "attn_q.bias": 0.1 * w(HEADS * head_dim),
            p + "attn_k.weight": w(KV_HEADS * head_dim, D), p + "attn_k.bias": 0.1 * w(KV_HEADS * head_dim),
            p + "attn_v.weight": w(KV_HEADS * head_dim, D), p + "attn_v.bias": 0.1 * w(KV_HEADS * head_dim),
            p + "attn_output.weight": w(D, HEADS * head_dim),
            p + "ffn_gate.weight": w(FFN, D), p + "ffn_up.weight": w(FFN, D), p + "ffn_down.weight": w(D, FFN),
        })
    path, dequantized = write_gguf(root / "tiny.gguf", weights, tokens, merges)
    out = root / "ct2"
    facts = gguf_qwen2.convert(path, out, quantization="float32")
    return {"path": path, "out": out, "weights": dequantized, "tokens": tokens, "reference": reference, "facts": facts,
            "raw": weights, "merges": merges, "root": root}


def write_gguf(path, weights, tokens, merges, kinds=None):
    """A qwen2 GGUF as llama.cpp's converter writes one: matrices quantized (Q8_0 unless
    `kinds` names another type), vectors in float32. Returns the path and the weights as the
    file holds them (dequantized)."""
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_block_count(LAYERS)
    writer.add_context_length(256)
    writer.add_embedding_length(D)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_freq_base(BASE)
    writer.add_layer_norm_rms_eps(EPS)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * (len(tokens) - 3) + [3, 3, 3])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_chat_template("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}")
    dequantized = {}
    for name, array in weights.items():
        if array.ndim == 2:  # matrices quantized as llama.cpp would
            kind = (kinds or {}).get(name, gguf.GGMLQuantizationType.Q8_0)
            q = gguf.quants.quantize(array, kind)
            writer.add_tensor(name, q, raw_dtype=kind)
            dequantized[name] = gguf.quants.dequantize(q, kind).reshape(array.shape)
        else:
            writer.add_tensor(name, array)
            dequantized[name] = array
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path, dequantized


def rms(x, g):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * g


def rope(x, positions):  # x: (T, H, d); Qwen2 rotates halves (not interleaved)
    d = x.shape[-1]
    inv = 1.0 / BASE ** (np.arange(0, d, 2) / d)
    angles = positions[:, None] * inv[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    a, b = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def qwen2_logits(weights, ids):
    W = weights
    x = W["token_embd.weight"][ids].astype(np.float64)
    T, hd = len(ids), D // HEADS
    pos = np.arange(T, dtype=np.float64)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(LAYERS):
        p = f"blk.{i}."
        h = rms(x, W[p + "attn_norm.weight"])
        q = (h @ W[p + "attn_q.weight"].T + W[p + "attn_q.bias"]).reshape(T, HEADS, hd)
        k = (h @ W[p + "attn_k.weight"].T + W[p + "attn_k.bias"]).reshape(T, KV_HEADS, hd)
        v = (h @ W[p + "attn_v.weight"].T + W[p + "attn_v.bias"]).reshape(T, KV_HEADS, hd)
        q, k = rope(q, pos), rope(k, pos)
        k, v = np.repeat(k, HEADS // KV_HEADS, axis=1), np.repeat(v, HEADS // KV_HEADS, axis=1)
        scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        att = np.einsum("hts,shd->thd", scores, v).reshape(T, D)
        x = x + att @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        gate = h @ W[p + "ffn_gate.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
    return rms(x, W["output_norm.weight"]) @ W["output.weight"].T


def test_converted_model_matches_reference_forward_pass(tiny_gguf):
    generator = ctranslate2.Generator(str(tiny_gguf["out"]), compute_type="float32")
    tok = Tokenizer.from_file(str(tiny_gguf["out"] / "tokenizer.json"))
    text = "أعلنت وزارة المالية أن معدل التضخم تراجع إلى 3.2% في شهر مارس."
    tokens = tok.encode(text, add_special_tokens=False).tokens
    ids = [tiny_gguf["tokens"].index(t) for t in tokens]
    got = np.array(generator.forward_batch([tokens]))[0]
    want = qwen2_logits(tiny_gguf["weights"], ids)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)


def test_tokenizer_from_gguf_matches_the_original(tiny_gguf):
    tok = Tokenizer.from_file(str(tiny_gguf["out"] / "tokenizer.json"))
    reference = tiny_gguf["reference"]
    for text in corpus()[:20] + ["Emoji 🙂, 中文 and ١٢٣ digits", "<|im_start|>user\nمرحبا<|im_end|>"]:
        ours = tok.encode(text, add_special_tokens=False)
        if "<|im_start|>" in text:  # chat markers are single special tokens
            assert ours.tokens[0] == "<|im_start|>" and ours.tokens[-1] == "<|im_end|>"
            continue
        assert ours.tokens == reference.encode(text).tokens
        assert tok.decode(ours.ids) == text


def test_facts_and_refusals(tiny_gguf, tmp_path):
    assert tiny_gguf["facts"]["chat_format"] == "chatml"
    with pytest.raises(FileNotFoundError):
        gguf_qwen2.convert(tmp_path / "missing.gguf", tmp_path / "out")
    with pytest.raises(FileExistsError):
        gguf_qwen2.convert(tiny_gguf["path"], tiny_gguf["out"])  # never writes into an existing model


@pytest.fixture(scope="module")
def tied_gguf(tiny_gguf):
    """A tied model as the default one ships: one matrix for input embedding and output
    projection, written twice, Q4_0 as embedding and Q8_0 as output."""
    weights = dict(tiny_gguf["raw"], **{"output.weight": tiny_gguf["raw"]["token_embd.weight"]})
    kinds = {"token_embd.weight": gguf.GGMLQuantizationType.Q4_0}
    path, dequantized = write_gguf(tiny_gguf["root"] / "tied.gguf", weights, tiny_gguf["tokens"], tiny_gguf["merges"], kinds)
    root = tiny_gguf["root"]
    gguf_qwen2.convert(path, root / "tied-f32", quantization="float32")
    gguf_qwen2.convert(path, root / "tied-int8", quantization="int8")
    # Both ends read the Q8_0 copy: the reference runs with it as embedding and as output.
    reference = dict(dequantized, **{"token_embd.weight": dequantized["output.weight"]})
    tok = Tokenizer.from_file(str(root / "tied-f32" / "tokenizer.json"))
    tokens = tok.encode("قال المتحدث إن المحادثات ستستأنف في 12 مايو.", add_special_tokens=False).tokens
    want = qwen2_logits(reference, [tiny_gguf["tokens"].index(t) for t in tokens])
    int8_model = root / "tied-int8"
    # The int8 model with its weights dequantized (value / scale) and multiplied in float32:
    # what its int8 GEMM must compute.
    stored = np.array(ctranslate2.Generator(str(int8_model), compute_type="float32").forward_batch([tokens]))[0]
    return {"path": path, "weights": dequantized, "tokens": tokens, "want": want, "int8": int8_model, "stored": stored}


def assert_int8_computes(got, stored):
    """int8 logits against the float32 run of the same int8 weights: activation rounding only.
    Argmax is compared where the float run is decisive (top two 0.25 apart; int8 moves a logit of
    this model by ~0.07): this random model has near-ties that any rounding flips."""
    assert np.corrcoef(got.ravel(), stored.ravel())[0, 1] > 0.999
    top2 = np.sort(stored, axis=-1)[:, -2:]
    decisive = top2[:, 1] - top2[:, 0] > 0.25
    assert decisive.sum() >= len(stored) // 3
    np.testing.assert_array_equal(got.argmax(-1)[decisive], stored.argmax(-1)[decisive])


def test_tied_embedding_is_stored_once_from_its_more_precise_copy(tiny_gguf, tied_gguf):
    root = tiny_gguf["root"]
    matrix = len(tiny_gguf["tokens"]) * D * 4  # float32 bytes of the vocabulary matrix
    untied = (tiny_gguf["out"] / "model.bin").stat().st_size
    tied = (root / "tied-f32" / "model.bin").stat().st_size
    assert untied - tied > 0.95 * matrix  # same shapes, one vocabulary matrix fewer
    tokens, want = tied_gguf["tokens"], tied_gguf["want"]
    got = np.array(ctranslate2.Generator(str(root / "tied-f32"), compute_type="float32").forward_batch([tokens]))[0]
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
    # int8: the shared matrix is stored with its scale for both uses (8-bit rounding only) ...
    assert np.corrcoef(tied_gguf["stored"].ravel(), want.ravel())[0, 1] > 0.999
    # ... and the int8 GEMM computes what is stored (on CPUs without VNNI too: the test below).
    got8 = np.array(ctranslate2.Generator(str(tied_gguf["int8"]), compute_type="int8").forward_batch([tokens]))[0]
    assert_int8_computes(got8, tied_gguf["stored"])


# CPUs without VNNI, as the int8 GEMM backends see them: AVX2 only (oneDNN: AMD; MKL: Intel).
NO_VNNI = {
    "oneDNN": ({"CT2_USE_MKL": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"}, "GEMM_S8 backend: DNNL"),
    "MKL": ({"CT2_USE_MKL": "1", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, "GEMM_S8 backend: MKL"),
}
RUN_INT8 = """
import json, sys
import ctranslate2, numpy as np
model, tokens, out = sys.argv[1:]
generator = ctranslate2.Generator(model, compute_type="int8", intra_threads=1)
np.save(out, np.array(generator.forward_batch([json.loads(tokens)]))[0])
"""


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 int8 GEMM backends")
@pytest.mark.parametrize("backend", sorted(NO_VNNI))
def test_int8_model_computes_the_same_on_cpus_without_vnni(tied_gguf, tmp_path, backend):
    """Without VNNI, the int8 GEMM adds neighbouring products in a clipping int16: weights written
    by CTranslate2's own rounding clip there (this model: correlation 0.97, 16 of 27 tokens kept).
    The instruction set is capped in a subprocess (read once, at load), so any x86-64 CPU runs it."""
    env, banner = NO_VNNI[backend]
    out = tmp_path / "logits.npy"
    run = subprocess.run(
        [sys.executable, "-c", RUN_INT8, str(tied_gguf["int8"]), json.dumps(tied_gguf["tokens"]), str(out)],
        env={**os.environ, **env, "CT2_VERBOSE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    if banner not in run.stderr:
        pytest.skip(f"{backend} is not this CTranslate2 build's int8 GEMM backend")
    assert_int8_computes(np.load(out), tied_gguf["stored"])


def stored_variables(model_bin):
    """The float32 and int8 variables of a CTranslate2 model.bin (binary version 6), and its aliases."""
    data, pos = model_bin.read_bytes(), 0

    def take(fmt):
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def text():
        nonlocal pos
        size = take("H")
        pos += size
        return data[pos - size : pos - 1].decode()

    assert take("I") == 6, "a model.bin layout this reader does not know"
    text(), take("I")  # spec name, revision
    variables = {}
    for _ in range(take("I")):
        name, dims = text(), [take("I") for _ in range(take("B"))]
        dtype, size = take("B"), take("I")
        if dtype in (0, 1):  # float32, int8
            variables[name] = np.frombuffer(data, (np.float32, np.int8)[dtype], size // (4, 1)[dtype], pos).reshape(dims)
        pos += size
    aliases = {text(): text() for _ in range(take("I"))}
    return variables, aliases


def test_int8_weights_cannot_clip_a_pair(tied_gguf):
    """Every int8 matrix the converter writes: |q| <= 127 and |q[k] + q[k+1]| <= 128, so a pair of
    products with activation bytes up to 255 fits an int16 on any CPU; rounded to the nearest step."""
    variables, aliases = stored_variables(tied_gguf["int8"] / "model.bin")
    assert aliases["decoder/projection/weight"] == "decoder/embeddings/weight"  # stored once
    floats = gguf_qwen2.qwen2_spec(gguf_qwen2.GGUFCheckpoint(tied_gguf["path"])).variables()
    matrices = [name for name, value in variables.items() if value.dtype == np.int8 and value.ndim == 2]
    assert len(matrices) == 1 + LAYERS * 5  # the tied matrix; per layer qkv, attention output, gate, up, down
    for name in matrices:
        q, scale = variables[name].astype(np.int32), variables[name + "_scale"]
        largest, largest_pair = np.abs(q).max(), np.abs(q[:, 1:] + q[:, :-1]).max()
        assert largest <= 127 and largest_pair <= 128, (name, largest, largest_pair)
        step = 1 / scale[:, None]
        assert np.all(np.abs(q * step - floats[name]) <= 0.5 * step * (1 + 1e-5)), name
    # A row built to clip: its two largest weights side by side, one sign (CTranslate2: 114, 127).
    q, scale = int8.quantize_rows(np.array([[0.9, 1.0, -0.2, 0.1]], dtype=np.float32))
    assert q.tolist() == [[60, 67, -13, 7]] and np.isclose(scale[0], 127 / 1.9)


def test_untied_matrices_stay_two(tiny_gguf):
    ckpt = gguf_qwen2.GGUFCheckpoint(tiny_gguf["path"])
    embeddings, projection = gguf_qwen2.embedding_and_projection(ckpt)
    np.testing.assert_array_equal(embeddings, tiny_gguf["weights"]["token_embd.weight"])
    np.testing.assert_array_equal(projection, tiny_gguf["weights"]["output.weight"])
