"""What an article file holds, as text to digest: the one reader of the CLI, the reading page
(through the server's /v1/read), the /v1/digest/file upload route and khulasa-bulk.

Plain text and Markdown go as they are; HTML gives its article's text paragraph by paragraph,
the headline kept as the title (readability-lxml finds the article in the page); .docx gives its
paragraphs (python-docx). Text in UTF-8, UTF-16 or cp1256 (Windows Arabic, still common in
newsrooms) is recognised, or named by the caller. The HTML and .docx readers' packages are the
[documents] extra: without them those files get a message saying what to install."""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import PurePath

TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
DOCX_SUFFIXES = (".docx",)
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + DOCX_SUFFIXES
SUPPORTED = "plain text or Markdown (.txt, .md), HTML (.html, .htm) and Word (.docx)"
ENCODINGS = "UTF-8, UTF-16 or cp1256"
_INSTALL = "pip install 'khulasa[documents]'"
# Elements whose text is one paragraph of an article.
_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "dd", "dt", "figcaption")


class Unreadable(ValueError):
    """A file that cannot be read as an article; the message is one line for a person."""


@dataclass(frozen=True)
class Document:
    text: str  # paragraphs, one per line
    title: str = ""  # the headline, where the file has one
    kind: str = "text"  # text | html | docx
    encoding: str = ""  # of a text or HTML file


def kind_of(name: str) -> str:
    """text, html or docx, from the file name; Unreadable names the type and what is supported."""
    suffix = PurePath(name).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in DOCX_SUFFIXES:
        return "docx"
    if suffix in TEXT_SUFFIXES or not suffix:
        return "text"
    what = {".pdf": "PDF", ".doc": "Word 97-2003 (.doc)", ".odt": "OpenDocument", ".rtf": "RTF"}.get(suffix, suffix)
    raise Unreadable(f"{name}: {what} files cannot be read; supported: {SUPPORTED}")


def supported(name: str) -> bool:
    try:
        kind_of(name)
        return True
    except Unreadable:
        return False


def _utf16_without_bom(data: bytes) -> str:
    """utf-16-le or utf-16-be when every other byte is mostly zero (Latin) or 0x06 (Arabic)."""
    if len(data) < 4 or len(data) % 2:
        return ""
    even, odd = data[0::2], data[1::2]
    for codec, high in (("utf-16-le", odd), ("utf-16-be", even)):
        if sum(b in (0, 6) for b in high) > 0.8 * len(high):
            return codec
    return ""


def _arabic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("\u0600" <= c <= "\u06ff" for c in letters) / len(letters) if letters else 0.0


def decode(data: bytes, encoding: str = "", name: str = "input") -> tuple[str, str]:
    """(text, encoding): the named encoding, else a BOM, UTF-8, UTF-16 (by its zero bytes) or
    cp1256 (when it gives Arabic letters); Unreadable says how to name another."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise Unreadable(f"unknown encoding {encoding!r} (--encoding): try utf-8, utf-16 or cp1256") from None
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise Unreadable(f"{name}: not {encoding} text (byte {exc.start}); name another with --encoding") from None
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec), codec.removesuffix("-sig")
            except UnicodeDecodeError:
                break
    # Zero bytes are valid UTF-8 but never in UTF-8 text: UTF-16 is tried first when there are some.
    utf16 = _utf16_without_bom(data) if b"\x00" in data else ""
    for codec in (utf16, "utf-8") if utf16 else ("utf-8",):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:
        text = ""
    if _arabic_share(text) > 0.5:
        return text, "cp1256"
    raise Unreadable(f"{name}: not {ENCODINGS} text; name its encoding with --encoding")


def _missing(package: str, kind: str, name: str) -> Unreadable:
    return Unreadable(f"{name}: reading {kind} needs the {package} package: {_INSTALL}")


def _html(data: bytes, encoding: str, name: str) -> Document:
    try:
        import lxml.html
        from readability import Document as Readable
    except ImportError:
        raise _missing("readability-lxml", "HTML", name) from None
    text, used = decode(data, encoding, name)
    page = lxml.html.document_fromstring(text) if text.strip() else None
    if page is None:
        raise Unreadable(f"{name}: an empty HTML file")
    h1 = page.find(".//h1")
    headline = " ".join(h1.text_content().split()) if h1 is not None else ""
    readable = Readable(text)
    title = headline or " ".join(readable.short_title().split())
    body = lxml.html.fragment_fromstring(readable.summary(html_partial=True), create_parent="div")
    paragraphs = []
    for element in body.iter(*_BLOCKS):
        if any(parent.tag in _BLOCKS for parent in element.iterancestors()):
            continue  # its text is in the enclosing block's
        line = " ".join(element.text_content().split())
        if line and line != title:
            paragraphs.append(line)
    if not paragraphs:  # an article without block elements: its lines
        paragraphs = [line for line in (" ".join(t.split()) for t in body.text_content().splitlines()) if line]
    return Document("\n".join(paragraphs), title, "html", used)


def _docx(data: bytes, name: str) -> Document:
    try:
        import docx
    except ImportError:
        raise _missing("python-docx", "Word files", name) from None
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zipfile, KeyError and its own errors for a broken file
        raise Unreadable(f"{name}: not a readable .docx file ({type(exc).__name__})") from None
    title = ""
    paragraphs: list[str] = []
    for paragraph in document.paragraphs:
        line = " ".join(paragraph.text.split())
        if not line:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if not title and not paragraphs and style in ("Title", "Heading 1"):
            title = line
        else:
            paragraphs.append(line)
    return Document("\n".join(paragraphs), title or (document.core_properties.title or ""), "docx")


def read(data: bytes, name: str, encoding: str = "") -> Document:
    """The article a file's bytes hold, by its name's type."""
    kind = kind_of(name)
    if kind == "html":
        return _html(data, encoding, name)
    if kind == "docx":
        return _docx(data, name)
    text, used = decode(data, encoding, name)
    return Document(text, "", "text", used)
