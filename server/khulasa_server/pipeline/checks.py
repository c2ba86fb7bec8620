"""Checks of model output against its source: numbers and Latin-script names that did not make
it into the English, and repetition loops. They flag; the reader decides."""

from __future__ import annotations

import re

from khulasa_server.pipeline.numbers import english_values
from khulasa_server.text.normalize import normalize

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GROUPED = re.compile(r"(?<=\d),(?=\d{3}\b)")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.&'-]*(?:\s+[A-Z][A-Za-z0-9.&'-]*)*")
_WORD = re.compile(r"\S+")


def source_numbers(text: str) -> list[str]:
    """Numbers of a (normalized) source text, Arabic-Indic digits included."""
    return _NUMBER.findall(normalize(text))


def number_found(number: str, english: str) -> bool:
    """Whether `number` appears in the English as a whole number (5000 matches 5,000)."""
    pattern = re.compile(rf"(?<![\d.]){re.escape(number)}(?!\d|\.\d)")
    return bool(pattern.search(english) or pattern.search(_GROUPED.sub("", english)))


def number_kept(number: str, english: str, values: set[float] | None = None) -> bool:
    """Whether the English has `number` in digits or in words (3 as "three"); `values`, the
    English's english_values(), when the caller has them."""
    return number_found(number, english) or float(number) in (english_values(english) if values is None else values)


def missing_numbers(source: str, english: str) -> list[str]:
    """Source numbers the English has neither in digits nor in words (3 as "three")."""
    words = english_values(english)
    return list(dict.fromkeys(n for n in source_numbers(source) if not number_kept(n, english, words)))


def missing_names(source: str, english: str) -> list[str]:
    """Latin-script spans of an Arabic source (names, acronyms, URLs) absent from the English."""
    lowered = english.lower()
    spans = (m.group().rstrip(".") for m in _LATIN_NAME.finditer(source))
    return list(dict.fromkeys(s for s in spans if len(s) > 1 and s.lower() not in lowered))


def cut_repetition(text: str, min_repeats: int = 3, max_span: int = 8) -> tuple[str, bool]:
    """A run of the same 1–max_span words repeated min_repeats or more times in a row is a
    decoding loop: keep its first occurrence and drop everything after the loop began."""
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    tokens = [w for _, _, w in words]
    for start in range(len(tokens)):
        for span in range(1, max_span + 1):
            unit = tokens[start : start + span]
            if len(unit) < span:
                break
            repeats = 1
            while tokens[start + repeats * span : start + (repeats + 1) * span] == unit:
                repeats += 1
            if repeats >= min_repeats:
                end = words[start + span - 1][1]
                return text[:end], True
    return text, False
