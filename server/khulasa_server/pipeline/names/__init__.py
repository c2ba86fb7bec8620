"""Proper names in translation: which names an Arabic text holds (places and dates from the
gazetteer, people and organizations by how news writes them), the terms an LLM prompt gets
for them, and the check that the English keeps each one.

Flags on a segment: `missing_name:ENGLISH` for a gazetteer name whose English is not in the
output (an ambiguous form, e.g. عمان Oman/Amman, is satisfied by any of its names and never
given to the model as a term); `unverified_name:ARABIC` for another name of the source whose
consonants (romanized) are in no capitalized word of the English. Looking the other way, from
the English back to the Arabic: `added_name:ENGLISH` for a place, institution, nationality or
person the English names with no counterpart in the source (an invented attribution), and
`changed_role:ROLE (NAME)` for a title the English gives a person that the Arabic does not
give them there."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from khulasa_server.pipeline.names import arabic, entities, roles, usual
from khulasa_server.pipeline.names import candidates as candidates_mod
from khulasa_server.pipeline.names import english as english_mod
from khulasa_server.pipeline.names import gazetteer as gazetteer_mod
from khulasa_server.pipeline.names.romanize import (
    _ARTICLE,
    _collapse,
    _near,
    arabic_skeleton,
    ascii_fold,
    english_skeleton,
    english_skeletons,
    english_words,
    function_word,
    kept,
    same_onset,
    stem,
)

__all__ = ["Names", "find", "terms", "check", "repair_terms"]


@dataclass(frozen=True)
class Names:
    places: tuple[gazetteer_mod.Hit, ...]
    others: tuple[candidates_mod.Candidate, ...]
    text: str = ""  # the source they were found in

    def __bool__(self) -> bool:
        return bool(self.places or self.others)


def find(text: str, gazetteer: gazetteer_mod.Gazetteer | None = None) -> Names:
    """The names of a normalized Arabic text."""
    places = (gazetteer or gazetteer_mod.default()).find(text)
    nationals = [h.end for h in places if any(e.kind == "demonym" for e in h.entries) and h.text.startswith("ال")]
    others = candidates_mod.find(text, [(h.start, h.end) for h in places], nationals)
    # a listed person that holds a name the finder cut short is that name (رجب طيب أردوغان, where
    # the finder stopped at رجب طيب)
    listed = _listed_people(text)
    others = [c for c in others if not any(p.start <= c.start and c.end < p.end for p in listed)]
    taken = [(h.start, h.end) for h in places] + [(c.start, c.end) for c in others]
    listed = [c for c in listed if not any(s < c.end and c.start < e for s, e in taken)]
    return Names(tuple(places), tuple(sorted(others + listed, key=lambda c: c.start)), text)


@lru_cache(maxsize=1)
def _listed_forms() -> dict[str, list[tuple[str, ...]]]:
    """The Arabic forms of data/foreign_names.tsv as folded words, by first word, longest first."""
    forms: dict[str, list[tuple[str, ...]]] = {}
    for row in usual.foreign_rows():
        for form in row.arabic:
            folded = tuple(arabic.fold(form).split())
            forms.setdefault(folded[0], []).append(folded)
    return {first: sorted(set(fs), key=len, reverse=True) for first, fs in forms.items()}


def _listed_people(text: str) -> list[candidates_mod.Candidate]:
    """The people of data/foreign_names.tsv named anywhere in the text, however written
    around them (إن السيسي تلقى اتصالا من أردوغان): a listed name is a name wherever it stands."""
    forms, words = _listed_forms(), arabic.words(text)
    out: list[candidates_mod.Candidate] = []
    k = 0
    while k < len(words):
        found = None
        for split in arabic.splits(arabic.strip_diacritics(words[k].group())):
            stem = arabic.fold(("ال" if split.article else "") + split.stem)
            for form in forms.get(stem, ()):
                rest = [arabic.fold(w.group()) for w in words[k + 1 : k + len(form)]]
                if tuple([stem, *rest]) == form:
                    found = (split, len(form))
                    break
            if found:
                break
        if found is None:
            k += 1
            continue
        split, count = found
        start, end = words[k].start() + len(split.prefix), words[k + count - 1].end()
        out.append(candidates_mod.Candidate(start, end, text[start:end], tuple(w.group() for w in words[k : k + count])))
        k += count
    return out


def terms(names: Names, skip: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Prompt terms: each unambiguous gazetteer name with its English (names in `skip`, the
    request's glossary, are left to it)."""
    out: dict[str, str] = {}
    for hit in names.places:
        if not hit.ambiguous and not any(hit.text in term or term in hit.text for term in skip or ()):
            out.setdefault(hit.text, hit.english[0])
    return list(out.items())


