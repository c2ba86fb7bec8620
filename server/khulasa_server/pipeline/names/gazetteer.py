"""Proper names of places and dates from the gazetteer file (data/gazetteer.tsv, generated
from CLDR, GeoNames and iso-codes by `khulasa-models gazetteer`), found in Arabic text with
the clitics and spelling variants news writers use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from khulasa_server.pipeline.names import arabic, entities

# Languages and currencies are in the file but not looked for: their Arabic names are
# adjectives and nouns of everyday use (العربية is "Arab" as often as "Arabic", دينار is any
# dinar), so they would put wrong terms in prompts.
KINDS = frozenset({"territory", "region", "city", "town", "month", "weekday"})
# A town (a smaller city of GeoNames) is a place only after a word that says one follows:
# many are also everyday words, which after مدينة or بلدة they are not.
_PLACE_WORDS = frozenset(
    arabic.fold(w) for w in "مدينة مدينتي مدن بلدة بلدات قرية محافظة ولاية إقليم منطقة ميناء مخيم مطار".split()
)
MAX_WORDS = 4
# A month name counts only in a date: after one of these words or beside a number, so that
# مارس (also "he practised") is not taken for March.
_DATE_WORDS = frozenset(arabic.fold(w) for w in "يوم شهر في منذ خلال حتى مطلع منتصف أواخر أوائل نهاية بداية قبل بعد".split())
_NUMBER_AFTER = re.compile(r"\s*\d")
_NUMBER_BEFORE = re.compile(r"\d\s*$")
_JOINER = re.compile(r"[\s-]*")


MIN_LONG_NAME = 7
# GeoNames writes many Arabic city names without their first hamza (انقره for أنقرة). A
# city's name of five letters or more written with it is still that city; a shorter word is
# too often an everyday one (أمان, safety, against امان, a spelling of Amman).
_HAMZA_KINDS = frozenset({"city", "territory", "region"})
_MIN_HAMZA_NAME = 5


def _written_as(written: str, entry: Entry) -> bool:
    """Whether a one-word name as written can be the entry's listed spelling."""
    if arabic.compatible(written, entry.arabic):
        return True
    if (
        entry.kind in _HAMZA_KINDS
        and len(written) >= _MIN_HAMZA_NAME
        and written[:1] in "أإآ"
        and entry.arabic[:1] == "ا"
        and arabic.compatible("ا" + written[1:], entry.arabic)
    ):
        return True
    # the same hamza after the article: الإثنين, as Monday is most often written, for the
    # listed الاثنين
    return (
        entry.kind in _HAMZA_KINDS | {"weekday"}
        and len(written) >= _MIN_HAMZA_NAME + 2
        and written[:2] == "ال"
        and written[2:3] in "أإآ"
        and entry.arabic[:3] == "الا"
        and arabic.compatible("الا" + written[3:], entry.arabic)
    )


def _long_name(split: arabic.Split, n: int) -> bool:
    """A town's one-word name without the article and of seven letters or more (ستراسبورغ) is
    no everyday word: it is taken wherever it stands."""
    return n == 1 and not split.article and len(arabic.fold(split.stem)) >= MIN_LONG_NAME


@dataclass(frozen=True)
class Entry:
    arabic: str  # as listed, diacritics removed
    english: str
    kind: str


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    text: str  # as written in the source
    entries: tuple[Entry, ...]

    @property
    def english(self) -> tuple[str, ...]:
        """The English names this form can have: one, or several when it is ambiguous."""
        return tuple(dict.fromkeys(e.english for e in self.entries))

    @property
    def ambiguous(self) -> bool:
        return len({e.casefold() for e in self.english}) > 1


def _key(name: str) -> tuple[bool, str]:
    """(has the article, folded name without it). The article is read before folding: ألمانيا
    folds to المانيا but has none."""
    words = arabic.strip_diacritics(name).split()
    if words[0][:2] == "ال" and len(words[0]) > 3:
        return True, arabic.fold(" ".join([words[0][2:], *words[1:]]))
    return False, arabic.fold(" ".join(words))


