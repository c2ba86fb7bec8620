"""Normalization is for the model; readers see the Arabic as it was sent: `paragraphs[].source`,
segments' `source`, and the markdown and HTML made from them keep Arabic-Indic digits,
tatweel, presentation forms and marks exactly."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st
from test_cli import khulasa

from khulasa_server.pipeline.original import Original
from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import split_paragraphs

# ١٢ and ٣٫٥ and ٩٥٪ in Arabic-Indic digits, a tatweel (الأحـــد), the lam-alef ligature
# presentation form (ﻻعب), a right-to-left mark opening a line, a no-break space.
ARTICLE = (
    "ارتفع المؤشر ٣٫٥٪ إلى ١٢٬٠٠٠ نقطة يوم الأحـــد.\n"
    "\u200fقال ﻻعب المنتخب إن ٩٥٪ من التذاكر بيعت.\u00a0وأضاف: «الجمهور رائع».\n\n"
    "وبلغت الإيرادات ١٢ مليون دينار في عام ۲۰۲۴.\n"
)
LINES = [line.strip() for line in ARTICLE.splitlines() if line.strip()]


def test_digest_paragraphs_and_segments_show_the_source_as_sent(client):
    response = client.digest(ARTICLE)
    assert [p.source for p in response.paragraphs] == LINES
    assert "١٢" in response.paragraphs[0].source and "12" not in response.paragraphs[0].source
    sentences = [s.source for s in response.paragraphs[1].segments]
    assert sentences == ["\u200fقال ﻻعب المنتخب إن ٩٥٪ من التذاكر بيعت.", "وأضاف: «الجمهور رائع»."]
    streamed = [e.paragraph.source for e in client.stream_digest(ARTICLE) if e.WhichOneof("event") == "paragraph"]
    assert streamed == LINES


def test_translate_segments_show_the_source_as_sent(client):
    translation = client.translate([ARTICLE]).translations[0]
    assert [s.source for s in translation.segments][0] == "ارتفع المؤشر ٣٫٥٪ إلى ١٢٬٠٠٠ نقطة يوم الأحـــد."
    assert "".join(s.source for s in translation.segments).count("٩٥٪") == 1


def test_english_passes_through_as_sent(client):
    english = "Prices rose  3.5%\u00a0on Monday.\nThe index closed at 12,000."
    response = client.digest(english)
    assert [p.source for p in response.paragraphs] == ["Prices rose  3.5%\u00a0on Monday.", "The index closed at 12,000."]
    assert [p.translation for p in response.paragraphs] == [p.source for p in response.paragraphs]


def test_markdown_and_html_show_the_source_byte_for_byte(server):
    address = f"127.0.0.1:{server.port}"
    markdown = khulasa("--server", address, "digest", "-", "--format", "markdown", stdin=ARTICLE)
    page = khulasa("--server", address, "digest", "-", "--format", "html", stdin=ARTICLE)
    assert markdown.returncode == 0 and page.returncode == 0, markdown.stderr + page.stderr
    for line in LINES:
        assert f"> {line}\n" in markdown.stdout
        assert f">{html.escape(line)}</div>" in page.stdout
    translated = khulasa("--server", address, "translate", "-", "--format", "html", stdin=ARTICLE)
    assert "١٢٬٠٠٠" in translated.stdout and "الأحـــد" in translated.stdout


_ALPHABET = st.sampled_from(list("بتثجحخسشصلمن ٠١٢٣٤٥٦٧٨٩0123456789٫٪.،") + ["\u0640", "\u200f", "\u00a0", "\ufefb",
                                                                               "\ufeb1", "\n", "\r\n", "  "])


@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_every_paragraph_maps_back_to_its_line(text):
    original = Original(text)
    assert original.normalized == normalize(text)
    paragraphs = split_paragraphs(original.normalized)
    lines = [line.strip() for line in re.split(r"\r\n|\n", text) if normalize(line)]
    starts = original.starts(paragraphs)
    assert [original.span(s, s + len(p.text)) for s, p in zip(starts, paragraphs)] == lines
