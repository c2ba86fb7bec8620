"""Numbers written in words, in Arabic and in English, as values: news writes "ثلاثا وعشرين"
and "للمرة الثانية عشرة" as often as digits, and the English may say "twelfth" or "12th". Only
what news uses: cardinals and ordinals to the thousands, with ألف/مليون/مليار scales."""

from __future__ import annotations

import re

from khulasa_server.text.normalize import normalize

_AR_UNITS = {
    1: ("واحد", "واحدة", "الأول", "الأولى", "الحادي", "الحادية", "أحد", "إحدى"),
    2: ("اثنان", "اثنين", "اثنتان", "اثنتين", "الثاني", "الثانية", "مرتين"),
    3: ("ثلاث", "ثلاثة", "ثلاثا", "الثالث", "الثالثة"),
    4: ("أربع", "أربعة", "أربعا", "الرابع", "الرابعة"),
    5: ("خمس", "خمسة", "خمسا", "الخامس", "الخامسة"),
    6: ("ست", "ستة", "ستا", "السادس", "السادسة"),
    7: ("سبع", "سبعة", "سبعا", "السابع", "السابعة"),
    8: ("ثماني", "ثمانية", "ثمان", "الثامن", "الثامنة"),
    9: ("تسع", "تسعة", "تسعا", "التاسع", "التاسعة"),
    10: ("عشر", "عشرة", "العاشر", "العاشرة"),
}
_AR_TENS = {
    20: ("عشرون", "عشرين"),
    30: ("ثلاثون", "ثلاثين"),
    40: ("أربعون", "أربعين"),
    50: ("خمسون", "خمسين"),
    60: ("ستون", "ستين"),
    70: ("سبعون", "سبعين"),
    80: ("ثمانون", "ثمانين"),
    90: ("تسعون", "تسعين"),
}
_AR_HUNDREDS = {
    100: ("مئة", "مائة", "المئة"),
    200: ("مئتان", "مئتين", "مائتان", "مائتين"),
    **{
        n * 100: (f"{w}مئة", f"{w}مائة")
        for n, w in ((3, "ثلاث"), (4, "أربع"), (5, "خمس"), (6, "ست"), (7, "سبع"), (8, "ثمان"), (9, "تسع"))
    },
}
_AR_SCALES = {
    1000: ("ألف", "ألفا", "آلاف"),
    2000: ("ألفي", "ألفين", "ألفان"),
    10**6: ("مليون", "ملايين", "مليونا"),
    2 * 10**6: ("مليوني", "مليونين", "مليونان"),
    10**9: ("مليار", "مليارات", "مليارا"),
}
_AR_WORDS: dict[str, tuple[str, int]] = {}
for _value, _forms in _AR_UNITS.items():
    _AR_WORDS.update({f: ("unit", _value) for f in _forms})
for _value, _forms in _AR_TENS.items():
    _AR_WORDS.update({f: ("unit", _value) for f in _forms})
for _value, _forms in _AR_HUNDREDS.items():
    _AR_WORDS.update({f: ("unit", _value) for f in _forms if f != "المئة"})
for _value, _forms in _AR_SCALES.items():
    _AR_WORDS.update({f: ("scale", _value) for f in _forms})

_EN_UNITS = {
    "one": 1, "first": 1, "two": 2, "second": 2, "three": 3, "third": 3, "four": 4, "fourth": 4,
    "five": 5, "fifth": 5, "six": 6, "sixth": 6, "seven": 7, "seventh": 7, "eight": 8, "eighth": 8,
    "nine": 9, "ninth": 9, "ten": 10, "tenth": 10, "eleven": 11, "eleventh": 11, "twelve": 12,
    "twelfth": 12, "thirteen": 13, "thirteenth": 13, "fourteen": 14, "fourteenth": 14, "fifteen": 15,
    "fifteenth": 15, "sixteen": 16, "sixteenth": 16, "seventeen": 17, "seventeenth": 17,
    "eighteen": 18, "eighteenth": 18, "nineteen": 19, "nineteenth": 19, "twenty": 20, "twentieth": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "twice": 2, "both": 2, "dozen": 12, "half": 0.5,
}  # fmt: skip
_ROMAN = {"II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11, "XII": 12}
_EN_SCALES = {"thousand": 1000, "million": 10**6, "billion": 10**9}
# Numbers, words, and the punctuation that ends a number's words ("15 billion, seven").
_EN_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z]+|[;:!?()\"“”]|[,.](?!\d)")
_AR_TOKEN = re.compile(r"\d+(?:\.\d+)?|[\u0621-\u064A]+")