class Gazetteer:
    def __init__(self, entries: list[Entry]):
        self.index: dict[tuple[bool, str], list[Entry]] = {}
        for entry in entries:
            self.index.setdefault(_key(entry.arabic), []).append(entry)

    @classmethod
    def parse(cls, text: str, kinds: frozenset[str] = KINDS) -> Gazetteer:
        entries = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name, english, kind, _source = line.split("\t")
            if kind in kinds:
                entries.append(Entry(arabic.strip_diacritics(name), english, kind))
        return cls(entries)

    def __len__(self) -> int:
        return sum(len(v) for v in self.index.values())

    def find(self, text: str) -> list[Hit]:
        """Gazetteer names in a normalized text, longest first, left to right, not overlapping."""
        words = arabic.words(text)
        hits: list[Hit] = []
        i = 0
        while i < len(words):
            hit, used = self._at(text, words, i)
            if hit:
                hits.append(hit)
            i += used if hit else 1
        return hits

    def _at(self, text: str, words: list[re.Match[str]], i: int) -> tuple[Hit | None, int]:
        # words i..j must be joined by spaces or hyphens only
        span = 1
        while (
            span < MAX_WORDS
            and i + span < len(words)
            and _JOINER.fullmatch(text[words[i + span - 1].end() : words[i + span].start()])
        ):
            span += 1
        first = words[i].group()
        for n in range(span, 0, -1):
            rest = [w.group() for w in words[i + 1 : i + n]]
            for split in arabic.splits(first):
                if split.prefix.endswith("ك"):
                    continue  # كاسيا is Kasia, not ك + آسيا: "like Asia" is rare in news, names with ك common
                written = " ".join([("ال" if split.article else "") + split.stem, *rest])
                entries = self.index.get((split.article, " ".join(arabic.fold(w) for w in [split.stem, *rest])))
                if not entries:
                    continue
                # a hamza the text writes rules out an everyday word (أمان is not امان, Amman); a
                # name of several words is none, so its hamza may differ (تل أبيب for تل ابيب)
                if n == 1:
                    entries = [e for e in entries if _written_as(written.replace("-", " "), e)]
                start = words[i].start() + len(split.prefix)
                end = words[i + n - 1].end()
                entries = [e for e in entries if e.kind != "month" or self._dated(text, words, i, split, start, end)]
                towns = [e for e in entries if e.kind == "town"]
                if towns and (len(towns) < len(entries) or not (_long_name(split, n) or self._after_place_word(words, i, split))):
                    entries = [e for e in entries if e.kind != "town"]
                if entries:
                    return Hit(start, end, text[start:end], tuple(entries)), n
        return None, 1

    @staticmethod
    def _after_place_word(words: list[re.Match[str]], i: int, split: arabic.Split) -> bool:
        """Whether word i follows a word that says a place follows (في مدينة العقبة, بمدينة)."""
        if i == 0 or split.prefix:
            return False
        previous = arabic.fold(words[i - 1].group())
        return previous in _PLACE_WORDS or any(arabic.fold(s.stem) in _PLACE_WORDS for s in arabic.splits(previous))

    @staticmethod
    def _dated(text: str, words: list[re.Match[str]], i: int, split: arabic.Split, start: int, end: int) -> bool:
        if _NUMBER_AFTER.match(text, end) or _NUMBER_BEFORE.search(text[:start]):
            return True
        if split.prefix:  # في/ب/ل attached: "بمارس", "لشهر"
            return split.prefix[-1:] in ("ب", "ل")
        if i == 0:
            return False
        previous = arabic.fold(words[i - 1].group())
        return (
            any(s.stem in _DATE_WORDS or arabic.fold(s.stem) in _DATE_WORDS for s in arabic.splits(previous))
            or previous in _DATE_WORDS
        )


@lru_cache(maxsize=1)
def default() -> Gazetteer:
    """The gazetteer shipped with khulasa (loaded once): places and dates, and the institutions
    and nationality words of data/entities.tsv."""
    places = Gazetteer.parse(resources.files("khulasa_server.data").joinpath("gazetteer.tsv").read_text(encoding="utf-8"))
    # a form the places already have stays theirs: السعودية is Saudi Arabia before it is "Saudi"
    found = [
        Entry(form, row.english, row.kind)
        for row in entities.rows()
        if row.kind in entities.SOURCE_KINDS
        for form in entities.arabic_forms(row)
    ]
    more = [e for e in found if all(x.kind == "town" for x in places.index.get(_key(e.arabic), []))]
    listed = Gazetteer([e for listed in places.index.values() for e in listed] + more)
    nisbas = [e for e in _nisbas(listed) if _key(e.arabic) not in listed.index]
    return Gazetteer([e for listed in listed.index.values() for e in listed] + nisbas)


def _nisbas(gazetteer: Gazetteer) -> list[Entry]:
    """The nationality adjectives Arabic forms regularly from a country's name, for the
    countries data/entities.tsv gives no row (النمساوية from النمسا, الناميبي from ناميبيا,
    الصومالي from الصومال): -يا and -ا give way to -ي (or -اوي), others take it; with the
    article, and feminine too. Their English is the country's: the checks accept the English
    adjective by the country's name it begins with (Namibian, Somali)."""
    out = []
    for entries in gazetteer.index.values():
        for entry in entries:
            if entry.kind != "territory" or " " in entry.arabic:
                continue
            base = entry.arabic[2:] if entry.arabic[:2] == "ال" else entry.arabic
            if base[-1:] in "يةوى":
                continue  # مالي is also "financial"; no regular form to derive
            if base.endswith("يا"):
                stems = [base[:-2]]
            elif base.endswith("ا"):
                stems = [base[:-1], base + "و"]  # فرنسي, نمساوي
            else:
                stems = [base]
            # (and the English adjective where English forms it regularly: Austria, Austrian)
            names = [entry.english] + ([entry.english + "n"] if entry.english.endswith("a") else [])
            for stem in stems:
                if len(arabic.fold(stem)) >= 3:
                    out += [Entry(f"ال{stem}{end}", name, "demonym") for end in ("ي", "ية") for name in names]
    return out
