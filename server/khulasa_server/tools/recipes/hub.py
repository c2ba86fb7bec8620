"""Presets for users with internet access: real models from the Hugging Face hub, converted
with CTranslate2's own Transformers converter into a bundle. The same code converts local
checkpoint directories, which is how the tests exercise it without a network."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.schema import Decoding, ModelEntry, TokenizerSpec
from khulasa_server.tools.recipes import int8, prompts
from khulasa_server.tools.recipes.staging import staged, tool_versions

OFFLINE_HINT = "Offline, build the default bundle instead: khulasa-models build qwen2.5-coder-1.5b"

PRESETS: dict[str, dict[str, str]] = {
    "opus-mt-ar-en": {"translate": "Helsinki-NLP/opus-mt-ar-en", "summarize": "sshleifer/distilbart-cnn-12-6"},
    "opus-mt-tc-big-ar-en": {"translate": "Helsinki-NLP/opus-mt-tc-big-ar-en", "summarize": "sshleifer/distilbart-cnn-12-6"},
    "qwen2.5-1.5b-instruct": {"llm": "Qwen/Qwen2.5-1.5B-Instruct"},
    "nllb-200-distilled-600m": {"translate": "facebook/nllb-200-distilled-600M", "summarize": "sshleifer/distilbart-cnn-12-6"},
}
LICENSES = {
    "Helsinki-NLP/opus-mt-ar-en": "Apache-2.0",
    "Helsinki-NLP/opus-mt-tc-big-ar-en": "CC-BY-4.0",
    "sshleifer/distilbart-cnn-12-6": "Apache-2.0",
    "Qwen/Qwen2.5-1.5B-Instruct": "Apache-2.0",
    "facebook/nllb-200-distilled-600M": "CC-BY-NC-4.0",  # non-commercial use only
}
# NLLB-200's codes of the languages khulasa translates (M2M100 writes __ar__ and __en__).
NLLB_SOURCE, NLLB_TARGET = "arb_Arab", "eng_Latn"
_FILES = ["*.json", "*.txt", "*.spm", "*.model", "*.safetensors", "*.bin"]


def describe(name: str) -> str:
    return (
        f"{' + '.join(PRESETS[name].values())} from the Hugging Face hub (needs internet, transformers "
        f"and torch), converted with CTranslate2's Transformers converter"
    )


class HubError(RuntimeError):
    pass


def download(repo_id: str, cache: Path) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise HubError(
            f"{repo_id}: hub presets need huggingface_hub, transformers and torch "
            f"(pip install transformers torch). {OFFLINE_HINT}"
        ) from None
    try:
        return Path(snapshot_download(repo_id, cache_dir=str(cache), allow_patterns=_FILES))
    except Exception as exc:  # no network, no such repo, proxy refusal: all end the same way
        raise HubError(
            f"could not download {repo_id} from the Hugging Face hub ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}). {OFFLINE_HINT}"
        ) from None


def _convert(source: Path, out: Path, model_type: str, copy: tuple[str, ...] = ()) -> None:
    """CTranslate2 int8 model of a checkpoint, refused before any work if it is not the
    expected family."""
    import ctranslate2

    try:
        config = json.loads((source / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise HubError(f"{source}: not a Transformers checkpoint ({exc})") from None
    if config.get("model_type") != model_type:
        name = {"marian": "Marian", "bart": "BART", "qwen2": "Qwen2", "m2m_100": "M2M100/NLLB"}.get(model_type, model_type)
        raise HubError(f"{source}: expected a {name} model, got {config.get('model_type')!r}")
    present = [name for name in copy if (source / name).is_file()]

    class Int8Converter(ctranslate2.converters.TransformersConverter):
        def _load(self):  # CTranslate2's spec of the checkpoint, its weights quantized by int8.py
            spec = super()._load()
            int8.quantize(spec)
            return spec

    Int8Converter(str(source), copy_files=present).convert(str(out))  # already int8: no quantization= here


def seq2seq_entry(out: Path, family: str, source: str, license: str, **rest) -> ModelEntry:
    """The manifest entry of an int8 encoder-decoder model converted into `out` (hub or random)."""
    return ModelEntry(
        name=out.name,
        path=Path(out.name),
        engine="seq2seq",
        family=family,
        quantization="int8",
        source=source,
        license=license,
        **rest,
    )


def _bpe_tokenizer(source: Path, out: Path) -> None:
    """tokenizer.json from the checkpoint, or built from GPT-2 style vocab.json + merges.txt."""
    if (source / "tokenizer.json").is_file():
        shutil.copyfile(source / "tokenizer.json", out / "tokenizer.json")
        return
    from tokenizers import ByteLevelBPETokenizer

    ByteLevelBPETokenizer(str(source / "vocab.json"), str(source / "merges.txt")).save(str(out / "tokenizer.json"))


def marian(source: Path, out: Path, repo: str) -> ModelEntry:
    _convert(source, out, "marian", ("source.spm", "target.spm"))
    return seq2seq_entry(
        out,
        "marian",
        repo,
        LICENSES.get(repo, ""),
        tokenizer=TokenizerSpec("sentencepiece", source="source.spm", target="target.spm"),
        source_suffix=("</s>",),
        max_input_tokens=400,
        decoding={"translate": Decoding(beam_size=2, max_length_ratio=2.0, max_length_extra=16)},
    )


def bart(source: Path, out: Path, repo: str) -> ModelEntry:
    _convert(source, out, "bart")
    _bpe_tokenizer(source, out)
    return seq2seq_entry(
        out,
        "bart",
        repo,
        LICENSES.get(repo, ""),
        tokenizer=TokenizerSpec("hf", file="tokenizer.json"),
        source_prefix=("<s>",),
        source_suffix=("</s>",),
        target_prefix=("<s>",),
        max_input_tokens=1000,
        decoding={
            "summarize": Decoding(
                beam_size=2, max_decoding_length=142, min_decoding_length=56, no_repeat_ngram_size=3, length_penalty=2.0
            )
        },
    )


def nllb(source: Path, out: Path, repo: str) -> ModelEntry:
    """The source language's code starts the source (after it the text and </s>); the target
    language's code is forced as the first output token."""
    _convert(source, out, "m2m_100", ("sentencepiece.bpe.model",))
    return seq2seq_entry(
        out,
        "nllb",
        repo,
        LICENSES.get(repo, ""),
        tokenizer=TokenizerSpec("sentencepiece", source="sentencepiece.bpe.model"),
        source_prefix=(NLLB_SOURCE,),
        source_suffix=("</s>",),
        target_prefix=(NLLB_TARGET,),
        max_input_tokens=400,
        decoding={"translate": Decoding(beam_size=2, max_length_ratio=2.0, max_length_extra=16)},
    )


