"""Tokenizers behind one interface: text ↔ token strings of the model's vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..bundle import ModelEntry
from ..errors import BundleError


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, tokens: list[str]) -> str: ...


class SentencePieceTokenizer:
    def __init__(self, path: Path):
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))

    def encode(self, text: str) -> list[str]:
        return self._sp.encode(text, out_type=str)

    def decode(self, tokens: list[str]) -> str:
        return self._sp.decode_pieces(tokens)


class HFTokenizer:
    """A tokenizer.json of the Hugging Face tokenizers library (byte-level BPE for BART,
    Qwen, Llama, ...). Special tokens written in the text, such as chat markers, are kept."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer as _Tokenizer

        self._tok = _Tokenizer.from_file(str(path))

    def encode(self, text: str) -> list[str]:
        return self._tok.encode(text, add_special_tokens=False).tokens

    def decode(self, tokens: list[str]) -> str:
        ids = [i for i in (self._tok.token_to_id(t) for t in tokens) if i is not None]
        return self._tok.decode(ids, skip_special_tokens=True)


def load_tokenizers(entry: ModelEntry) -> tuple[Tokenizer, Tokenizer]:
    """(source tokenizer, target tokenizer) for a model entry."""
    spec = entry.tokenizer
    kind = spec.get("kind")
    if kind == "sentencepiece":
        source = SentencePieceTokenizer(entry.file(spec["source"]))
        target = SentencePieceTokenizer(entry.file(spec.get("target", spec["source"])))
        return source, target
    if kind == "hf":
        tok = HFTokenizer(entry.file(spec["file"]))
        return tok, tok
    raise BundleError(f"model '{entry.name}': tokenizer kind {kind!r} is not sentencepiece or hf")