def _strip(word: str) -> str:
    """و (and), ل/ب/لل (for, at) before a number word: وعشرين, للمرة, بثلاثة."""
    if word in _AR_WORDS:
        return word
    for prefix in ("وال", "لل", "بال", "و", "ب", "ل"):
        rest = word[len(prefix) :]
        if word.startswith(prefix) and (rest in _AR_WORDS or ("ال" + rest) in _AR_WORDS):
            return rest if rest in _AR_WORDS else "ال" + rest
    return word


def arabic_values(text: str) -> list[tuple[str, float]]:
    """(the words, their value) of each number the Arabic writes in words."""
    found: list[tuple[str, float]] = []
    words = _AR_TOKEN.findall(normalize(text))
    k = 0
    while k < len(words):
        word = _strip(words[k])
        if word not in _AR_WORDS:
            k += 1
            continue
        start, total, current = k, 0.0, 0.0
        kind: str
        value: float
        if _AR_WORDS[word][0] == "scale" and k and words[k - 1][0].isdigit():
            k += 1  # "12 ألف": digits with a scale word, number_flags' concern
            continue
        while k < len(words):
            word = _strip(words[k])
            if word not in _AR_WORDS:
                break
            kind, value = _AR_WORDS[word]
            if kind == "unit":
                current += value
            elif value in (2000, 2 * 10**6):
                current = (current or 1) * value
            else:
                total += (current or 1) * value
                current = 0
            k += 1
        number = total + current
        # "One" and "two" (أحد, الأول, الثاني) alone are mostly not numbers ("one of", "the first").
        if number > 2 or k - start > 1:
            found.append((" ".join(words[start:k]), number))
    return found


def english_values(text: str) -> set[float]:
    """The values of every number in the English, in digits or in words."""
    values: set[float] = set()
    tokens = _EN_TOKEN.findall(text.replace("-", " "))
    current: float | None = None
    for token in tokens + [""]:
        low = token.lower()
        digits = re.fullmatch(r"\d+(?:[.,]\d+)*", token)
        if digits:
            # One number: thousands grouped (5,000) or a decimal (5.5); "5.5.5" or "1,2" is none.
            one = re.fullmatch(r"\d{1,3}(,\d{3})+", token) or re.fullmatch(r"\d+(?:\.\d+)?", token)
            number = float(token.replace(",", "")) if one else None
            if current is not None:
                values.add(current)
            current = number
            if number is not None:
                values.add(number)
            continue
        if token in _ROMAN:  # regnal numbers: Mohammed VI for محمد السادس
            values.add(_ROMAN[token])
            current = None
            continue
        ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", low)
        if ordinal:
            values.add(float(ordinal.group(1)))
            continue
        if low in _EN_UNITS:
            unit = _EN_UNITS[low]
            current = (current or 0) * (100 if unit == 100 else 1) + (unit if unit != 100 else (0 if current else 100))
            values.add(current)
            continue
        if low in _EN_SCALES and current is not None:
            current *= _EN_SCALES[low]
            values.add(current)
            continue
        if low == "and" and current is not None:
            continue
        current = None
    return values


def word_number_flags(source: str, english: str) -> list[str]:
    """`number:WORDS` for a number the Arabic writes in words whose value the English lacks."""
    if not english.strip():
        return []
    have = english_values(english)
    flags = []
    for words, value in arabic_values(source):
        if not any(abs(v - value) < 1e-9 for v in have):
            flags.append(f"number:{words}")
    return flags
