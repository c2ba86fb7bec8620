"""Arabic text normalization: make the text the model sees canonical without changing meaning.

Normalization is for the model only. `normalize_with_offsets` also says where each character of
the result came from, so that what is shown to readers can be cut from the text as sent
(pipeline/original.py)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TATWEEL = "\u0640"
# Bidi controls and invisible formatting characters carry no meaning for translation, and
# break tokenization when they sit inside words.
_REMOVE = {
    ord(c): None
    for c in (
        _TATWEEL,
        "\u061c",  # Arabic letter mark
        "\u200b",  # zero width space
        "\u200e",
        "\u200f",  # LRM, RLM
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",  # embeddings and overrides
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",  # isolates
        "\ufeff",  # byte order mark
        "\u00ad",  # soft hyphen
    )
}
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\v\f"
_NEWLINES = "\r\u2028\u2029\u0085"
# Arabic-Indic and Eastern Arabic-Indic digits, and the Arabic decimal, thousands and percent
# signs: mapped to their ASCII equivalents, which keeps every number's value.
_DIGITS = {0x0660 + i: str(i) for i in range(10)}
_DIGITS.update({0x06F0 + i: str(i) for i in range(10)})
_DIGITS.update({0x066B: ".", 0x066C: ",", 0x066A: "%"})

_TABLE: dict[int, str | None] = dict(_REMOVE)
_TABLE.update({ord(c): " " for c in _SPACES})
_TABLE.update({ord(c): "\n" for c in _NEWLINES})
_TABLE.update(_DIGITS)
_TABLE.update({c: None for c in [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]})  # control characters

_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
_CONTROL_OUT = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """Remove C0/C1-style control characters (not newlines or tabs); a model can emit them,
    and they are never meaningful in news text."""
    return _CONTROL_OUT.sub("", text)


# Characters that stay as they are (the bulk of any text): a set lookup instead of a call.
_PLAIN = frozenset(
    chr(c) for c in [*range(0x20, 0x7F), *range(0x0600, 0x0700), *range(0x0750, 0x0780)] if chr(c).translate(_TABLE) == chr(c)
)


@lru_cache(maxsize=4096)
def _mapped(c: str) -> str:
    """What one source character becomes: "" (removed), itself, or a replacement. A
    presentation form unfolds to its letters, which are mapped in turn (U+FE71 holds a tatweel)."""
    if _PRESENTATION_FORMS.fullmatch(c):
        return "".join(_mapped(x) if x != c else x for x in unicodedata.normalize("NFKC", c))
    return c.translate(_TABLE)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normalized text, and for each of its positions i (and its end) the position in
    `text` where the characters behind normalized[i:] start: normalized[a:b] came from
    text[pos[a]:pos[b]]. Removed characters belong to the character before them, except at
    the start of a line, where they belong to the one after (so a line keeps its marks)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        end = i + 2 if c == "\r" and text.startswith("\n", i + 1) else i + 1
        out = c if c in _PLAIN else _mapped(c)
        if len(out) == 1:
            chars.append(out)
            starts.append(i)
            ends.append(end)
        else:
            for k, letter in enumerate(out):
                chars.append(letter)
                starts.append(i if k == 0 else end)  # an unfolded form's source belongs to its first letter
                ends.append(end)
        i = end
    # A run of spaces becomes one space between two other characters; beside a newline or at
    # either end of the text it goes.
    keep: list[int] = []
    k, m = 0, len(chars)
    while k < m:
        if chars[k] != " ":
            keep.append(k)
            k += 1
            continue
        run_end = k
        while run_end < m and chars[run_end] == " ":
            run_end += 1
        if keep and chars[keep[-1]] != "\n" and run_end < m and chars[run_end] != "\n":
            keep.append(k)
        k = run_end
    positions: list[int] = []
    for j, k in enumerate(keep):
        if j == 0:
            positions.append(0)
        elif chars[keep[j - 1]] == "\n":
            positions.append(ends[keep[j - 1]])
        else:
            positions.append(starts[k])
    positions.append(n)
    return "".join(chars[k] for k in keep), positions


def normalize(text: str) -> str:
    """Return text with Arabic presentation forms unfolded, tatweel and bidi controls removed,
    digits in ASCII, and whitespace made plain. Newlines are kept: they carry paragraph
    structure."""
    return normalize_with_offsets(text)[0]
