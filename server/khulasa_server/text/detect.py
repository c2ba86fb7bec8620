"""Script-based language detection: enough to tell Arabic from English news, and to refuse
what neither engine serves."""

from __future__ import annotations

import re

SUPPORTED = ("ar", "en")

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Letters Persian and Urdu use and Arabic does not (keheh, farsi yeh, peh, tcheh, jeh, gaf).
_PERSIAN = re.compile("[\u06a9\u06cc\u067e\u0686\u0698\u06af]")
_LATIN_WORD = re.compile("[A-Za-z\u00c0-\u024f]+")
_ENGLISH_WORDS = frozenset(
    "the of and to in is that for with was by it at from his her are be has have said will "
    "this not but which were their they its had been after who more than would also".split()
)
# Frequent function words of other Latin-script languages news arrives in (French, Spanish,
# Portuguese, Italian, German, Turkish, Indonesian): two or more of these, outnumbering the
# English ones, mean the text is not English.
_OTHER_WORDS = (
    frozenset(
        "le la les des du une et est dans pour qui sur pas avec sont ses aux "
        "el los las del por para con una que es en su al "
        "os das dos uma não com "
        "il di che della per sono gli "
        "der die das und ist nicht mit den dem ein eine auf "
        "ve bir bu ile için da de "
        "dan yang di untuk dengan ini itu".split()
    )
    - _ENGLISH_WORDS
)


def has_arabic(text: str) -> bool:
    """Whether text holds any Arabic-script character."""
    return _ARABIC.search(text) is not None


def _letter_count(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def detect(text: str) -> str:
    """Return "ar", "en", "und" (no letters), or a tag for an unsupported language or script:
    "fa" (Persian/Urdu letters), "latn" (Latin script, not English), "other"."""
    letters = _letter_count(text)
    if letters == 0:
        return "und"
    arabic = len(_ARABIC.findall(text))
    latin_words = _LATIN_WORD.findall(text)
    latin = sum(len(w) for w in latin_words)
    # Arabic news often carries Latin names; a short sentence can hold more Latin letters than
    # Arabic ones and still be Arabic.
    if arabic >= 0.3 * letters:
        persian = len(_PERSIAN.findall(text))
        return "fa" if persian > 0.02 * arabic else "ar"
    if latin >= 0.5 * letters:
        lowered = [w.lower() for w in latin_words]
        english = sum(1 for w in lowered if w in _ENGLISH_WORDS)
        other = sum(1 for w in lowered if w in _OTHER_WORDS)
        return "latn" if other >= 2 and other > english else "en"
    return "other"


def confidence(text: str, language: str) -> float:
    """How sure detect() is, 0–100: the share of the letters that are in the language's script."""
    letters = _letter_count(text)
    if not letters or language not in SUPPORTED:
        return 0.0
    if language == "ar":
        share = len(_ARABIC.findall(text)) / letters
    else:
        share = sum(len(w) for w in _LATIN_WORD.findall(text)) / letters
    return round(100.0 * min(1.0, share), 1)
