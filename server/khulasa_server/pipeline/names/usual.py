"""The usual English spelling of a person's name found in Arabic: Sameh Shukri and Ayman Safadi
where romanize() writes Samah Shakari and al-Safadi. Arabic names come from
arabic-name-romanizer (MIT; spellings attested in Wikidata and Algerian corpora, ranked, and a
small ONNX model for the rest); foreign names written in Arabic (زيلينسكي, بيسكوف), which it
does not know, from data/foreign_names.tsv. A spelling is used only where the consonant check
of the name (romanize.kept) accepts it, so a term given to the model is never one the checks
would flag; otherwise, and where the package is not installed, romanize() gives the word."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from khulasa_server.pipeline.names.arabic import fold
from khulasa_server.pipeline.names.entities import cells
from khulasa_server.pipeline.names.romanize import ascii_fold, kept, romanize

# A dictionary spelling seen fewer times than this for a word that looks foreign is a guess
# (بوتين → Boutine, twice): romanize() is no worse and the checks agree with it.
_TRUSTED_COUNT = 3
# The romanizer ranks spellings by country and, without one, leans to its Algerian corpus
# (Chokri, Naceur); the English-language press of the Middle East writes the Egyptian and
# Levantine forms (Shoukry, Al-Nasser), which this hint picks on the tuning sets' names.
COUNTRY = "EG"
_lock = threading.Lock()


@dataclass(frozen=True)
class Row:
    arabic: tuple[str, ...]
    english: str
    origin: str


def parse(text: str, name: str = "foreign_names.tsv") -> list[Row]:
    return [Row(tuple(a for a in arabic.split("|") if a), english, origin) for arabic, english, origin in cells(text, name, 3)]


@lru_cache(maxsize=1)
def foreign_rows() -> tuple[Row, ...]:
    return tuple(parse(resources.files("khulasa_server.data").joinpath("foreign_names.tsv").read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def club_rows() -> tuple[Row, ...]:
    """data/clubs.tsv: football clubs, spelled as the press does. Not foreign_rows(): a listed
    person is a name wherever it stands, a club only where the finder sees a name (الأهلي is
    also "civil", النصر "victory")."""
    return tuple(parse(resources.files("khulasa_server.data").joinpath("clubs.tsv").read_text(encoding="utf-8"), "clubs.tsv"))


@lru_cache(maxsize=1)
def _transliterator() -> Any:
    """The romanizer with the foreign names and the clubs as its user dictionary (which wins
    over its own index), or None without the package."""
    try:
        from arabic_name_romanizer import Transliterator, UserDictionary
    except ImportError:
        return None
    pairs = [(form, row.english) for row in foreign_rows() + club_rows() for form in row.arabic]
    return Transliterator(user_dictionary=UserDictionary.from_pairs(pairs))


def available() -> bool:
    return _transliterator() is not None


def _looks_foreign(word: str) -> bool:
    from khulasa_server.pipeline.names.candidates import _foreign

    return _foreign(word)


@lru_cache(maxsize=1)
def _listed_forms() -> frozenset[str]:
    return frozenset(fold(form) for row in foreign_rows() for form in row.arabic)


def listed(arabic: str) -> bool:
    """Whether a name found in Arabic is a row of data/foreign_names.tsv (its English known)."""
    return fold(arabic) in _listed_forms()


def foreign(arabic: str) -> bool:
    """Whether a name found in Arabic is a foreign one: a row of data/foreign_names.tsv, or a
    word of it with a foreign ending (-ski, -ov)."""
    return listed(arabic) or any(_looks_foreign(word) for word in arabic.split())


def _agrees(arabic: str, english: str) -> bool:
    """Every Arabic word of the name is kept, by its consonants, in the English spelling
    (joiners aside: bin; عبد and أبو with the word after them: Abdulaziz, Aboul Gheit)."""
    from khulasa_server.pipeline.names.candidates import JOINERS, _light

    words = arabic.split()
    for i, word in enumerate(words):
        light = _light(word)
        if light in ("عبد", "ابو") and i + 1 < len(words):
            if not (kept(word + words[i + 1], english) or kept(words[i + 1], english)):
                return False
        elif light not in JOINERS and not kept(word, english):
            return False
    return True


@lru_cache(maxsize=4096)
def usual(name: str) -> str:
    """The English form of a person's name: the usual spelling where one is known and agrees
    with the name's consonants, else romanize()'s word by word."""
    spellings = candidates(name)
    return spellings[0] if spellings else romanize(name)


@lru_cache(maxsize=4096)
def candidates(name: str, top_k: int = 3) -> tuple[str, ...]:
    """The usual spellings of a name, best first, each agreeing with its consonants (empty
    without the package)."""
    translit = _transliterator()
    if translit is None or not name.strip():
        return ()
    with _lock:  # onnxruntime sessions are shared; one lookup at a time is cheap enough
        found = translit.transliterate(name, top_k=top_k, country=COUNTRY)
    out = []
    for candidate in found:
        if candidate.units:
            words = [_unit(u) for u in candidate.units]
            text = " ".join(w for w in words if w)
        else:  # a whole-name dictionary or user entry
            text = candidate.text
        # a row of data/foreign_names.tsv is trusted as written (Recep for رجب)
        if text and (candidate.source == "user" or _agrees(name, text)) and text not in out:
            out.append(text)
    return tuple(out)


@lru_cache(maxsize=4096)
def attested(name: str) -> str | None:
    """The name's spelling when one is attested, else None: a row of data/foreign_names.tsv, a
    whole name of two words or more in the romanizer's index (Nabih Berri, before its word-by-word
    Nabih Barre), or every word trusted (_trusted). What the model reads in place of the Arabic:
    a guess written there (Maycrovte for مايكروسوفت, Abad al-Lah for a split عبد الله) is copied,
    where the Arabic left as it is lets the model write the name it knows."""
    translit = _transliterator()
    if translit is None or not name.strip():
        return None
    with _lock:
        found = translit.transliterate(name, top_k=5, country=COUNTRY)
    # a whole-name entry is one person's spelling; for a single word it is a corpus's (Hacene
    # for حسين, where the index's word count says Hussein, 191 times)
    whole = [c.text for c in found if not c.units and c.source in ("dictionary", "user") and c.text]
    if whole and len(name.split()) > 1:
        return str(whole[0])
    for candidate in found:
        units = candidate.units
        if units and all(_trusted(u) for u in units):
            return " ".join(str(u.latin) for u in units)
    return None


def _trusted(unit: Any) -> bool:
    """A word's spelling from data/foreign_names.tsv, or seen at least _TRUSTED_COUNT times."""
    return bool(unit.source == "user" or (unit.source == "dictionary" and unit.count >= _TRUSTED_COUNT))


