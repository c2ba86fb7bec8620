"""Fixed terminology: Arabic term → required English. Terms found in a piece of source are
given to prompt-driven engines as an instruction, and every engine's output is checked for
them (a missed term is flagged on the segment)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from khulasa_server.errors import InvalidArgument, echo
from khulasa_server.text.normalize import normalize

MAX_ENTRIES = 1000
MAX_LENGTH = 200


def load_file(path: str | Path) -> dict[str, str]:
    """TSV: one `arabic<TAB>english` pair a line; blank lines and # comments skipped."""
    entries: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        source, sep, target = line.partition("\t")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f"{path}:{n}: expected 'arabic<TAB>english'")
        entries[source.strip()] = target.strip()
    return check(entries, f"glossary file {path}")


def check(entries: dict[str, str], field: str = "glossary") -> dict[str, str]:
    """Normalized copy of a glossary, or InvalidArgument naming the problem."""
    if len(entries) > MAX_ENTRIES:
        raise InvalidArgument(field, f"{field} has {len(entries)} entries; the limit is {MAX_ENTRIES}")
    out = {}
    for source, target in entries.items():
        if not source.strip() or not target.strip():
            raise InvalidArgument(field, f"{field} entries need a non-empty term and translation")
        if len(source) > MAX_LENGTH or len(target) > MAX_LENGTH:
            raise InvalidArgument(field, f"{field} entries are limited to {MAX_LENGTH} characters")
        term = normalize(source).strip()
        if not term:  # zero-width spaces, tatweel, controls: would match everywhere
            raise InvalidArgument(
                field, f"{field} key '{echo(source)}' is empty after normalization (it holds only invisible characters)"
            )
        out[term] = target.strip()
    return out


def terms_in(glossary: Mapping[str, str], source: str) -> list[tuple[str, str]]:
    return [(term, english) for term, english in glossary.items() if term in source]


def note(terms: list[tuple[str, str]]) -> str:
    if not terms:
        return ""
    pairs = "; ".join(f"{term} = {english}" for term, english in terms)
    return f"Translate these terms exactly as given: {pairs}."


def missing(terms: list[tuple[str, str]], english: str) -> list[str]:
    lowered = english.lower()
    return [term for term, target in terms if target.lower() not in lowered]