def repair_terms(
    names: Names, skip: dict[str, str] | None = None, article: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Terms for a second decoding: the gazetteer names and the usual spelling (or a
    romanization) of every other name; a surname alone as the article's full name spells it
    (`article`: source.surnames), as the first decoding read it."""
    out = dict(terms(names, skip))
    for candidate in names.others:
        if not any(candidate.text in term or term in candidate.text for term in skip or ()):
            out.setdefault(candidate.text, in_article(candidate.text, article) or usual.usual(candidate.text))
    return list(out.items())


def in_article(name: str, article: Mapping[str, str] | None) -> str | None:
    """A one-word name's spelling in the article (source.surnames: its full name's last word), if any."""
    word = name.strip()
    return (article or {}).get(arabic.fold(word)) if word and " " not in word else None


def english_name_kept(name: str, english: str) -> bool:
    """Whether an English name is in an English text: as written, or every word of it by consonant skeleton."""
    # as a whole word: "UN" is not kept by "until"
    if re.search(rf"(?<!\w){re.escape(ascii_fold(name).casefold())}(?!\w)", ascii_fold(english).casefold()):
        return True
    words = [w for w in english_words(name) if w.lower() not in ("al", "el", "city", "of", "the")]
    skeletons = [_collapse(english_skeleton(w)) for w in english_words(english) if w[:1].isupper() and not function_word(w)]
    return bool(words) and all(any(_near(english_skeleton(w), s) for s in skeletons) for w in words)


def place_kept(hit: gazetteer_mod.Hit, english: str, source: str = "") -> bool:
    """A gazetteer name is kept when one of its English names, or another name of the same
    thing (Ukrainian for الأوكراني), is in the output, or a capitalized word there has the
    consonants of the Arabic (Hodeidah for الحديدة). A weekday after اليوم may be "today"."""
    names = {n for e in hit.english for n in entities.groups().of(e)}
    if _government(hit, source):  # talks with Washington: "with the United States" keeps it
        names |= {n for e in hit.english for n in entities.governments().of(e)}
    if any(english_name_kept(name, english) for name in names) or kept(hit.text.split()[-1], english):
        return True
    if any(e.kind == "demonym" and _national(e.english, english) for e in hit.entries):
        return True
    if " " in hit.text and kept(hit.text.replace(" ", ""), english):
        return True  # its words spelled together or split another way (Am Dram for أم درمان)
    today = any(e.kind == "weekday" for e in hit.entries) and arabic.fold(source[: hit.start]).split()[-1:] == ["اليوم"]
    return today and "today" in english.lower()


def _national(country: str, english: str) -> bool:
    """Whether the English has the adjective of a country the lists give none for: a
    capitalized word that begins with the country's name, its last vowel aside (Namibian,
    Austrian, Somali for Namibia, Austria, Somalia)."""
    prefix = re.sub(r"(?:ia|a|e|y)$", "", country.casefold())
    return len(prefix) >= 4 and any(
        w.casefold().startswith(prefix) and len(w) > len(prefix) for w in english_words(english) if w[:1].isupper()
    )


_WITH = frozenset(arabic.fold(w) for w in ("مع", "بين"))


def _government(hit: gazetteer_mod.Hit, source: str) -> bool:
    """Whether a capital stands for its government, not for a place: after مع (with) or بين
    (between), or as the subject of a verb of saying (قالت موسكو). في/إلى موسكو is a place."""
    if not any(r.kind == "capital" and r.english in hit.english for r in entities.rows()):
        return False
    before = arabic.fold(source[: hit.start]).split()[-1:]
    return bool(before) and (before[0] in _WITH or candidates_mod._bare(before[0]) in candidates_mod.SAYING)


def other_kept(candidate: candidates_mod.Candidate, english: str) -> bool:
    """A name kept when its last word is: English often drops a first name (Shoukry said),
    never the family name. The family name, or the whole name, written in a usual spelling
    counts too (Adhanom, Israel Katz), whatever its consonants."""
    family = _family(candidate)
    if usual.written(family, english) or usual.written(candidate.text, english):
        return True
    if len(family.split()) > 1 and candidates_mod._light(family.split()[0]) in ("عبد", "ابو"):
        first, second = family.split()
        # عبد الله: Abdullah; أبو الغيط: Abu Ghait or Aboul Gheit, the article written or not
        return kept(first + second, english) or kept(first + stem(second), english)
    if not family:
        return True
    # a foreign name whose English spelling data/foreign_names.tsv lists has no spelling
    # variants to allow for: one consonant off (Razumov for رازومكوف, listed Razumkov) is
    # another name, even after its kept first name
    strict = usual.listed(family) or usual.listed(candidate.text)
    if kept(family, english, near=not strict):
        return True
    if strict:
        return False
    words = [w for w in candidate.words if candidates_mod._light(w) not in candidates_mod.JOINERS]
    if len(words) > 1 and kept("".join(words[-2:]), english):
        return True  # its last two words written as one (Sundowns for صن داونز)
    if len(words) > 2 and _loosely_kept(words[0], words[-2] + words[-1], english):
        return True  # a family name of two words, after the first name (Karen Jannabi for كارين جان بيير)
    return len(words) > 1 and _loosely_kept(words[0], family, english)


def _subsequence(short: str, long_: str) -> bool:
    letters = iter(long_)
    return all(c in letters for c in short)


def _loosely_kept(first: str, family: str, english: str) -> bool:
    """Whether the English keeps a name's first name and writes, right after it, its family name
    in a spelling a reader still recognises: the same first consonant, and the consonants of one
    all in the other in their order (Nabih Brizzi for نبيه بري, Saad Al-Katibi for سعد الكعبي).
    A family name changed for another (Samah Shariq for سامح شكري) has them in another order."""
    target, given = arabic_skeleton(stem(first)), arabic_skeleton(stem(family))
    if len(target) < 2 or len(given) < 2:
        return False
    cores = [_ARTICLE.sub("", w) for w in english_words(english)]
    for k, word in enumerate(cores[:-1]):
        if not word[:1].isupper() or not any(_near(target, _collapse(s)) for s in english_skeletons(word)):
            continue
        # (an article written apart stands between: Suhail Al Mazrouqi)
        step = 2 if cores[k + 1] in ("Al", "El") and k + 2 < len(cores) else 1
        after = [_collapse(s) for s in english_skeletons(cores[k + step])] if cores[k + step][:1].isupper() else []
        if any(s[:1] == given[:1] and (_subsequence(s, given) or _subsequence(given, s)) for s in after if len(s) > 1):
            return True
    return False


def _family(candidate: candidates_mod.Candidate) -> str:
    """The family name: the last word, with عبد or أبو before it; not an ordinal or a joiner."""
    light = [candidates_mod._light(w) for w in candidate.words]
    words = [w for w, x in zip(candidate.words, light) if x not in candidates_mod.ORDINALS]  # Mohammed VI
    if len(words) > 1 and candidates_mod._light(words[-2]) in ("عبد", "ابو"):
        return f"{words[-2]} {words[-1]}"
    words = [w for w in words if candidates_mod._light(w) not in candidates_mod.JOINERS]
    return words[-1] if words else ""


@lru_cache(maxsize=256)
def _source_words(text: str) -> list[tuple[int, str, str]]:
    """(start, word, consonant skeleton) of each Arabic word of a normalized source (kept for
    the checks of one segment, which ask for it several times)."""
    out = []
    for match in arabic.words(text):
        word = arabic.strip_diacritics(match.group())
        stem = next((s.stem for s in arabic.splits(word) if s.article), word)  # romanize.stem, already normalized
        out.append((match.start(), match.group(), arabic_skeleton(stem)))
    return out


def _find_in_source(word: str, words: list[tuple[int, str, str]]) -> int | None:
    """Index of the source word (or two, عبد الله for Abdullah) with the consonants of an
    English word, if any."""
    variants = [_collapse(v) for v in english_skeletons(word.split("-")[-1])]
    for k, (_, written, skeleton) in enumerate(words):
        if candidates_mod._bare(written) in candidates_mod.STOP:
            continue  # من (from) holds the consonants of Oman, but no name
        joined = k + 1 < len(words) and candidates_mod._light(words[k][1]) in candidates_mod.JOINERS
        pair = _collapse(skeleton + words[k + 1][2]) if joined else ""
        if len(skeleton) <= 2 and not same_onset(written, word):
            continue  # Mohammed is no حمد: see romanize.same_onset
        if any(v and (skeleton and _near(skeleton, v) or pair and _near(pair, v)) for v in variants):
            return k
    return None


_PARTICLES = frozenset("bin ibn bint ben al el abu abd abdel abdul de da di van von der la le".split())


def _name_parts(name: str) -> list[str]:
    """The words of a person's name that carry it: not bin, al-, Abdel, von."""
    return [w for w in name.split() if w.lower().rstrip("-") not in _PARTICLES]


