"""`tiny` and `tiny-llm`: small random-weight bundles of real model families.

They produce nonsense English, quickly. They exist so the whole service (tokenizers,
CTranslate2, batching, the API) can be run and tested anywhere without downloading weights.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import bundle as bundle_mod
from . import prompts, random_specs
from .gguf_qwen2 import QWEN2_PATTERN
from .staging import staged, tool_versions
from .tokenizers import train_byte_bpe, train_sentencepiece

KINDS = ("tiny", "tiny-llm")
RANDOM = "random weights (khulasa-models build); produces no meaningful text"

def _save(spec, out: Path, quantization: str = "int8") -> None:
    spec.validate()
    spec.optimize(quantization=quantization)
    spec.save(str(out))


def _build_marian(out: Path) -> dict:
    out.mkdir(parents=True)
    pieces = train_sentencepiece(out / "source.spm")
    shutil.copyfile(out / "source.spm", out / "target.spm")
    dims = random_specs.Dims(d_model=64, ffn=256, heads=4, vocab=len(pieces))
    spec = random_specs.marian(dims, (2, 2), seed=1)
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    spec.config.unk_token = "<unk>"
    spec.config.eos_token = "</s>"
    spec.config.decoder_start_token = "</s>"  # Marian starts from a zero embedding
    _save(spec, out)
    return {
        "path": out.name,
        "engine": "seq2seq",
        "family": "marian",
        "quantization": "int8",
        "source": RANDOM,
        "license": "Apache-2.0",
        "tokenizer": {"kind": "sentencepiece", "source": "source.spm", "target": "target.spm"},
        "source_suffix": ["</s>"],
        "max_input_tokens": 96,
        "decoding": {
            "translate": {"beam_size": 1, "max_length_ratio": 1.5, "max_length_extra": 8, "no_repeat_ngram_size": 4}
        },
    }


def _build_bart(out: Path) -> dict:
    out.mkdir(parents=True)
    tokens = train_byte_bpe(out / "tokenizer.json", ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    dims = random_specs.Dims(d_model=64, ffn=256, heads=4, vocab=len(tokens), max_positions=1024)
    spec = random_specs.bart(dims, (2, 2), seed=2)
    spec.register_source_vocabulary(tokens)
    spec.register_target_vocabulary(tokens)
    spec.config.bos_token = "<s>"
    spec.config.eos_token = "</s>"
    spec.config.unk_token = "<unk>"
    spec.config.decoder_start_token = "</s>"
    _save(spec, out)
    return {
        "path": out.name,
        "engine": "seq2seq",
        "family": "bart",
        "quantization": "int8",
        "source": RANDOM,
        "license": "Apache-2.0",
        "tokenizer": {"kind": "hf", "file": "tokenizer.json"},
        "source_prefix": ["<s>"],
        "source_suffix": ["</s>"],
        "target_prefix": ["<s>"],
        "max_input_tokens": 256,
        "decoding": {
            "summarize": {"beam_size": 1, "max_decoding_length": 48, "min_decoding_length": 8, "no_repeat_ngram_size": 3}
        },
    }


def _build_qwen2(out: Path) -> dict:
    out.mkdir(parents=True)
    tokens = train_byte_bpe(
        out / "tokenizer.json", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], split_pattern=QWEN2_PATTERN
    )
    dims = random_specs.Dims(d_model=64, ffn=192, heads=4, kv_heads=2, vocab=len(tokens))
    spec = random_specs.qwen2(dims, 2, seed=3)
    spec.register_vocabulary(tokens)
    spec.config.bos_token = "<|endoftext|>"
    spec.config.eos_token = "<|im_end|>"
    spec.config.unk_token = ""
    _save(spec, out)
    return {
        "path": out.name,
        "engine": "generator",
        "family": "qwen2",
        "quantization": "int8",
        "source": RANDOM,
        "license": "Apache-2.0",
        "tokenizer": {"kind": "hf", "file": "tokenizer.json"},
        "chat_format": "chatml",
        "end_tokens": ["<|im_end|>", "<|endoftext|>"],
        "max_input_tokens": 128,
        "prompts": {"translate": prompts.TRANSLATE, "summarize": prompts.SUMMARIZE},
        "decoding": {
            "translate": {"max_length_ratio": 1.5, "max_length_extra": 16, "repetition_penalty": 1.1},
            "summarize": {"max_decoding_length": 64, "repetition_penalty": 1.1, "no_repeat_ngram_size": 3},
        },
    }


def _manifest(name: str, description: str, models: dict, roles: dict) -> dict:
    return {
        "name": name,
        "version": "1",
        "description": description,
        "source": RANDOM,
        "license": "Apache-2.0",
        "languages": {"source": ["ar"], "target": "en"},
        "models": models,
        "roles": roles,
        "tools": tool_versions(),
    }


def build(kind: str, out: Path) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown tiny bundle kind {kind!r}")
    with staged(out) as work:
        if kind == "tiny":
            models = {"translator": _build_marian(work / "translator"), "summarizer": _build_bart(work / "summarizer")}
            manifest = _manifest(
                "tiny",
                "Random-weight Marian translator and BART summarizer for tests and trials",
                models,
                {"translate": "translator", "summarize": "summarizer"},
            )
        else:
            models = {"llm": _build_qwen2(work / "llm")}
            manifest = _manifest(
                "tiny-llm",
                "Random-weight Qwen2-type instruction model serving both roles, for tests and trials",
                models,
                {"translate": "llm", "summarize": "llm"},
            )
        bundle_mod.write_manifest(work, manifest)
    return Path(out)
