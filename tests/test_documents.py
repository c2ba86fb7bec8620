"""khulasa/documents.py: the one reader of article files (CLI, page, /v1/digest/file, khulasa-bulk)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import docx
import pytest
from conftest import ARTICLES
from khulasa import documents

PAGE = Path(__file__).parent / "data" / "documents" / "economy_prices.html"
ARTICLE = [line.strip() for line in (ARTICLES / "economy_prices.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def test_html_gives_the_article_paragraph_by_paragraph_and_its_headline():
    document = documents.read(PAGE.read_bytes(), PAGE.name)
    assert document.kind == "html" and document.title == ARTICLE[0]
    lines = document.text.splitlines()
    assert "<" not in document.text and "analytics" not in document.text
    # Every paragraph of the story, in order, one per line; the menu, the sidebar and the footer left out.
    assert [line for line in lines if line in ARTICLE[1:]] == ARTICLE[1:]
    for boilerplate in ("الرئيسية", "اقرأ أيضاً", "جميع الحقوق محفوظة"):
        assert boilerplate not in document.text
    assert ARTICLE[0] not in lines  # the headline is the title, not a paragraph


@pytest.mark.parametrize("codec", ["cp1256", "utf-16-le", "utf-16-be", "utf-16", "utf-8-sig"])
def test_arabic_text_in_newsroom_encodings_is_recognised(codec):
    text = "\n".join(ARTICLE)
    if codec == "cp1256":  # it has no Arabic-Indic digits: files in it carry ASCII ones
        text = text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩٫٬٪", "0123456789.,%"))
    data = text.encode(codec, errors="strict")
    decoded = documents.read(data, "story.txt")
    assert decoded.text == text


def test_html_in_cp1256():
    page = PAGE.read_text(encoding="utf-8").replace('charset="utf-8"', 'charset="windows-1256"')
    document = documents.read(page.encode("cp1256", errors="replace"), "story.htm")
    assert document.encoding == "cp1256" and document.title == ARTICLE[0]


def test_a_named_encoding_wins_and_a_wrong_one_says_which_option():
    data = "نص".encode("cp1256")
    assert documents.read(data, "a.txt", encoding="cp1256").text == "نص"
    with pytest.raises(documents.Unreadable, match=r"a\.txt: not utf-8 text .*--encoding"):
        documents.read(data, "a.txt", encoding="utf-8")
    with pytest.raises(documents.Unreadable, match="unknown encoding 'klingon'"):
        documents.read(data, "a.txt", encoding="klingon")


def test_bytes_in_no_known_encoding_are_refused_with_advice():
    with pytest.raises(documents.Unreadable, match=r"not UTF-8, UTF-16 or cp1256 text; name its encoding with --encoding"):
        # Latin-1 French: not UTF-8, and cp1256 would make it no Arabic text
        documents.read("Réunion à Genève : l'équipe a gagné.".encode("latin-1") * 3, "odd.txt")


def test_docx_paragraphs_and_title():
    made = docx.Document()
    made.add_heading(ARTICLE[0], level=1)
    for paragraph in ARTICLE[1:]:
        made.add_paragraph(paragraph)
        made.add_paragraph("")
    buffer = io.BytesIO()
    made.save(buffer)
    document = documents.read(buffer.getvalue(), "story.docx")
    assert document.kind == "docx" and document.title == ARTICLE[0]
    assert document.text.splitlines() == ARTICLE[1:]
    with pytest.raises(documents.Unreadable, match=r"broken\.docx: not a readable \.docx file"):
        documents.read(b"PK not really", "broken.docx")


@pytest.mark.parametrize(
    "name, says",
    [("scan.pdf", "PDF files cannot be read"), ("old.doc", r"Word 97-2003 \(.doc\) files"), ("x.epub", r"\.epub files")],
)
def test_an_unsupported_type_is_one_line_naming_it_and_what_is_supported(name, says):
    with pytest.raises(documents.Unreadable, match=says) as caught:
        documents.read(b"%PDF-1.7", name)
    assert "\n" not in str(caught.value) and documents.SUPPORTED in str(caught.value)


def test_a_missing_reader_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "docx", None)  # as if python-docx were not installed
    monkeypatch.setitem(sys.modules, "readability", None)
    with pytest.raises(documents.Unreadable, match=r"needs the python-docx package: pip install 'khulasa\[documents\]'"):
        documents.read(b"PK", "a.docx")
    with pytest.raises(documents.Unreadable, match=r"needs the readability-lxml package"):
        documents.read(PAGE.read_bytes(), "a.html")