def qwen2(source: Path, out: Path, repo: str) -> ModelEntry:
    _convert(source, out, "qwen2")
    _bpe_tokenizer(source, out)
    return prompts.chatml_entry(repo, LICENSES.get(repo, ""))


# How each checkpoint becomes a bundle's model entry, by the repository it comes from.
CONVERTERS: dict[str, Callable[[Path, Path, str], ModelEntry]] = {
    "Helsinki-NLP/opus-mt-ar-en": marian,
    "Helsinki-NLP/opus-mt-tc-big-ar-en": marian,
    "sshleifer/distilbart-cnn-12-6": bart,
    "Qwen/Qwen2.5-1.5B-Instruct": qwen2,
    "facebook/nllb-200-distilled-600M": nllb,
}
# A preset's roles, and the model directory each goes to ("llm": one model serving both).
_MODELS = {"translate": "translator", "summarize": "summarizer", "llm": "llm"}


def build(name: str, out: Path, home: Path, sources: dict[str, Path] | None = None, log: Callable[[str], None] = print) -> Path:
    """sources: role → local checkpoint directory, instead of downloading (tests, air gaps)."""
    repos = PRESETS[name]
    sources = dict(sources or {})
    for role, repo in repos.items():
        if role not in sources:
            log(f"downloading {repo}")
            sources[role] = download(repo, home / "hub")
    with staged(out) as work:
        models = {}
        for role, repo in repos.items():
            log(f"converting {repo} (CTranslate2 int8)")
            models[_MODELS[role]] = CONVERTERS[repo](sources[role], work / _MODELS[role], repo)
        roles = {task: _MODELS["llm" if "llm" in repos else task] for task in bundle_mod.ROLES}
        bundle_mod.write_manifest(
            work,
            {
                "name": name,
                "version": "1",
                "description": f"Hugging Face preset: {', '.join(repos.values())}",
                "source": ", ".join(repos.values()),
                "license": ", ".join(sorted({LICENSES.get(r, "") for r in repos.values()})),
                "languages": {"source": ["ar"], "target": "en"},
                "models": models,
                "roles": roles,
                "tools": tool_versions("transformers"),
            },
        )
    return Path(out)
