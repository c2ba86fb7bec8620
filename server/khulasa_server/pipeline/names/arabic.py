"""Arabic word forms for name matching: letters folded the way writers vary them (hamza and
alef forms, taa marbuta, alef maqsura, diacritics), and the clitics news text attaches to a
name (و ف, ب ل ك, the article ال) split off."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from khulasa_server.text.normalize import normalize

_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_FOLD = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"}
_FOLD_TABLE = str.maketrans(_FOLD)
# An Arabic-script word: letters and diacritics between spaces, digits and punctuation.
WORD = re.compile("[\u0621-\u063a\u0641-\u065f\u0670-\u06d3\u06d5]+")
ARABIC_LETTERS = frozenset(chr(c) for c in range(0x0621, 0x064B)) - {"\u0640"}


def strip_diacritics(text: str) -> str:
    return _DIACRITICS.sub("", text)


@lru_cache(maxsize=8192)  # the checks fold the same words many times a segment
def fold(text: str) -> str:
    """The matching form of Arabic text: khulasa's normalization, then diacritics removed and
    أ إ آ ٱ → ا, ة → ه, ى → ي, ؤ → و, ئ → ي (one name is spelled with either)."""
    return strip_diacritics(normalize(text)).translate(_FOLD_TABLE)


def compatible(written: str, listed: str) -> bool:
    """Whether a word as written in a text can be the listed spelling of a name. Writers drop
    hamzas (اسطنبول for إسطنبول) and swap ة/ه and ى/ي, so those fold; but a hamza the text does
    write is not dropped from it: أمان (safety) is not the listed variant امان of عمان."""
    written, listed = strip_diacritics(written), strip_diacritics(listed)
    if len(written) != len(listed):
        return False
    for w, n in zip(written, listed):
        if w == n or _FOLD.get(w, w) == _FOLD.get(n, n) and not (w in "أإآ" and n == "ا"):
            continue
        return False
    return True


def is_arabic_form(text: str) -> bool:
    """Whether every letter of `text` is of the Arabic alphabet (not Persian, Urdu, Pashto…)."""
    letters = [c for c in strip_diacritics(text) if c.isalpha()]
    return bool(letters) and all(c in ARABIC_LETTERS for c in letters)


@dataclass(frozen=True)
class Split:
    """One reading of a word: the clitics before it, whether it has the article, its stem
    (in written form; fold it to look it up)."""

    prefix: str
    article: bool
    stem: str


def splits(word: str) -> list[Split]:
    """Readings of a word, fewest clitics first: وبالقاهرة → … (وب, article, قاهرة). The word
    itself is always the first reading, so a name that begins with one of these letters
    (بيروت, لبنان, واشنطن, فرنسا) is found as it is."""
    out: list[Split] = []
    seen = set()

    def add(prefix: str, rest: str) -> None:
        readings = [(False, rest)]
        if rest[:2] == "ال" and len(rest) > 3:
            readings.append((True, rest[2:]))
        if prefix[-1:] == "ل" and rest[:1] == "ل" and len(rest) > 2:
            readings.append((True, rest[1:]))  # لل = ل + ال, the alef dropped
        for article, stem in readings:
            if len(stem) >= 2 and (prefix, article, stem) not in seen:
                seen.add((prefix, article, stem))
                out.append(Split(prefix, article, stem))

    add("", word)
    conjunction = word[:1] if word[:1] in "وف" else ""
    if conjunction:
        add(conjunction, word[1:])
    rest = word[len(conjunction) :]
    if rest[:1] in ("ب", "ل", "ك"):
        add(conjunction + rest[0], rest[1:])
    return out


def words(text: str) -> list[re.Match[str]]:
    """The Arabic-script words of a normalized text."""
    return list(WORD.finditer(text))