def _unit(unit: Any) -> str:
    if _trusted(unit):
        return str(unit.latin)
    if _looks_foreign(unit.arabic) or not _agrees(unit.arabic, unit.latin):
        return romanize(unit.arabic)
    return str(unit.latin)


@lru_cache(maxsize=4096)
def spellings(arabic: str, top_k: int = 5) -> tuple[str, ...]:
    """Every spelling the romanizer ranks for a name (attested or its model's), for the checks:
    an English name written one of these ways is the name, whatever its consonants."""
    translit = _transliterator()
    if translit is None or not arabic.strip():
        return ()
    with _lock:
        found = translit.transliterate(arabic, top_k=top_k, country=COUNTRY)
    return tuple(dict.fromkeys(c.text for c in found if c.text))


def _letters(text: str) -> list[str]:
    return re.findall("[a-z]+", ascii_fold(text).casefold())


def written(arabic: str, english: str) -> bool:
    """Whether the English writes the name in one of its usual spellings, as whole words,
    spaces and hyphens aside (Albusaidi for Al Busaidi, Abdulaziz for Abdul Aziz)."""
    words = _letters(english)
    for spelling in spellings(arabic):
        target = "".join(_letters(spelling))
        if not target:
            continue
        for i in range(len(words)):
            joined = ""
            for word in words[i : i + 6]:
                joined += word
                if joined == target:
                    return True
                if len(joined) >= len(target):
                    break
    return False
