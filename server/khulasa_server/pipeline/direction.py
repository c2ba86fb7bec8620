"""Words of direction, Arabic and English, for the meaning check that sees an opposite no negation
word marks: revenues that fell rendered "increased", what undermines the chances rendered "will
provide opportunities", one of the most water-poor countries rendered "the largest producer of
water". Each pair is two poles of one sense; `meaning.direction_flags` compares them clause by
clause.

The lists are short on purpose: a word joins a pole only where news uses it in that sense, and
the senses a word also has elsewhere are left out by the exceptions below ("declined to comment"
is a refusal, "rose to power" no rise in an amount, ما يزيد على "more than" no increase)."""

from __future__ import annotations

import re

# (sense, pole) → the Arabic words, as whole words after an optional conjunction, preposition
# and article (و ف ب ل ال). Every English word of a pole has its Arabic here (collapse انهيار,
# expand توسع), so that a clause holding both directions is seen as such on both sides.
# أضعاف "times as much" is no weakening, تصعيد "escalation" no rise,
# شحن "shipping" no scarcity: the lists name the forms, not the roots.
_AR_POLES: dict[tuple[str, str], str] = {
    ("amount", "up"): (
        r"[اإ]رتفع\w*|[يت]رتفع\w*|[اإ]رتفاع\w*|زاد|زادت|زادوا|[يت]زيد|[يت]زيدان|زياد[ةت]\w*|[اإ]زداد\w*|[يت]زداد\w*|"
        r"[اإ]زدياد\w*|نما|نمت|[يت]نمو|نمو|نموا|نموه|نموها|صعد|صعدت|[يت]صعد|صعود\w*|قفز|قفزت|[يت]قفز|قفز[ةت]\w*|"
        r"تضاعف\w*|[يت]تضاعف\w*|ضاعف|ضاعفت|[يت]ضاعف|تصاعد\w*|[يت]تصاعد\w*|توسع\w*|[يت]توسع\w*|توسيع\w*"
    ),
    ("amount", "down"): (
        r"تراجع\w*|[يت]تراجع\w*|[اإ]نخفض\w*|[يت]نخفض\w*|[اإ]نخفاض\w*|هبط|هبطت|[يت]هبط|هبوط\w*|تقلص\w*|[يت]تقلص\w*|"
        r"قلص|قلصت|[يت]قلص|تقليص\w*|[اإ]نكمش\w*|[يت]نكمش\w*|[اإ]نكماش\w*|خسر|خسرت|خسروا|[يت]خسر|[يت]خسرون|خفض|خفضت|"
        r"[يت]خفض|تخفيض\w*|تدنى|تدنت|[يت]تدنى|تهاوى|تهاوت|[يت]تهاوى|[اإ]نهار|[اإ]نهارت|[يت]نهار|[اإ]نهيار\w*"
    ),
    ("support", "up"): r"عزز|عززت|[يت]عزز|تعزيز\w*",
    ("support", "down"): (r"قوض|قوضت|[يت]قوض|تقويض\w*|أضعف|أضعفت|[يت]ضعف|إضعاف\w*|عرقل\w*|[يت]عرقل\w*"),
    ("plenty", "up"): r"غني|غنية|أغنى|أغنياء|ثري|ثرية|أثرياء|وفرة|وفير\w*|فائض\w*",
    ("plenty", "down"): r"فقر|فقرا|فقير\w*|أفقر|فقراء|شح|شحة|شحيح\w*|ندرة|نقص\w*",
}
_AR_PREFIX = r"(?:[وف]?(?:[بل]|ك)?(?:ال|ل)?)"
# "The largest producer" is plenty in the English list, so its Arabic is too (أكبر منتج للنفط).
_AR_LARGEST = ("أكبر", "أكثر")
_AR_PRODUCER = re.compile(r"^(?:منتج|مصدر|مورد)\w*$")
_AR = {key: re.compile(rf"^{_AR_PREFIX}(?:{forms})$") for key, forms in _AR_POLES.items()}
# زاد as a quantifier: ما يزيد على "more than", زيادة على ذلك "moreover".
_AR_ADD = re.compile(rf"^{_AR_PREFIX}(?:زاد|زادت|[يت]زيد|زياد[ةت]\w*)$")
_AR_MORE_THAN_AFTER = ("على", "عن")
_AR_MORE_THAN_BEFORE = ("ما", "بما", "لما", "فيما")

