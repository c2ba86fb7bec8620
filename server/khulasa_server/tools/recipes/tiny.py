"""`tiny`, `tiny-llm`, `tiny-nllb` and `bench-opus`: random-weight bundles of real model families.

They produce nonsense English, quickly. They exist so the whole service (tokenizers,
CTranslate2, batching, the API) can be run and tested anywhere without downloading weights.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.schema import Decoding, ModelEntry, TokenizerSpec
from khulasa_server.tools.recipes import int8, prompts, random_specs
from khulasa_server.tools.recipes.gguf_qwen2 import QWEN2_PATTERN
from khulasa_server.tools.recipes.hub import NLLB_SOURCE, NLLB_TARGET, seq2seq_entry
from khulasa_server.tools.recipes.staging import staged, tool_versions
from khulasa_server.tools.recipes.tokenizers import train_byte_bpe, train_sentencepiece

# The bundles built here, with what `khulasa-models build --help` says of each. They build
# offline in seconds and produce nonsense text: for tests, trials and speed measurements.
KINDS = {
    "tiny": "random-weight Marian translator + BART summarizer (offline, seconds; nonsense text: for tests and trying the API)",
    "tiny-llm": "random-weight Qwen2-type model serving both roles (offline, seconds; nonsense text)",
    "tiny-nllb": "random-weight NLLB-type translator (language tokens as source and target prefix) + BART "
    "summarizer (offline, seconds; nonsense text)",
    "bench-opus": "random weights in the shapes of opus-mt-ar-en and distilbart-cnn-12-6 (int8, ~400 MB), for speed measurements",
}
# Helsinki-NLP/opus-mt-ar-en and sshleifer/distilbart-cnn-12-6, shape for shape.
OPUS_MT = random_specs.Dims(d_model=512, ffn=2048, heads=8, vocab=62_834, max_positions=512)
DISTILBART = random_specs.Dims(d_model=1024, ffn=4096, heads=16, vocab=50_265, max_positions=1024)
RANDOM = "random weights (khulasa-models build); produces no meaningful text"


def _save(spec, out: Path, quantization: str = "int8") -> None:
    int8.optimize(spec, quantization)
    spec.save(str(out))


def _padded(tokens: list[str], size: int | None) -> list[str]:
    """The tokenizer's vocabulary grown to a real model's size (for speed measurements: the
    extra rows cost what the real model's rows cost)."""
    return tokens + [f"<unused_{i}>" for i in range((size or 0) - len(tokens))]


def _save_translator(spec, vocabulary: list[str], out: Path, bos: str | None = "<s>") -> None:
    """An encoder-decoder spec with its (shared) vocabulary and special tokens, saved."""
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    if bos:
        spec.config.bos_token = bos
    spec.config.eos_token = "</s>"
    spec.config.unk_token = "<unk>"
    spec.config.decoder_start_token = "</s>"
    _save(spec, out)


def _build_marian(
    out: Path,
    dims: random_specs.Dims | None = None,
    layers: tuple[int, int] = (2, 2),
    max_input_tokens: int = 96,
    decoding: dict[str, Decoding] | None = None,
) -> ModelEntry:
    out.mkdir(parents=True)
    pieces = train_sentencepiece(out / "source.spm")
    shutil.copyfile(out / "source.spm", out / "target.spm")
    dims = dims or random_specs.Dims(d_model=64, ffn=256, heads=4, vocab=len(pieces))
    pieces = _padded(pieces, dims.vocab)
    # No start token of its own: Marian's decoder starts from a zero embedding.
    _save_translator(random_specs.marian(dims, layers, seed=1), pieces, out, bos=None)
    return seq2seq_entry(
        out,
        "marian",
        RANDOM,
        "Apache-2.0",
        tokenizer=TokenizerSpec("sentencepiece", source="source.spm", target="target.spm"),
        source_suffix=("</s>",),
        max_input_tokens=max_input_tokens,
        decoding=decoding
        or {"translate": Decoding(beam_size=1, max_length_ratio=1.5, max_length_extra=8, no_repeat_ngram_size=4)},
    )


def _build_nllb(out: Path) -> ModelEntry:
    """NLLB's layout: one sentencepiece model, the language codes as extra vocabulary; the
    source language's code starts the source, the target's is forced as the first output."""
    out.mkdir(parents=True)
    pieces = train_sentencepiece(out / "sentencepiece.bpe.model")
    vocabulary = [*pieces, "<pad>", NLLB_SOURCE, NLLB_TARGET]
    dims = random_specs.Dims(d_model=64, ffn=256, heads=4, vocab=len(vocabulary))
    _save_translator(random_specs.m2m100(dims, (2, 2), seed=4), vocabulary, out)
    return seq2seq_entry(
        out,
        "nllb",
        RANDOM,
        "Apache-2.0",
        tokenizer=TokenizerSpec("sentencepiece", source="sentencepiece.bpe.model"),
        source_prefix=(NLLB_SOURCE,),
        source_suffix=("</s>",),
        target_prefix=(NLLB_TARGET,),
        max_input_tokens=96,
        decoding={"translate": Decoding(beam_size=1, max_length_ratio=1.5, max_length_extra=8, no_repeat_ngram_size=4)},
    )


def _build_bart(
    out: Path,
    dims: random_specs.Dims | None = None,
    layers: tuple[int, int] = (2, 2),
    decoding: dict[str, Decoding] | None = None,
) -> ModelEntry:
    out.mkdir(parents=True)
    tokens = train_byte_bpe(out / "tokenizer.json", ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    dims = dims or random_specs.Dims(d_model=64, ffn=256, heads=4, vocab=len(tokens), max_positions=1024)
    tokens = _padded(tokens, dims.vocab)
    _save_translator(random_specs.bart(dims, layers, seed=2), tokens, out)
    return seq2seq_entry(
        out,
        "bart",
        RANDOM,
        "Apache-2.0",
        tokenizer=TokenizerSpec("hf", file="tokenizer.json"),
        source_prefix=("<s>",),
        source_suffix=("</s>",),
        target_prefix=("<s>",),
        max_input_tokens=256 if dims.max_positions <= 1024 else 1000,
        decoding=decoding
        or {"summarize": Decoding(beam_size=1, max_decoding_length=48, min_decoding_length=8, no_repeat_ngram_size=3)},
    )


def _build_qwen2(out: Path) -> ModelEntry:
    out.mkdir(parents=True)
    tokens = train_byte_bpe(out / "tokenizer.json", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], split_pattern=QWEN2_PATTERN)
    dims = random_specs.Dims(d_model=64, ffn=192, heads=4, kv_heads=2, vocab=len(tokens))
    spec = random_specs.qwen2(dims, 2, seed=3)
    spec.register_vocabulary(tokens)
    spec.config.bos_token = "<|endoftext|>"
    spec.config.eos_token = "<|im_end|>"
    spec.config.unk_token = ""
    _save(spec, out)
    return replace(
        prompts.chatml_entry(RANDOM, "Apache-2.0", examples=prompts.EXAMPLES),  # the rendering of examples, tested
        max_input_tokens=128,
        max_input_tokens_by_task={"summarize": 512},
        decoding={
            "translate": Decoding(max_length_ratio=1.5, max_length_extra=16, repetition_penalty=1.1),
            "summarize": Decoding(max_decoding_length=64, repetition_penalty=1.1, no_repeat_ngram_size=3),
        },
    )


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


# What each bundle's manifest says it is.
_DESCRIPTIONS = {
    "tiny": "Random-weight Marian translator and BART summarizer for tests and trials",
    "tiny-llm": "Random-weight Qwen2-type instruction model serving both roles, for tests and trials",
    "tiny-nllb": "Random-weight NLLB-type translator and BART summarizer for tests and trials",
    "bench-opus": "Random weights in the exact shapes of opus-mt-ar-en and distilbart-cnn-12-6, for speed measurements",
}


def _models(kind: str, work: Path) -> dict[str, ModelEntry]:
    if kind == "tiny":
        return {"translator": _build_marian(work / "translator"), "summarizer": _build_bart(work / "summarizer")}
    if kind == "tiny-nllb":
        return {"translator": _build_nllb(work / "translator"), "summarizer": _build_bart(work / "summarizer")}
    if kind == "bench-opus":
        # Random weights never emit an end token, so every output runs to its bound:
        # about 1.1x its source, as real news translations are.
        translate = {"translate": Decoding(beam_size=1, max_length_ratio=1.1, max_length_extra=0, min_length_ratio=1.1)}
        summarize = {"summarize": Decoding(beam_size=1, max_decoding_length=64, min_decoding_length=56)}
        return {
            "translator": _build_marian(work / "translator", OPUS_MT, (6, 6), 256, translate),
            "summarizer": _build_bart(work / "summarizer", DISTILBART, (12, 6), summarize),
        }
    return {"llm": _build_qwen2(work / "llm")}


def build(kind: str, out: Path) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown tiny bundle kind {kind!r}")
    with staged(out) as work:
        models = _models(kind, work)
        # One instruction model serves both roles; otherwise a translator and a summarizer.
        both = "llm" in models
        roles = {"translate": "llm" if both else "translator", "summarize": "llm" if both else "summarizer"}
        manifest = _manifest(kind, _DESCRIPTIONS[kind], models, roles)
        bundle_mod.write_manifest(work, manifest)
    return Path(out)
