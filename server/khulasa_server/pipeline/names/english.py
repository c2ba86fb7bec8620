"""Names in the English output, for the checks that look from the English back to the Arabic:
places (the gazetteer's English), institutions, offices and nationality words (entities.tsv),
and people, where English marks a person: after a title or an honorific (President X, Mr. X),
beside a role in apposition (X, the Kremlin spokesman), or before a verb of saying (X said);
and other capitalized runs no list holds (Nile Delta, Google Cloud), whose name-like words the
check looks for in the source by their consonants. Word lists here are English function and
title words, not names: a name is never listed to make a case pass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from khulasa_server.pipeline.names import entities
from khulasa_server.pipeline.names import gazetteer as gazetteer_mod

# Gazetteer cities whose English is also an everyday word or a common given name: as English
# words they say nothing about a place (Sale, Natal, Aurora).
_NOT_NAMES = frozenset(
    "Sale Oral Natal Batman Aurora Bimbo Honcho Nome Regina Davis Austin Darwin Santos Franca Palma Toyota".split()
)
_PLACE_KINDS = frozenset({"territory", "region", "city"})

# Titles before a name, and the roles news gives people. Longest first.
ROLE_WORDS = (
    "prime minister|foreign minister|defense minister|defence minister|interior minister|finance minister|"
    "health minister|energy minister|oil minister|economy minister|justice minister|minister|"
    "deputy|vice president|president|premier|spokesman|spokeswoman|spokesperson|lawmaker|parliamentarian|mp|"
    "member of parliament|speaker|senator|secretary-general|secretary general|secretary|ambassador|envoy|"
    "crown prince|king|queen|prince|emir|general|commander|governor|mayor|director-general|director general|"
    "director|chairman|chairwoman|ceo|chief executive|chief|head|leader|adviser|advisor|chancellor|coach|judge|"
    "representative|expert|analyst|correspondent|reporter|journalist"
)
_ROLE = rf"(?i:(?:(?:deputy|vice|acting|former|interim)\s+)?(?:{ROLE_WORDS}))"
_HONORIFIC = r"(?:Mr|Mrs|Ms|Dr|Sir|Sheikh|Sheikha)\.?"
# A person's name: capitalized words, with the particles names carry (bin, al-, de, van).
_PARTICLE = r"(?:bin|ibn|bint|al|el|de|da|van|von|der|Abu|Al|El|Bin|Ibn)"
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ'’"
_NAME_WORD = rf"(?:[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}]?[{_LOWER}]+)*|(?:al|el)-[{_UPPER}][{_LOWER}]+)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,3}}"
_SAYING = (
    r"(?:said|says|told|added|announced|stressed|confirmed|noted|warned|denied|declared|stated|explained|affirmed"
    r"|won|scored|beat|defeated|met|visited|received|will|would)"
)
_QUALIFIER = r"(?:[A-Z][A-Za-z'’.-]*\s+){0,4}"  # Kremlin / Iraqi Foreign / United Nations …

# A title then a name: "Prime Minister Fuad Hasin", "Kremlin spokesman Dmitry Peskov", "Mr. Peskov".
# Secretary of State, Minister of Foreign Affairs, Envoy for Syria
_OF_OFFICE = r"(?:\s+(?:of|for|to)\s+(?:the\s+)?[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?"
# (an acronym or gloss in parentheses may stand between: "… for Lebanon (UNIFIL) Andrea Tenenti")
_GLOSS = r"(?:\s*\([^()]{1,60}\))?"
_TITLED = re.compile(rf"\b(?P<role>{_ROLE}{_OF_OFFICE}|{_HONORIFIC}){_GLOSS}\s*,?\s+(?:{_HONORIFIC}\s+)?(?P<name>{_NAME})")
# A name, then its role: "Dmitry Peskov, the Kremlin spokesman", "Bieskof, the head of the …".
_APPOSED = re.compile(rf"\b(?P<name>{_NAME}),\s+(?:(?i:the|a|an)\s+)?{_QUALIFIER}(?P<role>{_ROLE})\b")
# A role of something, then the name: "The president of the UAE, Mohammed bin Zayed, said".
# (of the: "The President of the General Manager of the Group, Mostafa Tareq")
_OF_WHAT = r"[A-Z][\w'’.-]*(?:\s+(?:of\s+(?:the\s+)?|the\s+)?[A-Z][\w'’.-]*){0,4}"
_ROLE_OF = re.compile(rf"\b(?P<role>{_ROLE})\s+(?:of|for|to)\s+(?:the\s+)?{_OF_WHAT},\s+(?:{_HONORIFIC}\s+)?(?P<name>{_NAME})")
# (not after "of" or "the": the Ministry of Culture announced, the Agency said)
_SAYS = re.compile(rf"(?<!\bof )(?<!\bthe )\b(?P<name>{_NAME})\s+(?:has\s+|had\s+)?{_SAYING}\b")
_ROLE_NAME = re.compile(rf"^{_ROLE}$")
# (an abbreviation's full stop ends no sentence: St. Petersburg, Mr. Peskov)
_SENTENCE_START = re.compile(r"(?:^|(?<!\bSt)(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bGen)(?<!\bLt)[.!?:;\"“”]\s*)$")
# Capitalized words that begin sentences and clauses, not names.
_COMMON = frozenset(
    "The A An In On At For From With By To Of But And Or So As If When While After Before During Since Until "
    "Meanwhile However Also Yet Still Then Thus This That These Those It Its He She They We I You His Her Their "
    "Our Your There Here Both Each All Some Many Most Other Such According Following Despite Although Though "
    "Because Under Over Between Among Against Without Within About Last Next New Earlier Later Today Yesterday "
    "Mr Mrs Ms Dr Sir Sheikh Sheikha".split()
)
_PREPOSITIONS = frozenset("In At From On For With By To Of After Before During Since Under Over Between Among Against".split())
_CAPITALIZED_BEFORE = re.compile(rf"[{_UPPER}][{_LOWER}.]*\s+$")
# Words that make a capitalized run an institution, not a person (Emirates Space Agency).
_INSTITUTION = frozenset(
    "Agency Bank Ministry Company Council Union Party Fund Organization Organisation Authority Department League "
    "Association Committee Court Army Force Forces Group Corporation Airlines Airways University Institute Center Centre "
    "Office Commission Cup Championship Championships Games Federation Movement Front Government Cabinet Parliament "
    "Assembly Senate House Palace Embassy Command Brigades Guard Police Service News Times Post Television Channel "
    "Exchange Market Index Summit Conference Forum Treaty Accord Agreement Club Team Stadium Airport Port Hospital "
    "School Foundation Programme Program Festival Prize Award Network Energy Oil Petroleum Holding Holdings".split()
)


# A capitalized run ending in an institution word (Christian Democratic Union, Amman National Bank).
INSTITUTION_RUN = re.compile(rf"(?:[{_UPPER}][{_LOWER}]+\s+)+(?:{'|'.join(sorted(_INSTITUTION))})\b")


def titled(run: str) -> bool:
    """Whether a run holds a title or an honorific (King Salman Center, Sheikh Zayed Mosque)."""
    return any(_ROLE_NAME.match(w) or re.fullmatch(_HONORIFIC, w) for w in run.split())


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    kind: str  # territory, region, city, organization, office, demonym, country, person

    @property
    def group(self) -> frozenset[str]:
        return entities.governments().of(self.text)


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # "" when only a verb of saying or an honorific marks the person


@lru_cache(maxsize=1)
def _names() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern of every English name the lists hold, longest first (offices have their
    lowercase spellings listed), and each name's kind."""
    kinds: dict[str, str] = {}
    for entry in (e for listed in gazetteer_mod.default().index.values() for e in listed):
        if entry.kind in _PLACE_KINDS and entry.english not in _NOT_NAMES and len(entry.english) > 2:
            kinds.setdefault(entry.english, entry.kind)
    for row in entities.rows():
        for name in row.names:
            kinds.setdefault(name, row.kind)
    pattern = "|".join(re.escape(n) for n in sorted(kinds, key=len, reverse=True))
    # a name before -made, -led, -backed is still named (Russian-made, Saudi-led), and two
    # names joined by a hyphen are two names (Guinea-Sierra Leone, Russia-Ukraine)
    return re.compile(rf"(?<!\w)(?:{pattern})(?![\w]|-(?!(?:made|led|backed|based|owned)\b|[A-Z]))"), kinds