# The English poles. Capitalized inside a sentence a word is a name's (Niagara Falls) and is left out.
_EN_POLES: dict[tuple[str, str], str] = {
    ("amount", "up"): (
        r"ris(?:e|es|en|ing)|rose|increas(?:e|ed|es|ing)|grow(?:s|n|ing|th)?|grew|climb(?:s|ed|ing)?|jump(?:s|ed|ing)?|"
        r"surg(?:e|ed|es|ing)|soar(?:s|ed|ing)?|doubl(?:ed|es|ing)|tripl(?:ed|es|ing)|spik(?:e|ed|es)|swell(?:ed|s)?|"
        r"expan(?:d|ded|ds|ding|sion)|hik(?:e|ed|es)|skyrocket(?:s|ed|ing)?"
    ),
    ("amount", "down"): (
        r"fall(?:s|en|ing)?|fell|declin(?:e|ed|es|ing)|decreas(?:e|ed|es|ing)|drop(?:s|ped|ping)?|"
        r"shr(?:ink|inks|ank|unk|inking)|contract(?:ed|ion)|plung(?:e|ed|es|ing)|slump(?:s|ed|ing)?|tumbl(?:e|ed|es|ing)|"
        r"slid(?:e|es|ing)?|dip(?:s|ped|ping)?|cut(?:s|ting)?|reduc(?:e|ed|es|ing|tions?)|lower(?:ed|ing)|"
        r"halv(?:e|ed|es|ing)|diminish(?:ed|es|ing)?|dwindl(?:e|ed|es|ing)|collaps(?:e|ed|es|ing)|slash(?:ed|es|ing)?"
    ),
    ("support", "up"): (
        r"strengthen(?:s|ed|ing)?|boost(?:s|ed|ing)?|bolster(?:s|ed|ing)?|enhanc(?:e|ed|es|ing)|reinforc(?:e|ed|es|ing)|"
        r"promot(?:e|ed|es|ing)|foster(?:s|ed|ing)?|"
        # "offers little chance" is no support: the words between hold no "no", "little", "few"
        r"(?:provid|offer|creat|open|improv)\w*\s+(?:(?!(?:no|little|few|fewer|less)\b)[\w-]+\s+){0,2}?"
        r"(?:opportunit|chance|prospect)\w*"
    ),
    ("support", "down"): (
        r"undermin(?:e|ed|es|ing)|weaken(?:s|ed|ing)?|hinder(?:s|ed|ing)?|hamper(?:s|ed|ing)?|obstruct(?:s|ed|ing)?|"
        r"jeopardi[sz](?:e|ed|es|ing)|threat(?:s|en|ens|ened|ening)?|imperil(?:s|led|ling)?|erod(?:e|ed|es|ing)|"
        r"derail(?:s|ed|ing)?|sabotag(?:e|ed|es|ing)|damag(?:e|ed|es|ing)"
    ),
    ("plenty", "up"): (
        r"rich(?:er|est)?|wealth(?:y|ier|iest)?|abundan(?:t|ce)|plentiful|surplus(?:es)?|"
        r"(?:largest|biggest|leading|top|major|main)\s+(?:[\w-]+\s+)?(?:producer|exporter|supplier)s?"
    ),
    ("plenty", "down"): (
        r"poor(?:er|est)?|poverty|impoverish\w*|scarc(?:e|ity)|shortages?|deficits?|lack(?:s|ed|ing)?|"
        r"water-stressed"
    ),
}
# "Declined" refuses when an infinitive or an object follows (declined to comment, declined the
# offer); otherwise it falls (declined by 5 percent, declined to 3 percent). The negation check
# counts the first, this one the second.
EN_DECLINE_REFUSES = r"declin(?:e|ed|es|ing)(?=\s+(?:to\s+[a-z]|(?:the|an?|his|her|its|their|this|that|any|all)\b))"
_EN = {key: re.compile(rf"\b(?:{forms})\b", re.IGNORECASE) for key, forms in _EN_POLES.items()}
# The senses of those words that say no direction: a refusal (declined to comment, declined the
# offer), a rise to power, falling ill or in love, a season, a drop of charges, a cut of ties,
# a range ("up to" is not listed at all).
_EN_NOT_DIRECTION = re.compile(
    rf"\b{EN_DECLINE_REFUSES}|"
    r"\b(?:rise|rises|rose|risen|rising)\s+(?:up\b|to\s+(?:power|prominence|fame|the\s+throne|the\s+challenge|the\s+occasion))|"
    r"\b(?:fall|falls|fell|fallen|falling)\s+(?:in\s+love|ill|silent|asleep|victim|prey|apart|short|into|on|upon|under|through)\b|"
    r"\b(?:this|last|next|early|late|the)\s+fall\b(?!\s+(?:in|of|to|by)\b)|"
    r"\bdrop(?:s|ped|ping)?\s+(?:out|off|the\s+charges?|charges?|its|his|her|their)\b|"
    r"\bcut(?:s|ting)?\s+(?:off|ties|short|relations)\b|\bpower\s+cuts?\b|"
    r"\bthreat(?:s|en|ens|ened|ening)?\s+to\b",
    re.IGNORECASE,
)
_EN_NEGATED = re.compile(r"(?:\b(?:not|no|never|nor|without)|n't)\s+(?:\w+\s+){0,1}$", re.IGNORECASE)
_AR_WORD = re.compile(r"[\u0621-\u064A\u0671-\u06D3]+")
_AR_NEGATIONS = ("لا", "لم", "لن", "ليس", "ليست", "ولم", "ولن", "ولا", "فلم", "فلن", "عدم", "بعدم", "لعدم")

