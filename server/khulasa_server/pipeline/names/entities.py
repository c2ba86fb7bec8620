"""Institutions, offices and nationality words (data/entities.tsv, written by hand), and the
English names that stand for the same thing: Russia, Russian, Russians and the Russian
Federation are one group; so are Egypt, Egyptian and Egyptians. A group is what the checks
compare in both directions: an English name needs a name of its group in the Arabic, and an
Arabic name needs one of its group in the English."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Kinds whose Arabic forms are looked for in the source like gazetteer names (both directions).
SOURCE_KINDS = frozenset({"organization", "demonym", "country", "place"})
# Suffixes of a nisba adjective: feminine, masculine plural (nominative, oblique), dual.
_NISBA = ("", "ة", "ون", "ين", "ان", "تان", "تين", "ات")


@dataclass(frozen=True)
class Row:
    english: str
    kind: str  # organization, office, demonym, place, capital, country
    arabic: tuple[str, ...]
    also: tuple[str, ...]  # other English names of the same thing

    @property
    def names(self) -> tuple[str, ...]:
        return (self.english, *self.also)


def cells(text: str, name: str, columns: int) -> list[list[str]]:
    """The rows of a hand-written data file: tab-separated, # comments and blank lines aside."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        row = line.split("\t")
        if len(row) != columns:
            raise ValueError(f"{name} line {number}: {columns} tab-separated columns expected, found {len(row)}")
        rows.append(row)
    return rows


def parse(text: str) -> list[Row]:
    return [
        Row(english, kind, tuple(a for a in arabic.split("|") if a), tuple(a for a in also.split("|") if a))
        for english, kind, arabic, also in cells(text, "entities.tsv", 4)
    ]


@lru_cache(maxsize=1)
def rows() -> tuple[Row, ...]:
    return tuple(parse(resources.files("khulasa_server.data").joinpath("entities.tsv").read_text(encoding="utf-8")))


def arabic_forms(row: Row) -> list[str]:
    """The Arabic forms a row is found by: as listed, and for a nisba adjective (مصري) its
    feminine, plural and dual forms, each with and without the article."""
    if row.kind != "demonym":
        return list(row.arabic)
    forms = []
    for form in row.arabic:
        endings = _NISBA if form.endswith("ي") else ("",)
        for ending in endings:
            word = form + ending
            forms += [word] if word.startswith("ال") else [word, "ال" + word]
    return list(dict.fromkeys(forms))


class Groups:
    """English names that stand for one thing, merged across rows (union-find); built once,
    then only read."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._members: dict[str, frozenset[str]] | None = None

    def _root(self, name: str) -> str:
        while self._parent.setdefault(name, name) != name:
            name = self._parent[name]
        return name

    def join(self, names: tuple[str, ...]) -> None:
        first = self._root(names[0])
        for name in names[1:]:
            self._parent[self._root(name)] = first
        self._members = None

    def of(self, name: str) -> frozenset[str]:
        if self._members is None:
            members: dict[str, set[str]] = {}
            for each in list(self._parent):
                members.setdefault(self._root(each), set()).add(each)
            self._members = {root: frozenset(names) for root, names in members.items()}
        root = self._parent.get(name)
        return self._members[self._root(name)] if root is not None else frozenset({name})


@lru_cache(maxsize=1)
def groups() -> Groups:
    """Names of one thing: a country, its nationality word and its other names."""
    merged = Groups()
    for row in rows():
        if row.kind != "capital":
            merged.join(row.names)
    return merged


@lru_cache(maxsize=1)
def governments() -> Groups:
    """The same, with each capital joined to its country: "Moscow said" invents nothing where
    the source says Russia. Only for the look from the English back: a meeting in Muscat is
    not a meeting in Oman."""
    merged = Groups()
    for row in rows():
        merged.join(row.names)
    return merged
