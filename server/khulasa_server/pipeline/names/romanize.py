"""Arabic names in Latin letters, and the test whether an English text keeps a name.

romanize(): a transliteration in the common English news convention, which is the ALA-LC
romanization without its diacritics and ayn/hamza signs (ش sh, خ kh, غ gh, ث th, ذ dh, ق q,
long vowels as written, the article as al-). Unvocalized text does not say its short vowels:
"a", the most frequent short vowel, is supplied where one must be (see _needs_vowel). So شكري gives Shakari
where newspapers write Shoukry: the spelling is a reading aid, not a claim about the name.

skeleton(): the name's consonants in classes that survive any of these spellings: vowels and
the letters that stand for them (ا و ي, w y), h, ayn and hamza are dropped; p=b, v=f,
q=k=g=j=c(hard), th=t, dh=z=d-emphatic… and doubled letters count once. Zelensky, Zelenskyy
and زيلينسكي share ZLNSK; Peskov and بيسكوف share BSKF."""

from __future__ import annotations

import re
import unicodedata

from khulasa_server.pipeline.names.arabic import WORD, fold, splits, strip_diacritics
from khulasa_server.text.normalize import normalize

_CONSONANTS = {
    "ب": "b",
    "ت": "t",
    "ث": "th",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "dh",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "ع": "",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ء": "",
    "ڤ": "v",
    "پ": "p",
    "گ": "g",
    "چ": "ch",
}
_HAMZA_SEATS = "أإآؤئء"

