"""Tokenizers behind one interface: text ↔ token strings of the model's vocabulary.

`encode` is for text from callers: whatever it contains, it never yields a special token, so an
article that writes "<|im_start|>" or "</s>" cannot end its turn or its input. `encode_markup`
is for the bundle's own chat templates, whose special tokens are meant."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from khulasa_server.errors import BundleError
from khulasa_server.models.schema import ModelEntry


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def encode_markup(self, text: str) -> list[str]: ...

    def decode(self, tokens: list[str]) -> str: ...


class SentencePieceTokenizer:
    def __init__(self, path: Path):
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))

    def encode(self, text: str) -> list[str]:
        # SentencePiece never reads control symbols (<s>, </s>) from text.
        return self._sp.encode(text, out_type=str)

    encode_markup = encode

    def decode(self, tokens: list[str]) -> str:
        # A piece the sentencepiece model lacks is kept as written: with a vocabulary shared by
        # source and target (Marian), it is source text the model copied, e.g. a name.
        return self._sp.decode_pieces(tokens)


class HFTokenizer:
    """A tokenizer.json of the Hugging Face tokenizers library (byte-level BPE for BART,
    Qwen, Llama, ...)."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer as _Tokenizer

        self._tok = _Tokenizer.from_file(str(path))
        # Special tokens written in text are encoded as the characters they are made of.
        self._tok.encode_special_tokens = True
        self.specials = frozenset(t.content for t in self._tok.get_added_tokens_decoder().values() if t.special)
        longest_first = sorted(self.specials, key=len, reverse=True)
        self._markup = re.compile("(" + "|".join(map(re.escape, longest_first)) + ")") if longest_first else None

    def encode(self, text: str) -> list[str]:
        return self._tok.encode(text, add_special_tokens=False).tokens

    def encode_markup(self, text: str) -> list[str]:
        if self._markup is None:
            return self.encode(text)
        tokens: list[str] = []
        for part in self._markup.split(text):
            if part in self.specials:
                tokens.append(part)
            elif part:
                tokens.extend(self.encode(part))
        return tokens

    def decode(self, tokens: list[str]) -> str:
        ids = [i for i in (self._tok.token_to_id(t) for t in tokens) if i is not None]
        return self._tok.decode(ids, skip_special_tokens=True)


# Tokenizer kinds by the name a manifest gives (models.NAME.tokenizer.kind): each maps a model
# entry to its (source, target) tokenizers.
TOKENIZERS: dict[str, Callable[[ModelEntry], tuple[Tokenizer, Tokenizer]]] = {}


def register_tokenizer(kind: str):
    def add(load: Callable[[ModelEntry], tuple[Tokenizer, Tokenizer]]):
        TOKENIZERS[kind] = load
        return load

    return add


def _needs(entry: ModelEntry, key: str) -> str:
    value = getattr(entry.tokenizer, key)
    if not value:
        raise BundleError(f"model '{entry.name}': tokenizer kind {entry.tokenizer.kind!r} needs '{key}'")
    return value


@register_tokenizer("sentencepiece")
def _sentencepiece(entry: ModelEntry) -> tuple[Tokenizer, Tokenizer]:
    source = _needs(entry, "source")
    return (SentencePieceTokenizer(entry.file(source)), SentencePieceTokenizer(entry.file(entry.tokenizer.target or source)))


@register_tokenizer("hf")
def _hf(entry: ModelEntry) -> tuple[Tokenizer, Tokenizer]:
    tok = HFTokenizer(entry.file(_needs(entry, "file")))
    return tok, tok


def load_tokenizers(entry: ModelEntry) -> tuple[Tokenizer, Tokenizer]:
    """(source tokenizer, target tokenizer) for a model entry."""
    kind = entry.tokenizer.kind
    if kind not in TOKENIZERS:
        raise BundleError(f"model '{entry.name}': tokenizer kind {kind!r} is not one of {', '.join(TOKENIZERS)}")
    return TOKENIZERS[kind](entry)
