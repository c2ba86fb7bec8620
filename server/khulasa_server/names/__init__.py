"""Proper names in translation: which names an Arabic text holds (places and dates from the
gazetteer, people and organizations by how news writes them), the terms an LLM prompt gets
for them, and the check that the English keeps each one.

Flags on a segment: `missing_name:ENGLISH` for a gazetteer name whose English is not in the
output (an ambiguous form, e.g. عمان Oman/Amman, is satisfied by any of its names and never
given to the model as a term); `unverified_name:ARABIC` for another name of the source whose
consonants (romanized) are in no capitalized word of the English."""

from __future__ import annotations

from dataclasses import dataclass

from . import candidates as candidates_mod
from . import gazetteer as gazetteer_mod
from .romanize import _collapse, _near, ascii_fold, english_skeleton, english_words, kept, romanize

__all__ = ["Names", "find", "terms", "check", "repair_terms"]


@dataclass(frozen=True)
class Names:
    places: tuple[gazetteer_mod.Hit, ...]
    others: tuple[candidates_mod.Candidate, ...]

    def __bool__(self) -> bool:
        return bool(self.places or self.others)


def find(text: str, gazetteer: gazetteer_mod.Gazetteer | None = None) -> Names:
    """The names of a normalized Arabic text."""
    places = (gazetteer or gazetteer_mod.default()).find(text)
    others = candidates_mod.find(text, [(h.start, h.end) for h in places])
    return Names(tuple(places), tuple(others))


def terms(names: Names, skip: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Prompt terms: each unambiguous gazetteer name with its English (names in `skip`, the
    request's glossary, are left to it)."""
    out: dict[str, str] = {}
    for hit in names.places:
        if not hit.ambiguous and not any(hit.text in term or term in hit.text for term in skip or ()):
            out.setdefault(hit.text, hit.english[0])
    return list(out.items())


def repair_terms(names: Names, skip: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Terms for a second decoding: the gazetteer names and a romanization of every other name."""
    out = dict(terms(names, skip))
    for candidate in names.others:
        if not any(candidate.text in term or term in candidate.text for term in skip or ()):
            out.setdefault(candidate.text, romanize(candidate.text))
    return list(out.items())


def english_name_kept(name: str, english: str) -> bool:
    """Whether an English name is in an English text: as written, or every word of it by consonant skeleton."""
    if ascii_fold(name).casefold() in ascii_fold(english).casefold():
        return True
    words = [w for w in english_words(name) if w.lower() not in ("al", "el", "city", "of", "the")]
    skeletons = [_collapse(english_skeleton(w)) for w in english_words(english) if w[:1].isupper()]
    return bool(words) and all(any(_near(english_skeleton(w), s) for s in skeletons) for w in words)


def place_kept(hit: gazetteer_mod.Hit, english: str) -> bool:
    """A gazetteer name is kept when one of its English names is in the output, or a
    capitalized word there has the consonants of the Arabic (Hodeidah for الحديدة)."""
    return any(english_name_kept(name, english) for name in hit.english) or kept(hit.text.split()[-1], english)


def other_kept(candidate: candidates_mod.Candidate, english: str) -> bool:
    """A name kept when its last word is: English often drops a first name (Shoukry said),
    never the family name."""
    words = [w for w in candidate.words if candidates_mod._light(w) not in candidates_mod.JOINERS]
    return kept(words[-1], english) if words else True


def check(names: Names, english: str) -> list[str]:
    """Warnings for the names of `names` that the English does not keep."""
    warnings = [f"missing_name:{' / '.join(h.english)}" for h in names.places if not place_kept(h, english)]
    warnings += [f"unverified_name:{c.text}" for c in names.others if not other_kept(c, english)]
    return list(dict.fromkeys(warnings))
