"""Whether the role the English gives a person is the one the Arabic gives them: the Arabic
words of the role must stand near the person's name in the source (الرئيس الأوكراني
فولوديمير زيلينسكي: "President Zelensky" holds; "the head of …" for المتحدث باسم الكرملين
دميتري بيسكوف does not)."""

from __future__ import annotations

import re

from khulasa_server.pipeline.names.arabic import fold

# English role word → the Arabic words any of its translations contain. Substrings of the
# folded source: رئيس also matches الرئيس and ورئيس.
_ROLE_ARABIC = {
    "prime minister": ("رئيس الوزراء", "رئيس الحكومة", "رئيسة الوزراء", "رئيسة الحكومة"),
    "premier": ("رئيس الوزراء", "رئيس الحكومة", "رئيسة الوزراء", "رئيسة الحكومة"),
    "president": ("رئيس",),
    "ceo": ("تنفيذي",),
    "chief executive": ("تنفيذي",),
    "minister": ("وزير",),
    "secretary-general": ("أمين",),
    "secretary general": ("أمين",),
    "secretary": ("وزير", "أمين", "سكرتير", "متحدث", "ناطق"),  # press secretary
    "spokesman": ("متحدث", "ناطق"),
    "spokeswoman": ("متحدث", "ناطق"),
    "spokesperson": ("متحدث", "ناطق"),
    "lawmaker": ("نائب", "برلمان", "عضو"),
    "parliamentarian": ("نائب", "برلمان", "عضو"),
    "mp": ("نائب", "برلمان", "عضو"),
    "member of parliament": ("نائب", "برلمان", "عضو"),
    "speaker": ("رئيس",),
    "senator": ("سيناتور", "الشيوخ"),
    "ambassador": ("سفير",),
    "envoy": ("مبعوث", "موفد", "ممثل"),
    "representative": ("ممثل", "مندوب", "مبعوث"),
    "crown prince": ("ولي العهد",),
    "king": ("ملك", "عاهل"),
    "queen": ("ملكة",),
    "prince": ("أمير",),
    "emir": ("أمير",),
    "sheikh": ("شيخ",),
    "general": ("جنرال", "لواء", "فريق", "عميد", "عقيد", "قائد", "أركان"),
    "commander": ("قائد",),
    "governor": ("محافظ", "حاكم", "والي"),
    "mayor": ("بلدية", "عمدة"),
    "director-general": ("مدير",),
    "director general": ("مدير",),
    "director": ("مدير",),
    "chairman": ("رئيس",),
    "chairwoman": ("رئيس",),
    "chief": ("رئيس", "مدير", "زعيم", "قائد", "أمين", "مسؤول"),
    "head": ("رئيس", "مدير", "زعيم", "قائد", "أمين", "مسؤول"),
    "leader": ("رئيس", "زعيم", "قائد", "أمين", "مرشد"),
    "adviser": ("مستشار",),
    "advisor": ("مستشار",),
    "chancellor": ("مستشار",),
    "coach": ("مدرب",),
    "judge": ("قاض",),
    "deputy": ("نائب",),
    "vice president": ("نائب",),
    # a chancellor or a spokeswoman made an expert or a reporter is another person's role
    "expert": ("خبير",),
    "analyst": ("محلل",),
    "correspondent": ("مراسل",),
    "reporter": ("مراسل", "صحفي", "صحافي"),
    "journalist": ("صحفي", "صحافي", "إعلامي", "مراسل"),
}
# The portfolio of a minister, when the English names one: it must be in the Arabic too.
_PORTFOLIO = {
    "foreign": "خارجي",
    "defense": "دفاع",
    "defence": "دفاع",
    "interior": "داخلي",
    "finance": "مالي",
    "health": "صح",
    "energy": "طاق",
    "oil": "نفط",
    "economy": "اقتصاد",
    "justice": "عدل",
}
_PREFIXES = {"deputy": ("نائب",), "vice": ("نائب",)}
_COUNTERPART = fold("نظير")  # نظيره: "his counterpart" holds the role of the man named before
_NOT_PRESIDENT = (fold("رئيس الوزراء"), fold("رئيس الحكومة"), fold("رئيسة الوزراء"), fold("رئيسة الحكومة"))
# رئيس الشركة الشيخ أحمد بن سعيد آل مكتوم; a title before a long institution (candidates.MAX_INSTITUTION)
WINDOW_BEFORE, WINDOW_AFTER = 12, 4


def _needs(role: str) -> list[tuple[str, ...]]:
    """Arabic alternatives, all of whose groups must be present, for an English role phrase."""
    # secretary of state, minister of foreign affairs, envoy for Syria
    base, _, office = re.sub(r" (?:for|to) ", " of ", role.lower(), count=1).partition(" of ")
    office_words = [w for w in office.split() if w != "the"]
    words = base.split()
    if office_words and words[-1:] in (["minister"], ["secretary"]) and office_words[0] in _PORTFOLIO:
        # minister of foreign affairs = foreign minister; the US Secretary of Defense is a defence minister
        words = words[:-1] + [office_words[0], "minister"]
    needs: list[tuple[str, ...]] = []
    if words and words[0] in _PREFIXES and len(words) > 1:
        needs.append(_PREFIXES[words[0]])
        words = words[1:]
    core = " ".join(words)
    if core in _ROLE_ARABIC:
        needs.append(_ROLE_ARABIC[core])
    elif len(words) > 1 and words[-1] == "minister":
        needs.append(_ROLE_ARABIC["minister"])
        if words[0] in _PORTFOLIO:
            needs.append((_PORTFOLIO[words[0]],))
    return [tuple(fold(a) for a in group) for group in needs]


def _has(window: str, forms: tuple[str, ...]) -> bool:
    if forms == (fold("رئيس"),):  # a president is not a prime minister
        for other in _NOT_PRESIDENT:
            window = window.replace(other, " ")
    return any(form in window for form in forms)


def holds(role: str, window: str, segment: str) -> bool:
    """Whether an English role is given, in the Arabic words around the person (`window`) or,
    when the person is someone's counterpart (نظيره), anywhere in the segment."""
    needs = _needs(role)
    if not needs:
        return True  # a role this list does not know is not judged
    window, segment = fold(window), fold(segment)
    if all(_has(window, forms) for forms in needs):
        return True
    return _COUNTERPART in window and all(_has(segment, forms) for forms in needs)