SENSES = ("amount", "support", "plenty")


def arabic_poles(source: str) -> list[tuple[int, str, str]]:
    """Each word of direction of the (normalized) source: where it starts, its sense and pole.
    A negated one (لم يرتفع "did not rise") says no direction and is left out."""
    found = []
    matches = list(_AR_WORD.finditer(source))
    for k, m in enumerate(matches):
        before = matches[k - 1].group() if k else ""
        after = matches[k + 1].group() if k + 1 < len(matches) else ""
        if before in _AR_NEGATIONS:
            continue
        if _AR_ADD.match(m.group()) and (after in _AR_MORE_THAN_AFTER or before in _AR_MORE_THAN_BEFORE):
            continue
        if m.group() in _AR_LARGEST and _AR_PRODUCER.match(after):
            found.append((m.start(), "plenty", "up"))
            continue
        for (sense, pole), pattern in _AR.items():
            if not pattern.match(m.group()):
                continue
            found.append((m.start(), sense, pole))
            break
    return found


def english_poles(english: str) -> list[tuple[int, str, str, str]]:
    """Each word of direction of the English: where it starts, its sense, its pole and the span
    a flag shows (the word with the two words after it). A negated one is left out, as is a
    capitalized one inside a sentence (a name's)."""
    cleaned = _EN_NOT_DIRECTION.sub(lambda m: " " * len(m.group()), english)
    found = []
    for (sense, pole), pattern in _EN.items():
        for m in pattern.finditer(cleaned):
            before = cleaned[: m.start()].rstrip()
            if m.group()[0].isupper() and before and before[-1] not in ".!?:\"“”'":
                continue
            if _EN_NEGATED.search(cleaned[: m.start()]):
                continue
            tail = re.match(r"\s*((?:(?:\d+(?:[.,]\d+)*%?|[\w'’-]+)\s*){0,2})", cleaned[m.end() :])
            after = " ".join(tail.group(1).split()) if tail else ""
            found.append((m.start(), sense, pole, " ".join(f"{m.group()} {after}".split())))
    return sorted(found)