# after a hyphen a name is one only when a capitalized word stands before it (Guinea-Sierra
# Leone), not a prefix (pro-Russian, anti-Israel)
_AFTER_LOWER_HYPHEN = re.compile(r"(?:^|[^\w-])(?![A-Z])[\w]+-$")
_CURRENCY = re.compile(r"\s*(?:dollars?|cents?)\b", re.IGNORECASE)


def mentions(english: str) -> list[Mention]:
    """Places, institutions, offices and nationality words named in an English text (a
    currency's country is not named: 50 US dollars)."""
    pattern, kinds = _names()
    return [
        Mention(m.start(), m.end(), m.group(), kinds[m.group()])
        for m in pattern.finditer(english)
        if not _CURRENCY.match(english, m.end())
        and not (english[m.start() - 1 : m.start()] == "-" and _AFTER_LOWER_HYPHEN.search(english, 0, m.start()))
    ]


def people(english: str, listed: list[Mention]) -> list[Person]:
    """People the English names, with the role it gives each ("" for none)."""
    names = {m.text for m in listed}
    spans = [(m.start, m.end) for m in listed]
    found: dict[tuple[str, str], Person] = {}  # by name and role: "General X" may also be "commander of …, X"

    def add(name: str, role: str, start: int) -> None:
        if any(s < start + len(name) and start < e for s, e in spans):
            return  # part of a listed name (the United Arab Emirates)
        words = [re.sub(r"['’]s?$", "", w) for w in name.split()]  # Trump's
        if words[0] in _PREPOSITIONS:
            return  # a place phrase (In Washington, the US Secretary …)
        roles = [k for k, w in enumerate(words) if _ROLE_NAME.match(w)]
        words = words[roles[-1] + 1 :] if roles else words  # "Foreign Minister" is no name
        while words and words[0] in _COMMON:
            words = words[1:]
        # a listed name or a run of them (Kremlin, Egyptian, Cairo), or an institution, is no person
        if not words or " ".join(words) in names or all(w in names or w in _COMMON for w in words):
            return
        if any(w in _INSTITUTION for w in words) or all(w in _GENERIC for w in words):
            return  # an institution, or words of a title (Minister of Foreign Affairs)
        name = " ".join(words)
        found.setdefault((name, role.lower()), Person(name, role.lower()))

    for match in _TITLED.finditer(english):
        role = match.group("role")
        add(match.group("name"), "" if re.fullmatch(_HONORIFIC, role) else role, match.start("name"))
    for pattern in (_APPOSED, _ROLE_OF):
        for match in pattern.finditer(english):
            add(match.group("name"), match.group("role"), match.start("name"))
    for match in _SAYS.finditer(english):
        # a sentence's first word may be an ordinary word: there a single word counts unless it
        # is a plural (Officials said, Witnesses told)
        name = match.group("name")
        if _CAPITALIZED_BEFORE.search(english[: match.start()]):
            continue  # the end of a longer capitalized run (the Rapid Response Force denied)
        if " " in name or not _SENTENCE_START.search(english[: match.start()]) or not re.search(r"[^s]s$", name):
            add(name, "", match.start("name"))
    roled = {name for name, role in found if role}
    return [p for (name, role), p in found.items() if role or name not in roled]


