"""Files over HTTP (POST /v1/digest/file, POST /v1/read: the reader the CLI uses) and the flags
that LibreTranslate clients now get beside each translation."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import docx
from conftest import ARTICLES
from libretranslatepy import LibreTranslateAPI

PAGE = Path(__file__).parent / "data" / "documents" / "economy_prices.html"
ARTICLE = [line.strip() for line in (ARTICLES / "economy_prices.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def _post_file(base: str, path: str, name: str, data: bytes, **fields: str) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        base + path, data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_html_page_is_digested_as_its_article(server):
    base = f"http://127.0.0.1:{server.http.port}"
    status, digest = _post_file(base, "/v1/digest/file", PAGE.name, PAGE.read_bytes(), maxSentences="2")
    assert status == 200, digest
    sources = [p["source"] for p in digest["paragraphs"]]
    # The story's paragraphs, not the markup, the menu or the footer (which gave flags for html, body, h1).
    assert [s for s in sources if s in ARTICLE] == ARTICLE[1:] and not any("<" in s for s in sources)
    assert digest["id"] == "economy_prices" and 1 <= len(digest["summarySentences"]) <= 2


def test_cp1256_and_docx_files_and_their_refusals(server):
    base = f"http://127.0.0.1:{server.http.port}"
    text = "قال الوزير إن المحادثات مستمرة.\nوأضاف أن الوفد يصل غدا."
    status, digest = _post_file(base, "/v1/digest/file", "old.txt", text.encode("cp1256"), id="legacy")
    assert status == 200 and digest["id"] == "legacy"
    assert [p["source"] for p in digest["paragraphs"]] == text.splitlines()

    made = docx.Document()
    made.add_heading("العنوان", level=1)
    made.add_paragraph(text.splitlines()[0])
    buffer = io.BytesIO()
    made.save(buffer)
    status, read = _post_file(base, "/v1/read", "story.docx", buffer.getvalue())
    assert status == 200 and read == {"title": "العنوان", "text": text.splitlines()[0], "kind": "docx", "encoding": ""}

    status, problem = _post_file(base, "/v1/digest/file", "scan.pdf", b"%PDF-1.7")
    assert status == 400 and problem["code"] == "INVALID_ARGUMENT"
    assert problem["error"].startswith("file: scan.pdf: PDF files cannot be read; supported: ")
    status, problem = _post_file(base, "/v1/read", "x.txt", "Réunion à Genève".encode("latin-1"))
    assert status == 400 and "--encoding" in problem["error"]


def _translate(base: str, body: dict) -> dict:
    request = urllib.request.Request(
        base + "/translate", data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_libretranslate_answers_carry_warnings_per_text_and_its_clients_still_work(server, seed_text):
    base = f"http://127.0.0.1:{server.http.port}"
    paragraph = seed_text.splitlines()[2]  # numbers and names: the tiny bundle's noise loses them
    one = _translate(base, {"q": paragraph, "source": "ar", "target": "en"})
    assert isinstance(one["translatedText"], str) and one["warnings"]
    assert {"code", "severity", "message", "source"} <= set(one["warnings"][0])
    assert all(not w["code"].startswith("split_long_sentence") for w in one["warnings"])
    many = _translate(base, {"q": [paragraph, "The minister spoke."], "source": "auto", "target": "en"})
    assert len(many["warnings"]) == 2 and many["warnings"][0] == one["warnings"] and many["warnings"][1] == []
    marked = _translate(base, {"q": f"<p>{paragraph}</p>", "source": "ar", "target": "en", "format": "html"})
    assert marked["warnings"] and marked["translatedText"].startswith("<p>")
    # libretranslatepy ignores the extra key: the same English as before.
    lt = LibreTranslateAPI(base + "/")
    assert lt.translate(paragraph, source="ar", target="en", timeout=60) == one["translatedText"]