def _person_at(name: str, source: str, words: list[tuple[int, str, str]], first_too: bool = False) -> int | None:
    """Where a person the English names stands in the source (-1: written there in Latin
    letters): the word with the consonants of the family name (the last word), or with
    `first_too` of the first name when the family name is garbled. A word of one consonant
    class (Nahyan: N) would match any word by chance: the last word with two or more stands
    for the family name; a name with none cannot be judged and counts as found."""
    parts = [p for p in _name_parts(name) if len(_collapse(english_skeleton(p.split("-")[-1]))) > 1]
    if not parts:
        return -1
    for part in parts[-1:] + (parts[:1] if first_too else []):
        if part in source:
            return -1
        at = _find_in_source(part, words)
        if at is not None:
            return at
    return None


_PLACES = frozenset({"territory", "region", "city", "place", "capital"})


def _present(names: Names) -> set[str]:
    """The English names, capitals joined to their countries, of the source's gazetteer hits."""
    return {n for hit in names.places for e in hit.english for n in entities.governments().of(e)}


def _in_source(mention: english_mod.Mention, names: Names) -> bool:
    return bool(mention.group & _present(names)) or mention.text in names.text


def _blank(english: str, mentions: list[english_mod.Mention]) -> str:
    for m in mentions:
        english = english[: m.start] + " " * (m.end - m.start) + english[m.end :]
    return english