# Skeleton classes of Arabic letters (weak letters map to "").
_AR_CLASS = {
    "ب": "B",
    "پ": "B",
    "ت": "T",
    "ط": "T",
    "ث": "T",
    "د": "D",
    "ض": "D",
    "ذ": "Z",
    "ز": "Z",
    "ظ": "Z",
    "س": "S",
    "ص": "S",
    "ش": "S",
    "ج": "K",
    "ق": "K",
    "ك": "K",
    "خ": "K",
    "غ": "K",
    "گ": "K",
    "چ": "S",
    "ف": "F",
    "ڤ": "F",
    "ل": "L",
    "م": "M",
    "ن": "N",
    "ر": "R",
}
# English letters and digraphs, longest first.
_EN_CLASS = [
    ("sch", "S"),
    ("tch", "S"),
    ("ch", "S"),
    ("sh", "S"),
    ("th", "T"),
    ("dh", "Z"),
    ("kh", "K"),
    ("gh", "K"),
    ("ph", "F"),
    ("ck", "K"),
    ("zh", "Z"),
    ("ts", "S"),
    ("tz", "S"),
    ("dj", "K"),
    ("x", "KS"),
    ("b", "B"),
    ("p", "B"),
    ("t", "T"),
    ("d", "D"),
    ("z", "Z"),
    ("s", "S"),
    ("c", "K"),
    ("k", "K"),
    ("q", "K"),
    ("g", "K"),
    ("j", "K"),
    ("f", "F"),
    ("v", "F"),
    ("l", "L"),
    ("m", "M"),
    ("n", "N"),
    ("r", "R"),
]
_EN_PATTERN = re.compile("|".join(re.escape(k) for k, _ in _EN_CLASS))
_EN_MAP = dict(_EN_CLASS)
_ARTICLE = re.compile(r"^(?:[Aa][lnrstdz]|[Ee]l|[Aa]sh)[-’']")
# English function words capitalized at a sentence's start: their consonants (The: T, All: L)
# would stand for any Arabic name word of one or two consonant classes (الحوثي: T).
_FUNCTION_WORDS = frozenset(
    "the a an at in on to of it its is as by and or but for from with this that these those he she his her "
    "they their we our all also after before into over under out up no not so if then than there here".split()
)
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['’-][A-Za-z\u00c0-\u024f]+)*")


def ascii_fold(text: str) -> str:
    """Latin text without accents (Río → Rio), for comparing spellings."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _collapse(classes: str) -> str:
    return re.sub(r"(.)\1+", r"\1", classes)


def arabic_skeleton(word: str) -> str:
    """Consonant classes of one Arabic word (its clitics and article not removed: see name_skeleton)."""
    return _collapse("".join(_AR_CLASS.get(c, "") for c in fold(word)))


def english_skeleton(word: str, ch: str = "S") -> str:
    """Consonant classes of an English word; `ch` is read as S (Chad) or K (Hochstein)."""
    word = ascii_fold(word).lower()
    c_soft = re.sub(r"c(?=[eiy])", "s", word)
    mapping = {**_EN_MAP, "ch": ch}
    return _collapse("".join(mapping[m.group()] for m in _EN_PATTERN.finditer(c_soft)))


# French endings whose consonant is not said (Carret, Barrot, Renault, Jacques, François):
# not -es or -as, which Spanish and Portuguese say (Rodrigues, Vargas)
_SILENT_END = re.compile(r"(?:[eo]|ai|au)(t)$|au(lt)$|(?:ea|a)u(x)$|(?:ai|oi|que)(s)$")


def english_skeletons(word: str) -> set[str]:
    """The skeletons an English spelling may stand for: ch as S or K; j as the y it is in
    Italian and German names (Tajani: تاياني); v as the ب Arabic often writes (Aviv: أبيب);
    dh as ض as well as ذ (Dhale: الضالع, Ramadhan); and without a final consonant French
    leaves unsaid."""
    forms = {word, re.sub("j", "y", word), re.sub("v", "b", word), re.sub("(?i)dh", "d", word)}
    out = {english_skeleton(w, ch) for w in forms for ch in ("S", "K")}
    silent = _SILENT_END.search(ascii_fold(word).lower())
    if silent:  # a French ending Arabic does not write: Carret كاريه, Primas بريما, Renault رينو
        unsaid = english_skeleton(next(g for g in silent.groups() if g))
        out |= {_collapse(s[: -len(unsaid)]) for s in out if len(s) > 1}
    return out


def stem(word: str) -> str:
    """A name word without a leading conjunction/preposition and article, when it has them."""
    for split in splits(strip_diacritics(normalize(word))):
        if split.article:
            return split.stem
    return strip_diacritics(normalize(word))


def _needs_vowel(out: list[str], native: bool) -> bool:
    """Whether an unwritten vowel comes before the next consonant. A word that writes at most
    one long vowel reads as Arabic, whose short vowels are unwritten: one between every two
    consonants (Safadi). A word that writes more reads as a foreign name, whose vowels are
    written: only a first-consonant pair or a run of three gets one (Zilinski, Biskuf)."""
    sounds = [s for s in out if s]
    if not sounds or sounds[-1][-1] in "aiu":
        return False
    return native or len(sounds) == 1 or sounds[-2][-1] not in "aiu"


def _word(word: str) -> str:
    """One word romanized (no article handling)."""
    out: list[str] = []
    letters = strip_diacritics(normalize(word))
    native = sum(c in "اويأإآى" for c in letters) - (letters[:1] in ("و", "ي")) <= 1
    for i, c in enumerate(letters):
        prev = out[-1] if out else ""
        if c == "ا" or c == "ى":
            out.append("a")
        elif c == "آ":
            out.append("a")
        elif c in _HAMZA_SEATS:
            if c == "إ":
                out.append("i")
            elif c == "أ" and i == 0:
                out.append("a")
            elif c == "ؤ":
                out.append("u")
        elif c == "ة":
            out.append("a" if not prev.endswith("a") else "")
        elif c == "و":
            # a consonant at the start or after a long vowel, a vowel after a consonant
            out.append("w" if i == 0 or prev[-1:] in ("a", "i", "u", "") else "u")
        elif c == "ي":
            if i == 0 or prev[-1:] in ("a", "i", "u"):
                out.append("y")
            else:
                out.append("i")
        elif c in _CONSONANTS:
            sound = _CONSONANTS[c]
            if not sound:  # ayn: a vowel at the start, nothing written elsewhere
                if i == 0:
                    out.append("a")
                continue
            if _needs_vowel(out, native):
                out.append("a")  # an unwritten short vowel
            out.append(sound)
        # anything else (punctuation inside a word) is dropped
    text = "".join(out)
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)
    return text[:1].upper() + text[1:]


def romanize(name: str) -> str:
    """A name's Latin spelling: الصفدي → al-Safadi, زيلينسكي → Zilinski, أبو علي → Abu Ali."""
    parts = []
    for word in normalize(name).split():
        plain = strip_diacritics(word)
        if plain[:2] == "ال" and len(plain) > 3:
            parts.append("al-" + _word(plain[2:]))
        else:
            parts.append(_word(plain))
    return " ".join(p for p in parts if p)


def function_word(word: str) -> bool:
    return word.lower() in _FUNCTION_WORDS


def english_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(text)


def _near(a: str, b: str) -> bool:
    """Skeletons equal, or (for four classes or more) one class apart."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


# A word the model began in Latin letters and finished in Arabic ones (Tydروس for تيدروس).
_MIXED_WORD = re.compile(r"(?<![A-Za-z])([A-Z][A-Za-z]*)([\u0621-\u064a]+)")


def _mixed_skeletons(english: str) -> list[str]:
    return [_collapse(english_skeleton(m.group(1)) + arabic_skeleton(m.group(2))) for m in _MIXED_WORD.finditer(english)]


def same_onset(arabic_word: str, english_word: str) -> bool:
    """Whether two spellings begin alike: both with a consonant, or both with a vowel or a
    letter the skeletons drop (ا و ي ع ح ه; a e i o u h w y). Names of one or two consonant
    classes share them by chance (MD: محمد, أحمد, حمد; Mohamed, Ahmed, Hamad); how they begin
    tells them apart. After an article written on (Al-Mirari for الأميري) either will do: the
    article takes the vowel."""
    if _ARTICLE.match(ascii_fold(english_word)):
        return True
    arabic = fold(stem(arabic_word))
    latin = ascii_fold(english_word).lower()
    return (not arabic or arabic[0] not in _AR_CLASS) == (latin[:1] in tuple("aeiouhwy'’"))


def kept(arabic_word: str, english: str, near: bool = True) -> bool:
    """Whether the English keeps one Arabic name word: a capitalized English word (or two
    written together, Abu Ali / Abuali) has its consonant skeleton (or, with `near`, one
    consonant class from it)."""
    target = arabic_skeleton(stem(arabic_word))
    if not target:
        return True  # a name of weak letters only (e.g. أوي) cannot be checked this way
    if any(fold(stem(m.group())) == fold(stem(arabic_word)) for m in WORD.finditer(english)):
        return True  # copied in Arabic letters (Mohamed المنفي's)
    cores = [_ARTICLE.sub("", w) for w in english_words(english)]  # al-Safadi → Safadi
    names = [w for w in cores if w[:1].isupper() and not function_word(w)]
    if len(target) <= 2:  # Mohammed is no حمد, nor Mohamed أحمد: both MD
        names = [w for w in names if same_onset(arabic_word, w)]
    variants = [english_skeletons(w) for w in names]
    singles = [s for v in variants for s in v]
    pairs = [a + b for v, w in zip(variants, variants[1:]) for a in v for b in w]
    match = _near if near else str.__eq__
    return any(match(target, _collapse(s)) for s in singles + pairs + _mixed_skeletons(english) if s)
