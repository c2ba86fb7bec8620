"""Arabic text normalization: make the text the model sees canonical without changing meaning."""

from __future__ import annotations

import re
import unicodedata

_TATWEEL = "\u0640"
# Bidi controls and invisible formatting characters carry no meaning for translation, and
# break tokenization when they sit inside words.
_REMOVE = {
    ord(c): None
    for c in (
        _TATWEEL,
        "\u061c",  # Arabic letter mark
        "\u200b",  # zero width space
        "\u200e", "\u200f",  # LRM, RLM
        "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
        "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
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

_TABLE = dict(_REMOVE)
_TABLE.update({ord(c): " " for c in _SPACES})
_TABLE.update({ord(c): "\n" for c in _NEWLINES if c != "\r"})
_TABLE.update(_DIGITS)

_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_OUT = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_MULTI_SPACE = re.compile(" {2,}")
_SPACE_AROUND_NEWLINE = re.compile(" *\n *")


def strip_controls(text: str) -> str:
    """Remove C0/C1-style control characters (not newlines or tabs); a model can emit them,
    and they are never meaningful in news text."""
    return _CONTROL_OUT.sub("", text)


def _unfold_presentation_form(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group())


def normalize(text: str) -> str:
    """Return text with Arabic presentation forms unfolded, tatweel and bidi controls removed,
    digits in ASCII, and whitespace made plain. Newlines are kept: they carry paragraph
    structure."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_TABLE)
    text = _CONTROL.sub("", text)
    text = _PRESENTATION_FORMS.sub(_unfold_presentation_form, text)
    text = _MULTI_SPACE.sub(" ", text)
    return _SPACE_AROUND_NEWLINE.sub("\n", text).strip(" ")
