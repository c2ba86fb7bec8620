import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import fit_budget, segment, split_paragraphs, split_sentences

ARABIC = st.characters(min_codepoint=0x0621, max_codepoint=0x064A)
PIECES = st.sampled_from([" ", " ", "  ", ".", ". ", "؟ ", "! ", "؛ ", "… ", "، ", ", ", "\n", "\n\n", "3.5", "د. ", "U.S. ", "https://x.org/a.b", "«", "» ", "\u200f", "\u0640"])
TEXT = st.lists(st.text(alphabet=ARABIC | st.characters(min_codepoint=0x41, max_codepoint=0x7A), max_size=12) | PIECES, max_size=60).map("".join)


def by_chars(text: str) -> int:
    return len(text) // 3 + 1


def test_sentences_split_on_arabic_and_latin_punctuation():
    text = "قال الوزير إن النمو بلغ 3.5%. هل يستمر؟ نعم! وأضاف؛ هذا جيد… Dr. Smith left at 5 p.m. today. Then he spoke."
    assert [s.strip() for s in split_sentences(text)] == [
        "قال الوزير إن النمو بلغ 3.5%.",
        "هل يستمر؟",
        "نعم!",
        "وأضاف؛",
        "هذا جيد…",
        "Dr. Smith left at 5 p.m. today.",
        "Then he spoke.",
    ]


def test_no_split_after_initials_or_inside_urls():
    text = "التقى د. محمد مع J. K. Rowling في www.example.com/a.html اليوم."
    assert split_sentences(text) == [text]


def test_closing_quotes_stay_with_their_sentence():
    assert split_sentences("قال: «انتهى.» ثم غادر.") == ["قال: «انتهى.» ", "ثم غادر."]


def test_paragraphs_keep_their_separators():
    paragraphs = split_paragraphs("عنوان\n\nفقرة أولى.\nفقرة ثانية.")
    assert [(p.text, p.separator) for p in paragraphs] == [("عنوان", "\n\n"), ("فقرة أولى.", "\n"), ("فقرة ثانية.", "")]


def test_long_sentence_is_cut_at_clauses_first():
    sentence = "، ".join(["كلمة"] * 40) + "."
    pieces = fit_budget(sentence, lambda t: len(t.split()), 10)
    assert "".join(pieces) == sentence
    assert all(len(p.split()) <= 10 for p in pieces)
    assert all(p.rstrip().endswith(("،", ".")) for p in pieces)


def test_a_run_without_spaces_is_cut_between_characters():
    word = "ب" * 1000
    pieces = fit_budget(word, lambda t: len(t), 50)
    assert "".join(pieces) == word and all(len(p) <= 50 for p in pieces)


def test_budget_below_minimum_is_refused():
    with pytest.raises(ValueError, match="minimum"):
        fit_budget("text", len, 2)


@given(TEXT)
def test_paragraph_and_sentence_split_lose_no_character(text):
    normalized = normalize(text)
    paragraphs = split_paragraphs(normalized)
    assert "".join(p.text + p.separator for p in paragraphs) == normalized.strip("\n")
    for p in paragraphs:
        assert "".join(split_sentences(p.text)) == p.text


@given(TEXT, st.integers(min_value=8, max_value=40))
def test_every_piece_fits_the_budget_and_join_is_lossless(text, budget):
    for paragraph in split_paragraphs(normalize(text)):
        pieces = segment(paragraph.text, by_chars, budget)
        assert "".join(p.text for p in pieces) == paragraph.text
        assert all(by_chars(p.content) <= budget for p in pieces)
        assert all(p.content for p in pieces)


@settings(max_examples=60, deadline=None)
@given(TEXT.map(lambda t: t * 5))
def test_real_tokenizer_budget_holds(pipeline, text):
    engine = pipeline.translation.engine
    for paragraph in split_paragraphs(normalize(text)):
        pieces = segment(paragraph.text, engine.count_tokens, engine.max_input_tokens)
        assert "".join(p.text for p in pieces) == paragraph.text
        assert all(engine.count_tokens(p.content) <= engine.max_input_tokens for p in pieces)


ANY_TEXT = st.text(max_size=400) | st.text(alphabet=ARABIC, min_size=300, max_size=3000) | st.lists(
    st.sampled_from(["\u200f", "\u202e", "\u2066", "\u0640", "ﻻ", "٣", "A", " ", "\n", "؟", "🙂", "e\u0301"]), max_size=200
).map("".join)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_any_unicode_is_segmented_losslessly_within_the_real_budget(pipeline, text):
    """Any Unicode, mixed scripts, bidi marks, and long runs with no space or punctuation."""
    engine = pipeline.translation.engine
    normalized = normalize(text)
    paragraphs = split_paragraphs(normalized)
    assert "".join(p.text + p.separator for p in paragraphs) == normalized.strip("\n")
    for paragraph in paragraphs:
        pieces = segment(paragraph.text, engine.count_tokens, engine.max_input_tokens)
        assert "".join(p.text for p in pieces) == paragraph.text
        assert all(engine.count_tokens(p.content) <= engine.max_input_tokens for p in pieces)