def added(names: Names, english: str, mentions: list[english_mod.Mention], people: list[english_mod.Person]) -> list[str]:
    """Places, institutions, nationalities and people of the English that the source lacks."""
    source = names.text
    present = _present(names)
    folded = arabic.fold(source)
    words = _source_words(source)
    # a place is not spelled as a word of a person's name (Amman is not أمين of أمين الناصر)
    people_at = [(c.start, c.end) for c in names.others]
    unnamed = [w if not any(s <= w[0] < e for s, e in people_at) else (w[0], w[1], "") for w in words]
    out = []
    for mention in mentions:
        if mention.group & present or mention.text in source:
            continue
        if mention.kind == "office":
            row = next(r for r in entities.rows() if mention.text in r.names)
            if any(arabic.fold(form) in folded for form in row.arabic):
                continue
        elif all(_find_in_source(w, unnamed) is not None for w in english_words(mention.text) if len(w) > 2):
            continue  # the place spelled another way (Kiev for كييف, Tel Aviv for تل أبيب)
        out.append(f"added_name:{mention.text}")
    lost = [c for c in names.others if not other_kept(c, english)]
    for person in people:
        if not _same_person(person.name, names, words) or lost and _by_chance(person.name, names, words):
            out.append(f"added_name:{person.name}")
            renamed = _renamed(person.name, names, words, english)
            if renamed is not None:  # the source's person is lost too, whatever the family name keeps
                out.append(f"unverified_name:{renamed.text}")
    for run in english_mod.unknown_names(english, mentions, people):
        if run in source or run in present or any(_national(e, run) for h in names.places for e in h.english):
            continue  # (a town of the source, which the English lists do not hold: Ceyhan; Austrian)
        # an acronym is written in Latin letters or spelled out, never found by its consonants;
        # one of a name the English writes in full is that name, checked on its own
        if _ACRONYM.fullmatch(run):
            if run in _initials(english) or _spelled(run, words):
                continue
        elif any(_find_in_source(w, words) is not None for w in english_words(run) if len(w) > 2):
            if not _first_name_only(run, names, words):
                continue
        if any(" " in h.text and place_kept(h, run, source) for h in names.places):
            continue  # a place of several words spelled another way (Am Dram for أم درمان)
        out.append(f"added_name:{run}")
    return out