# Words of capitalized runs that are translations of Arabic common nouns (the Supreme Council,
# the Ministry of Health, the Northern Region) or parts of titles: a run made only of them is
# no name to look for in the source.
_GENERIC = frozenset(
    "National Supreme High Central General Foreign Interior Defense Defence Health Finance Justice Education "
    "Culture Tourism Trade Commerce Economy Economic Energy Oil Security Affairs State States Public Human Rights "
    "International World Global Regional Federal Republic Kingdom Islamic Armed Special Joint Representative "
    "Representatives Development Relief Refugees Emergency Civil Red Sea Ocean Gulf River Lake Mountains Desert "
    "Valley Island Islands North South East West Northern Southern Eastern Western Middle New Old Great United "
    "Democratic Popular Liberation Revolutionary Guards Coast Air Naval Navy Space Station Stock Prime Deputy Vice "
    "First Second Third Statement Report Resolution Press Radio TV Media Information Communications Technology "
    "Science Research Studies Water Electricity Food Agriculture Environment Climate Transport Housing Labour Labor "
    "Social Women Youth Sports Sport Olympic Football Premier Final Round Peace War Crisis Plan Initiative Day Year "
    "Week Month Minister Ministry President Presidential Director Chairman Secretary Spokesman Ambassador Envoy King "
    "Prince Emir Crown Commissioner Commander General Governor Mayor Speaker Senator Chief Head Leader Adviser Judge "
    "Officer Official Officials Council Board Governors Directors Members Member Party Parties Arabic English "
    "Manager Managing Executive "
    "Reconstruction Humanitarian Aid Operations Operation Program Fund Forces Force Army Resistance Opposition "
    "Treasury Customs Police Intelligence Ports Port Authority Affair Internal External Permanent Mission "
    "Alliance Prevention Disease Diseases Control Centers Centres Asian Mediterranean Atlantic Pacific Caribbean "
    # diseases: a wrong one is a wrong fact, not an invented name
    "Ebola Zika Covid Mpox Cholera Malaria Polio Measles Dengue Influenza".split()
)
_RUN_WORD = rf"(?:{_NAME_WORD}|[A-Z]{{2,6}}\b)"
_CAPITAL_RUN = re.compile(rf"{_RUN_WORD}(?:\s+(?:of\s+(?:the\s+)?|de\s+|bin\s+)?{_RUN_WORD})*")
_NOT_ACRONYMS = frozenset("AM PM GMT AI GDP CEO TV MP ID USD COVID OK UK US EU UN".split())


