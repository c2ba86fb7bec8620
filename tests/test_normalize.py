from hypothesis import given
from hypothesis import strategies as st

from khulasa_server.text.normalize import normalize, strip_controls


def test_tatweel_bidi_and_invisible_characters_are_removed():
    assert normalize("\u200fالسـلام\u200e عليكم\u202b\u202c\ufeff") == "السلام عليكم"


def test_presentation_forms_unfold_to_letters():
    # ﻻ (lam-alef ligature) and isolated/final forms of س and م
    assert normalize("\ufefb \ufeb1\ufee2") == "لا سم"


def test_arabic_indic_digits_keep_their_value():
    assert normalize("ارتفع ٣٫٥٪ في ١٢٬٠٠٠ و۲۰۲۴") == "ارتفع 3.5% في 12,000 و2024"


def test_whitespace_is_plain_and_paragraph_breaks_stay():
    assert normalize("أ\u00a0\u2003ب\r\n\r\nج\u2029د\t\tهـ") == "أ ب\n\nج\nد ه"


def test_control_characters_are_dropped():
    assert normalize("a\x00b\x07c") == "abc"
    assert strip_controls("x\x03y\nz\tw") == "xy\nz\tw"


def test_latin_spans_are_untouched():
    text = "زار Joe Biden موقع https://example.com/a_b?x=1&y=2 يوم 3.5 U.S."
    assert normalize(text) == text


@given(st.text())
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(alphabet=st.characters(min_codepoint=0x0621, max_codepoint=0x063A) | st.sampled_from(" \u0640\u200f")))
def test_arabic_letters_are_never_lost(text):
    letters = [c for c in text if "\u0621" <= c <= "\u063a"]
    assert [c for c in normalize(text) if "\u0621" <= c <= "\u063a"] == letters