def _first_name_only(run: str, names: Names, words: list[tuple[int, str, str]]) -> bool:
    """Whether a run that reads as a person's full name keeps only the first name of a
    person of the source, with another family name (Ron Fann Ronood for رون فان رودن): a
    person is named by the family name, and a first name is shared by many."""
    parts = _name_parts(run)
    if not english_mod.person_like(run) or len(parts) < 2:
        return False
    first = _find_in_source(parts[0], words)
    if first is None:
        return False
    start = words[first][0]
    person = next((c for c in names.others if not c.headed and len(c.words) > 1 and c.start <= start < c.end), None)
    if person is None or other_kept(person, run):
        return False  # (a spelling the check of lost names accepts: Karen Jannabi for كارين جان بيير)
    return _find_in_source(parts[-1], words) is None  # (Al-Meer may be a word the finder left out: المير)


_ACRONYM = re.compile(r"[A-Z]{2,6}")
_CAPITALIZED_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|for|the|and)\s+)*[A-Z][\w'’-]*)+")


# The consonant classes of each Latin letter's Arabic name (سي إن إن for CNN, بي بي سي for BBC).
_LETTER_NAMES = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            "",
            "B",
            "S",
            "D",
            "",
            "F",
            "K",
            "TS",
            "",
            "K",
            "K",
            "L",
            "M",
            "N",
            "",
            "B",
            "K",
            "R",
            "S",
            "T",
            "",
            "F",
            "DBL",
            "KS",
            "",
            "Z",
        ),
    )
)


def _spelled(acronym: str, words: list[tuple[int, str, str]]) -> bool:
    """Whether the source spells an acronym letter by letter in Arabic (سي إن إن: CNN)."""
    n = len(acronym)
    letters = [_LETTER_NAMES[c] for c in acronym]
    for k in range(len(words) - n + 1):
        run = words[k : k + n]
        if all(len(arabic.fold(w)) <= 4 and s == c for (_, w, s), c in zip(run, letters)):
            return True
    return False


def _initials(english: str) -> set[str]:
    """The initials of the English's capitalized runs, with and without their small words
    (Syrian Democratic Forces: SDF; Office for the Coordination …: OCHA)."""
    out = set()
    for run in _CAPITALIZED_RUN.finditer(english):
        words = run.group().split()
        out.add("".join(w[0] for w in words if w[0].isupper()))
        out.add("".join(w[0].upper() for w in words))
    return out


def _same_person(name: str, names: Names, words: list[tuple[int, str, str]]) -> bool:
    """Whether a person of the English is one of the source: the family name is there, and
    when the source gives a first name too (a name of several words), the English one is it.
    A first name the source does not give is no invention (Dmitry Peskov for بيسكوف)."""
    at = _person_at(name, names.text, words)
    if at is not None and at < 0:
        return True  # written in Latin letters in the source
    if len(_name_parts(name)) > 1 and _renamed(name, names, words) is not None:
        return False
    if at is None:  # the name in a usual spelling of a source name (Olaf Scholz for أولاف شولتس)
        return any(usual.written(c.text, name) or usual.written(_family(c), name) for c in names.others)
    return True


def _by_chance(name: str, names: Names, words: list[tuple[int, str, str]]) -> bool:
    """Whether a person the English names in one word is found in the source only at a word
    outside every name (Sherry at شهر, "month"), while a name of the source is lost: then the
    English person stands for that name, misspelt past recognition."""
    if len(_name_parts(name)) != 1:
        return False
    at = _person_at(name, names.text, words)
    if at is None or at < 0:
        return False
    start = words[at][0]
    spans = [(c.start, c.end) for c in names.others] + [(h.start, h.end) for h in names.places]
    return not any(s <= start < e for s, e in spans)