def unknown_names(english: str, listed: list[Mention], known: list[Person]) -> list[str]:
    """Capitalized runs that no list holds and no person check has taken: the words of each
    that could be names (not generic, not common), for a look in the source. A sentence's
    first word alone is left out: English capitalizes it whatever it is."""
    taken = {w for p in known for w in p.name.split()}
    out = []
    for match in _CAPITAL_RUN.finditer(english):
        start, text = match.start(), re.sub(r"['’]s$", "", match.group().rstrip("."))
        if re.fullmatch(r"[A-Z]{2,6}", text) and english[start - 1 : start] == "(":
            continue  # an acronym after its name: Christian Democratic Union (CDU)
        inside = [m for m in listed if m.start < match.end() and start < m.end]
        # before a nationality word that ends it, the rest of the run is still a name to look
        # for (Riesol Spanish for شركة ريبسول الإسبانية, as Arabic orders them)
        if len(inside) == 1 and inside[0].kind == "demonym" and text.endswith(" " + inside[0].text):
            text = text[: -len(inside[0].text)].strip()
        elif inside:
            continue
        words = [w for w in re.split(r"\s+|-", text) if len(w) > 2 and w[0].isupper()]
        if _SENTENCE_START.search(english[:start]) and len(words) == 1:
            continue
        content = [
            w
            for w in words
            if w not in _GENERIC
            and w not in _COMMON
            and w not in _INSTITUTION
            and w not in taken
            and not _ROLE_NAME.match(w)
            and w not in _NOT_ACRONYMS
            and w.rstrip("'’s") not in _MONTHS_DAYS
        ]
        if content and text not in out:
            out.append(text)
    return out


def person_like(run: str) -> bool:
    """Whether a capitalized run reads as a person's full name: two to four name words, none
    generic, common, an institution's or a role's (Ron Fann Ronood, not Nile Delta Authority)."""
    words = run.split()
    return 2 <= len(words) <= 4 and all(
        re.fullmatch(_NAME_WORD, w)
        and w not in _GENERIC
        and w not in _COMMON
        and w not in _INSTITUTION
        and not _ROLE_NAME.match(w)
        and w not in _MONTHS_DAYS
        for w in words
    )


_MONTHS_DAYS = frozenset(
    "January February March April May June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
)
