"""Meaning checks that need no second model: negation and polarity, verbs of saying, and the
scale of numbers (thousand, million, percent), each compared between a source segment and its
English. They flag; the reader decides.

- `negation:SPAN` — the English negates where the Arabic does not ("without Donald Trump" for
  "with the administration of Donald Trump"): SPAN is the English negation and the words after
  it; or the Arabic negates and the English does not: SPAN is the Arabic negation and its verb.
- `direction:SPAN` — the English says the opposite direction of the Arabic with no negation
  word to mark it ("increased" for تراجعت "fell", "will provide opportunities" for يقوض فرص
  "undermines the chances"): SPAN is the English word of direction and the words after it.
- `saying:denied` (or `saying:warned`) — the source's verb of saying is gone: a denial
  rendered as a statement reads as the opposite.
- `number:N SCALE` — a number of the source kept with another scale (4 million as 4 billion,
  30 percent as 30 million); `number:WORDS`, a number the source writes in words (للمرة الثانية
  عشرة) whose value the English lacks; `number:WEEKDAY`, another weekday than the source's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from khulasa_server.pipeline import direction
from khulasa_server.pipeline.numbers import word_number_flags
from khulasa_server.text.normalize import normalize

# Arabic negation particles and verbs of negating, as whole words (with a conjunction or
# preposition prefix و ف ب ل allowed before the particles of more than two letters).
_AR_PARTICLES = ("لا", "لم", "لن", "بلا", "ليس", "ليست", "ليسوا", "لست", "لسنا", "غير", "دون", "بدون", "عدم", "بعدم", "لعدم")
_AR_DENY = re.compile(r"^[وف]?(?:نفى|نفت|ينفي|تنفي|نفوا|ينفون|نفي|نفيا)$")
_AR_REFUSE = re.compile(r"^[وف]?(?:رفض|رفضت|يرفض|ترفض|رفضوا|يرفضون|رفضا)$")
# استبعد "ruled out" negates; negated itself (لم يستبعد "did not rule out") it leaves a possibility
# open, which is no negation of the clause, on either side.
_AR_RULE_OUT = re.compile(r"^[وف]?(?:استبعد|استبعدت|استبعدوا|يستبعد|تستبعد|نستبعد|أستبعد|يستبعدون)$")
_AR_WARN = re.compile(r"^[وف]?(?:حذر|حذرت|يحذر|تحذر|حذروا|محذرا|محذرة)$")
# Not negations: "still" (لا يزال), "especially" (لا سيما), "must" (لا بد), "however" (غير أن),
# a score "without reply" (1-0 دون رد), the "Without Borders" of organizations' names.
_AR_NOT_NEGATION = {
    ("بلا", "حدود"),
    ("دون", "رد"),
    ("بدون", "رد"),
    ("لا", "يزال"),
    ("لا", "تزال"),
    ("لا", "يزالون"),
    ("لا", "سيما"),
    ("لا", "بد"),
    ("غير", "أن"),
    ("غير", "ان"),
}
# A negation followed in its clause by إلا or سوى restricts ("only 30 percent"): not a negation.
_AR_EXCEPT = ("إلا", "الا", "سوى")
_AR_CLAUSE = re.compile(r"[،,.؛;:!?؟\"«»()\n]|\sو(?=\S{3,})")
# Where a clause opens, for aligning the clauses of the two sides: punctuation, a conjunction
# written on a verb of saying, a negation or a preposition (وقال, ولم, وفي), and the words that
# open one (لكن, بينما, غير أن); in the English, punctuation and conjunctions.
_AR_CLAUSE_OPEN = re.compile(
    r"[،,.؛;:!?؟\"«»()\n]|"
    r"(?<!\S)(?=[وف](?:قال|قالت|أكد|أكدت|أضاف|أضافت|أشار|أشارت|أعلن|أعلنت|كان|كانت|في|لم|لن|لا|ليس|ليست|قد|إن|أن|لكن)(?!\S))|"
    r"(?<!\S)(?=(?:لكن|لكنه|لكنها|بينما|فيما|حيث|مما|غير أن)(?!\S))"
)
# How near (in shares of the sentence) a negation of one side answers one of the other that
# the clause alignment put in a neighbouring block.
_NEAR = 0.15
_EN_CLAUSE_OPEN = re.compile(
    r"[,;:.!?()\"“”]|\b(?=(?:and|but|while|whereas|although|though|however|yet|because|which|who|whom)\b)", re.IGNORECASE
)

_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|non|lack|"
    r"den(?:y|ied|ies|ying|ial)|reject(?:s|ed|ing)?|refus(?:e|ed|es|ing|al)|" + direction.EN_DECLINE_REFUSES + "|"
    r"un(?:able|true|changed|clear|known|likely|precedented|founded|official|paid|finished)|"
    r"dismiss(?:ed|es)?|rul(?:e|ed|es|ing) out|exclud(?:e|ed|es))\b|n't\b",
    re.IGNORECASE,
)
# "only" answers a restricted negation (لم … إلا), "not only" is no negation of the clause, nor
# "did not rule out" (لم يستبعد). "Excluding" is "except" (باستثناء): not in the list above.
_EN_NOT_NEGATION = re.compile(
    r"\bnot only\b|\bno doubt\b|\bnone other\b|\bwithout (?:a )?reply\b|"
    r"(?:\b(?:not|never)|n't)\s+(?:be\s+)?(?:rul(?:e|ed|ing) out|exclud(?:e|ed|ing))\b",
    re.IGNORECASE,
)
# A restriction answers a negation the Arabic words as one (لن يكفي لأكثر من عشرة أيام: "will last only ten days").
_EN_ONLY = re.compile(r"\b(?:only|just|merely|solely)\b", re.IGNORECASE)
# Words that say an absence without a particle: they answer an English "without" or "no" (فراغ
# رئاسي "without a president", في غياب "in the absence of"), on the Arabic side.
_AR_ABSENCE = re.compile(r"(?<!\S)[وفبل]?(?:ال)?(?:فراغ|غياب|انعدام|خلو|افتقار|افتقاد)(?!\S)")
# Verbs that carry a negation in English: they answer an Arabic one (استقرار الأسواق لا رفع الأسعار
# "stabilize the market and prevent price increases").
_EN_IMPLICIT = re.compile(r"\b(?:prevent\w*|avoid\w*|refrain\w*|instead of|rather than)\b", re.IGNORECASE)
_AR_PREVENT = re.compile(r"(?<!\S)[وف]?(?:[يتن]?منع|منعت|[يت]?تجنب|[يت]حول|حال)(?!\S)")
_EN_DENY = re.compile(r"\b(?:den(?:y|ied|ies|ying|ial)|dismiss(?:ed|es|ing)?|refut(?:e|ed|es)|rejected|untrue|false)\b", re.I)
_EN_WARN = re.compile(r"\b(?:warn\w*|caution\w*|alert\w*)\b", re.I)

_AR_WORD = re.compile(r"[\u0621-\u064A\u0671-\u06D3]+")
_WORD = re.compile(r"\w")
_SCALES = {
    "ألف": "thousand",
    "آلاف": "thousand",
    "الف": "thousand",
    "مليون": "million",
    "ملايين": "million",
    "مليار": "billion",
    "مليارات": "billion",
    "بالمئة": "percent",
    "بالمائة": "percent",
    "المئة": "percent",
    "المائة": "percent",
    "%": "percent",
}
_AR_NUMBER_SCALE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:في\s+)?(" + "|".join(_SCALES) + ")")
_EN_SCALE = {
    "thousand": r"thousand",
    "million": r"million|mln|m\b",
    "billion": r"billion|bn\b",
    "percent": r"percent|per cent|%|percentage",
}
_EN_ANY_SCALE = re.compile(r"\s*(?:-\s*)?(thousand|million|billion|trillion|percent|per cent|%)", re.IGNORECASE)


def _strip_prefix(word: str) -> str:
    """A negation particle written with a conjunction or preposition before it (ولم, فلن, وغير, وبدون)."""
    for prefix in ("و", "ف"):
        rest = word[len(prefix) :]
        if word.startswith(prefix) and rest in _AR_PARTICLES:
            return rest
    return word


def _arabic_negations_at(source: str) -> list[tuple[int, str]]:
    """Each negation of the (normalized) source with where it starts: the particle or verb with
    the word after it."""
    found = []
    for start, end in _clauses(source, _AR_CLAUSE):
        matches = list(_AR_WORD.finditer(source, start, end))
        words = [m.group() for m in matches]
        for k, raw in enumerate(words):
            word = _strip_prefix(raw)
            after = words[k + 1] if k + 1 < len(words) else ""
            is_particle = word in _AR_PARTICLES and (word, after) not in _AR_NOT_NEGATION
            if is_particle and (word, after) in _listed_openings():
                continue  # غير بيدرسن: Geir Pedersen, a listed name, not "not"
            if word in ("غير", "دون") and after.startswith("ال"):
                # غير المباشرة "indirect", دون الخامسة "under five": a word's sense, not a clause's polarity
                continue
            if is_particle and any(w in _AR_EXCEPT for w in words[k + 1 :]):
                continue
            if is_particle and any(w.startswith("مكتوف") for w in words[k + 1 : k + 4]):
                continue  # لن يقف مكتوف الأيدي "will not stand idly by": an idiom for acting
            if is_particle and _AR_RULE_OUT.match(after):
                continue
            ruled_out = _AR_RULE_OUT.match(raw) and not (k and _strip_prefix(words[k - 1]) in _AR_PARTICLES)
            if is_particle or _AR_DENY.match(raw) or _AR_REFUSE.match(raw) or ruled_out:
                found.append((matches[k].start(), f"{raw} {after}".strip()))
    return found


@lru_cache(maxsize=1)
def _listed_openings() -> frozenset[tuple[str, ...]]:
    """The first two words of each listed foreign name of two words or more (data/foreign_names.tsv)."""
    from khulasa_server.pipeline.names.usual import foreign_rows

    return frozenset(tuple(form.split()[:2]) for row in foreign_rows() for form in row.arabic if len(form.split()) > 1)


def arabic_negations(source: str) -> list[str]:
    """Each negation of the source: the particle or verb with the word after it."""
    return [span for _, span in _arabic_negations_at(normalize(source))]


def _english_negations_at(english: str) -> list[tuple[int, str]]:
    """Each negation of the English with where it starts: the negating word with the two words
    after it."""
    # Blanked, not removed, so that positions stay those of the English.
    cleaned = _EN_NOT_NEGATION.sub(lambda m: " " * len(m.group()), english)
    found = []
    for m in _EN_NEGATION.finditer(cleaned):
        before = cleaned[: m.start()].rstrip()
        if m.group()[0].isupper() and before and before[-1] not in ".!?:\"“”'":
            continue  # inside a name: Doctors Without Borders
        tail = re.match(r"\s*((?:[\w'’-]+\s*){0,2})", cleaned[m.end() :])
        after = " ".join(tail.group(1).split()) if tail else ""
        if m.group() == "n't":  # the verb it negates: didn't, won't
            verb = cleaned[max(0, m.start() - 6) : m.end()].split()[-1]
            found.append((m.end() - len(verb), verb + f" {after}".rstrip()))
        else:
            found.append((m.start(), f"{m.group()} {after}".strip()))
    return found


def english_negations(english: str) -> list[str]:
    """Each negation of the English: the negating word with the two words after it."""
    return [span for _, span in _english_negations_at(english)]


def _clauses(text: str, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    """The (start, end) of each stretch of text between boundaries that holds a word."""
    out, start = [], 0
    for m in boundary.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [c for c in out if _WORD.search(text, c[0], c[1])] or [(0, len(text))]


def _blocks(ar: list[tuple[int, int]], ar_len: int, en: list[tuple[int, int]], en_len: int) -> list[tuple[list[int], list[int]]]:
    """The clauses of the two sides aligned in order, by where they lie in their sentence: each
    clause is joined to the clause of the other side it overlaps most (in shares of the
    sentence); the joined groups are the blocks, in order, as (Arabic clauses, English clauses).
    One clause on either side gives one block: the whole segment."""
    a = [(s / max(ar_len, 1), e / max(ar_len, 1)) for s, e in ar]
    b = [(s / max(en_len, 1), e / max(en_len, 1)) for s, e in en]

    def best(span: tuple[float, float], others: list[tuple[float, float]]) -> int:
        overlaps = [min(span[1], o[1]) - max(span[0], o[0]) for o in others]
        return overlaps.index(max(overlaps))

    # Union-find over the Arabic clauses 0…m-1 and the English ones m…m+n-1.
    parent = list(range(len(a) + len(b)))

    def root(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    for i, span in enumerate(a):
        parent[root(i)] = root(len(a) + best(span, b))
    for j, span in enumerate(b):
        parent[root(len(a) + j)] = root(best(span, a))
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for k in range(len(a) + len(b)):
        side = 0 if k < len(a) else 1
        groups.setdefault(root(k), ([], []))[side].append(k if side == 0 else k - len(a))
    return sorted(groups.values(), key=lambda g: g[0][0] if g[0] else len(a))


def negation_flags(source: str, english: str) -> list[str]:
    """Negations of one side without a counterpart on the other, clause by clause: with the
    clauses of the two sides aligned (`_blocks`), in each block the extra English negations (the
    last ones, usually what the model added) or the Arabic ones left unanswered. Counted per
    segment, a sentence whose source negates its first clause and whose English negates its
    second would pass, yet it says the opposite twice. An extra on one side answers one on the
    other in a neighbouring block when the two lie at nearly the same place in their sentences
    (a clause boundary that falls a few words apart on the two sides)."""
    if not english.strip():
        return []
    source = normalize(source)
    ar_at, en_at = _arabic_negations_at(source), _english_negations_at(english)
    if not ar_at and not en_at:
        return []
    ar_clauses, en_clauses = _clauses(source, _AR_CLAUSE_OPEN), _clauses(english, _EN_CLAUSE_OPEN)
    extra_en: list[tuple[float, str]] = []
    extra_ar: list[tuple[float, str]] = []
    for ar_block, en_block in _blocks(ar_clauses, len(source), en_clauses, len(english)):
        a_from, a_to = ar_clauses[ar_block[0]][0], ar_clauses[ar_block[-1]][1]
        e_from, e_to = en_clauses[en_block[0]][0], en_clauses[en_block[-1]][1]
        ar = [(at / len(source), span) for at, span in ar_at if a_from <= at < a_to]
        en = [(at / len(english), span) for at, span in en_at if e_from <= at < e_to]
        absences = len(_AR_ABSENCE.findall(source, a_from, a_to))
        if len(en) > len(ar) + absences:
            extra_en += en[len(ar) + absences :]
            continue
        answered = len(en) + len(_EN_ONLY.findall(english, e_from, e_to))
        if not any(_AR_PREVENT.search(span) for _, span in ar):  # لم تمنع "did not prevent" is no "prevented"
            answered += len(_EN_IMPLICIT.findall(english, e_from, e_to))
        extra_ar += ar[answered:]
    flags = []
    for where, span in extra_en:
        near = [n for n, (other, _) in enumerate(extra_ar) if abs(other - where) <= _NEAR]
        if near:
            del extra_ar[near[0]]
        else:
            flags.append((where, f"negation:{span}"))
    flags += [(where, f"negation:{span}") for where, span in extra_ar]
    return [flag for _, flag in sorted(flags, key=lambda f: f[0])]


def direction_flags(source: str, english: str) -> list[str]:
    """Clauses whose Arabic says one direction of a sense (a rise, a fall; support, undermining;
    plenty, scarcity: `direction.py`) and whose English only the opposite one, with the clauses
    aligned as for negation. A clause that holds both directions on either side (shares rose
    despite a fall in oil) is left alone. Where the English says each of the Arabic's directions
    of that sense somewhere in the sentence, the opposite in this clause is another word or a
    clause the English moved ("prices, which fell last week, rose by 3 percent"), and is flagged
    only when the same number follows both words (ارتفعت الصادرات بنسبة 5 rendered "exports fell by
    5": the English turned the clause round rather than moved it)."""
    if not english.strip():
        return []
    source = normalize(source)
    ar_at, en_at = direction.arabic_poles(source), direction.english_poles(english)
    if not ar_at or not en_at:
        return []
    ar_clauses, en_clauses = _clauses(source, _AR_CLAUSE_OPEN), _clauses(english, _EN_CLAUSE_OPEN)
    flags = []
    for ar_block, en_block in _blocks(ar_clauses, len(source), en_clauses, len(english)):
        a_from, a_to = ar_clauses[ar_block[0]][0], ar_clauses[ar_block[-1]][1]
        e_from, e_to = en_clauses[en_block[0]][0], en_clauses[en_block[-1]][1]
        for sense in direction.SENSES:
            ar = [(at, pole) for at, s, pole in ar_at if s == sense and a_from <= at < a_to]
            en = [(at, pole, span) for at, s, pole, span in en_at if s == sense and e_from <= at < e_to]
            if len({pole for _, pole in ar}) != 1 or not en:
                continue
            at, pole = ar[0]
            if any(other == pole for _, other, _ in en):
                continue
            said_elsewhere = sum(s == sense and p == pole for _, s, p, _ in en_at) >= sum(
                s == sense and p == pole for _, s, p in ar_at
            )
            number = _number_after(english, en[0][0])
            turned = number is not None and number == _number_after(source, at)
            if not said_elsewhere or turned:
                flags.append(f"direction:{en[0][2]}")
    return flags


def _number_after(text: str, at: int, words: int = 4) -> str | None:
    """The first number among the few words after position `at` (the word there included)."""
    number = re.search(r"\d+(?:[.,]\d+)*", " ".join(text[at:].split()[: words + 1]))
    return number.group() if number else None


def saying_flags(source: str, english: str) -> list[str]:
    """Verbs of saying the English dropped: a denial (نفى) with no denial in the English and no
    negation to carry it; a warning (حذر) with no warning."""
    if not english.strip():
        return []
    words = _AR_WORD.findall(normalize(source))
    flags = []
    denied = any(_AR_DENY.match(w) for w in words)
    # "said that he had not resigned" keeps a denial's meaning: every Arabic negation, the
    # denial included, has an English one.
    carried = len(english_negations(english)) >= len(arabic_negations(source))
    if denied and not _EN_DENY.search(english) and not carried:
        flags.append("saying:denied")
    if any(_AR_WARN.match(w) for w in words) and not _EN_WARN.search(english):
        flags.append("saying:warned")
    return flags


def number_flags(source: str, english: str) -> list[str]:
    """A source number with a scale (ألف, مليون, مليار, في المئة) that the English keeps with
    another scale. A number the English lacks altogether is missing_number's."""
    flags = []
    for number, scale in _AR_NUMBER_SCALE.findall(normalize(source)):
        wanted = _SCALES[scale]
        grouped = re.compile(rf"(?<![\d.,]){re.escape(number)}(?![\d]|\.\d)")
        expected = re.compile(rf"\s*(?:-\s*)?(?:{_EN_SCALE[wanted]})", re.IGNORECASE)
        seen = [m.end() for m in grouped.finditer(english)]
        if not seen:
            continue
        after = [english[end:] for end in seen]
        if any(expected.match(a) or (wanted == "thousand" and re.match(r",\d{3}", a)) for a in after):
            continue
        if any(_EN_ANY_SCALE.match(a) for a in after):
            flags.append(f"number:{number} {wanted}")
    return flags


# The weekdays as news writes them: the gazetteer's (CLDR's) and الإثنين, which CLDR lacks.
_WEEKDAYS = {
    "الأحد": "Sunday",
    "الاثنين": "Monday",
    "الإثنين": "Monday",
    "الثلاثاء": "Tuesday",
    "الأربعاء": "Wednesday",
    "الخميس": "Thursday",
    "الجمعة": "Friday",
    "السبت": "Saturday",
}
_EN_WEEKDAY = re.compile(r"\b(?:Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day\b")


def weekday_flags(source: str, english: str) -> list[str]:
    """`number:WEEKDAY` when the English names another weekday than the source's (one it just
    drops is missing_name's)."""
    words = set(_AR_WORD.findall(normalize(source)))
    wanted = {en for ar, en in _WEEKDAYS.items() if ar in words or "يوم" + ar in words or "و" + ar in words}
    said = set(_EN_WEEKDAY.findall(english))
    return [f"number:{day}" for day in sorted(wanted - said)] if said - wanted else []


def check(source: str, english: str) -> list[str]:
    """All the meaning flags of a segment."""
    saying = saying_flags(source, english)
    negation = negation_flags(source, english)
    if "saying:denied" in saying:
        # The lost denial is the lost negation: one flag, the one that says what was lost.
        arabic = set(arabic_negations(source))
        negation = [f for f in negation if f.partition(":")[2] not in arabic]
    numbers = number_flags(source, english) + word_number_flags(source, english) + weekday_flags(source, english)
    return list(dict.fromkeys(saying + negation + direction_flags(source, english) + numbers))


def one_flag_per_weekday(name_flags: list[str], flags: list[str]) -> list[str]:
    """The name flags less `missing_name:DAY` where `number:DAY` says the weekday was written as
    another: one error, one flag (the one that says what happened)."""
    return [f for f in name_flags if not (f.startswith("missing_name:") and f"number:{f.partition(':')[2]}" in flags)]