def _renamed(name: str, names: Names, words: list[tuple[int, str, str]], english: str = "") -> candidates_mod.Candidate | None:
    """The source name of several words whose first name the English changed while keeping a
    later part (Faisal Hussein for فؤاد حسين, Taoufik bin Zaid Al-Nahyan for طحنون بن زايد آل
    نهيان): the last part of the English name found inside such a name, with none of the
    English words before it among that name's other words. An Arab family name is shared by
    many (Hussein, bin Salman); a foreign one (a row of data/foreign_names.tsv, a -ski or -ov)
    names its person alone, so Fidel Zilensky is still Zelensky in a loose spelling."""
    parts = _name_parts(name)
    for k in range(len(parts) - 1, 0, -1):
        if len(_collapse(english_skeleton(parts[k].split("-")[-1]))) < 2:
            continue  # Nahyan (N) would match any word
        at = _find_in_source(parts[k], words)
        if at is None:
            continue
        start = words[at][0]
        candidate = next((c for c in names.others if c.start <= start < c.end and len(c.words) > 1), None)
        if candidate is None or usual.foreign(candidate.text):
            continue
        own = _source_words(candidate.text)
        family = _find_in_source(parts[k], own)
        given = [_find_in_source(p, own) for p in parts[:k]]
        if any(g is not None and g != family for g in given) or usual.written(candidate.text, name):
            return None
        if english and kept(candidate.words[0], english):
            # the first name of that source name is in the English beside it (Hassan Sheikh
            # Mahmoud): the family name found there by its consonants (Mohamed: MD, like
            # محمود) stands for another name of the source with those consonants, if any
            other = next(
                (
                    c
                    for c in names.others
                    if c.start > start
                    and len(c.words) > 1
                    and not usual.foreign(c.text)
                    and _find_in_source(parts[k], _source_words(c.text)) is not None
                ),
                None,
            )
            if other is not None and not kept(other.words[0], english):
                return other
            return None  # that source name is in the English, whoever else is named
        return candidate
    return None


def changed_roles(names: Names, people: list[english_mod.Person]) -> list[str]:
    """Roles the English gives a person that the Arabic does not give them near their name."""
    source = names.text
    words = _source_words(source)
    out = []
    flagged = set()  # one flag a person: the first role the source does not give them
    for person in people:
        if not person.role or person.name in flagged:
            continue
        at = _person_at(person.name, source, words, first_too=True)
        if at is None or at < 0:
            continue  # not found in the source: added_name says so
        lo, hi = max(0, at - roles.WINDOW_BEFORE), min(len(words), at + roles.WINDOW_AFTER + 1)
        window = " ".join(w for _, w, _ in words[lo:hi])
        # a title the source gives nobody there is world knowledge (President Trump for ترامب),
        # not a changed role: only a role other than the one the source gives is flagged
        titled = any(candidates_mod._bare(w) in candidates_mod.TITLES for _, w, _ in words[lo : at + 1])
        if titled and not roles.holds(person.role, window, source):
            out.append(f"changed_role:{person.role} ({person.name})")
            flagged.add(person.name)
    return out


def check(names: Names, english: str) -> list[str]:
    """Warnings for the names of `names` that the English does not keep, and for the names and
    roles the English adds."""
    kept_places = [h for h in names.places if place_kept(h, english, names.text)]
    warnings = [f"missing_name:{' / '.join(h.english)}" for h in names.places if h not in kept_places]
    mentions = english_mod.mentions(english) if names.text else []
    # a place the source does not name keeps no person of it (Bishkek is not Peskov)
    placed = _blank(english, [m for m in mentions if m.kind in _PLACES and not _in_source(m, names)])
    # nor does an institution the English names (Christian Democratic Union is not هوكستين),
    # unless named after a titled person (King Salman Center)
    others = english_mod.INSTITUTION_RUN.sub(
        lambda m: m.group() if english_mod.titled(m.group()) else " " * len(m.group()), placed
    )
    # (a name found after a company's or place's noun may stand in an institution's English
    # name: Hamad International Airport)
    warnings += [f"unverified_name:{c.text}" for c in names.others if not other_kept(c, placed if c.headed else others)]
    if names.text:
        people = english_mod.people(english, mentions)
        invented = added(names, english, mentions, people)
        # a run the English invents keeps no source place (Banque Aziz is no Benghazi)
        runs = [w.partition(":")[2] for w in invented if w.startswith("added_name:")]
        if runs:
            rest = re.sub("|".join(re.escape(r) for r in runs), " ", english)
            lost = [h for h in kept_places if not place_kept(h, rest, names.text)]
            warnings = [f"missing_name:{' / '.join(h.english)}" for h in lost] + warnings
        warnings += invented + changed_roles(names, people)
    return list(dict.fromkeys(warnings))
