"""The reading page in a real browser (Chromium, as tests/test_page.py drives it): HTML, Word and
cp1256 files chosen or dropped, an unsupported one named; flags in place with a header by
severity and kind, collapsible, and the unsure words marked (a digest answer built here, since
what is tested is the rendering)."""

from __future__ import annotations

import io
import json

import docx
import pytest
from conftest import ARTICLES
from google.protobuf import json_format
from khulasa.v1 import khulasa_pb2 as pb
from playwright import sync_api as playwright
from test_documents import ARTICLE, PAGE
from test_page import _wait_done, browser, page  # noqa: F401  (fixtures)
from test_render_flags import _digest


def test_html_word_and_cp1256_files_are_read_and_an_unsupported_one_is_named(page, tmp_path):  # noqa: F811
    made = docx.Document()
    made.add_heading("عنوان الوثيقة", level=1)
    made.add_paragraph("قال الوزير إن المحادثات مستمرة.")
    buffer = io.BytesIO()
    made.save(buffer)
    files = [
        {"name": PAGE.name, "mimeType": "text/html", "buffer": PAGE.read_bytes()},
        {"name": "story.docx", "mimeType": "application/octet-stream", "buffer": buffer.getvalue()},
        {"name": "legacy.txt", "mimeType": "text/plain", "buffer": "قال الوزير.\nوأضاف أن الوفد يصل.".encode("cp1256")},
        {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7"},
    ]
    page.set_input_files("#files", files)
    _wait_done(page, 3)
    titles = page.locator(".digest .digest-title").all_inner_texts()
    assert titles == [f"{PAGE.name} · {ARTICLE[0]}", "story.docx · عنوان الوثيقة", "legacy.txt"]
    first = page.locator(".digest").nth(0).locator(".pair .ar").all_inner_texts()
    assert first == ARTICLE[1:] or first[1:] == ARTICLE[1:]  # the byline may lead; never the menu or markup
    assert page.locator(".digest").nth(2).locator(".pair .ar").all_inner_texts() == ["قال الوزير.", "وأضاف أن الوفد يصل."]
    status = page.locator("#status").inner_text()
    assert status.startswith("Done: 3 of 3 articles.") and "scan.pdf: PDF files cannot be read; supported:" in status


def _sse(message: pb.DigestResponse) -> str:
    def event(kind: str, e: pb.DigestEvent) -> str:
        return f"event: {kind}\ndata: {json.dumps(json_format.MessageToDict(e, always_print_fields_with_no_presence=True))}\n\n"

    out = [event("paragraph", pb.DigestEvent(paragraph=p)) for p in message.paragraphs]
    summary = pb.Summary(text=message.summary, sentences=message.summary_sentences)
    out.append(event("summary", pb.DigestEvent(summary=summary)))
    done = pb.DigestDone(id="a", detected_language="ar", timings=pb.Timings(total_ms=1200, translate_ms=900, summarize_ms=300))
    out.append(event("done", pb.DigestEvent(done=done)))
    return "".join(out)


def test_flags_in_place_counted_by_severity_collapsible_and_unsure_words_marked(page):  # noqa: F811
    body = _sse(_digest())
    page.route("**/v1/digest/stream", lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body))
    page.fill("#article", "قال الوزير.")
    page.click("#go")
    _wait_done(page)
    article = page.locator(".digest")
    # The header: counted by severity, then kind (the summary's flag too; an unknown kind at the default).
    groups = article.locator(".flag-groups .flag-group").all_inner_texts()
    assert groups[:2] == ["high 4: 1 missing name, 1 missing number, 1 repetition cut, 1 unsupported", "medium 1: 1 future check"]
    assert groups[2] == "1 highlighted phrases: the model was least sure of them."
    # The flag in place: a mark right after its sentence, with the words on hover.
    first = article.locator(".pair").nth(0)
    flagged = first.locator(".seg.flagged")
    assert flagged.count() == 1 and flagged.inner_text().endswith("delegations came.")
    mark = first.locator(".en sup.flag-mark")
    assert mark.count() == 1 and "Number ١٢ not found in the English." in mark.get_attribute("title")
    unsure = first.locator("mark.unsure")
    assert unsure.inner_text() == "Some" and "least sure" in unsure.get_attribute("title")
    # The summary sentence's own flag beside it.
    said = article.locator(".summary-list li").first.locator(".flag-mark.high")
    assert said.count() == 1 and "⚑" in said.inner_text() and "Paris" in said.inner_text()
    # Collapsible: the header and each paragraph's list fold and unfold.
    fold = first.locator("details.flag-fold")
    assert fold.evaluate("d => d.open") and first.locator(".flag").first.is_visible()
    fold.locator("summary").click()
    assert not fold.evaluate("d => d.open") and not first.locator(".flag").first.is_visible()
    head = article.locator("details.flag-head")
    head.locator("summary").click()
    assert not head.evaluate("d => d.open")
    # The downloaded HTML keeps the marks; its paragraphs are numbered from 1.
    with page.expect_download() as download:
        article.locator(".download-html").click()
    saved = open(download.value.path(), encoding="utf-8").read()
    assert '<mark class="unsure"' in saved and '<span class="num">¶1</span>' in saved


@pytest.fixture(autouse=True)
def _articles_exist():
    assert ARTICLES.is_dir()
    yield


__all__ = ["browser", "page", "playwright"]
