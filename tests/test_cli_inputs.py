"""What the CLI reads: HTML, Word and legacy-encoded text, as a newsroom has them; a file or a
folder it cannot read is one clear line and exit 2, never "0 done"."""

from __future__ import annotations

import io
import json
import shutil

import docx
from test_cli import khulasa
from test_documents import ARTICLE, PAGE


def test_an_html_file_is_digested_as_its_article_with_its_headline(server, tmp_path):
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(PAGE), "--format", "json")
    assert result.returncode == 0, result.stderr
    sources = [p["source"] for p in json.loads(result.stdout)["paragraphs"]]
    assert [s for s in sources if s in ARTICLE] == ARTICLE[1:] and not any("<" in s for s in sources)
    page = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(PAGE), "--format", "html")
    assert f'<h1 dir="auto">{ARTICLE[0]}</h1>' in page.stdout


def test_a_folder_of_html_word_and_cp1256_files_is_read_whole(server, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(PAGE, folder / "page.html")
    made = docx.Document()
    made.add_paragraph("قال الوزير إن المحادثات مستمرة.")
    buffer = io.BytesIO()
    made.save(buffer)
    (folder / "memo.docx").write_bytes(buffer.getvalue())
    (folder / "wire.txt").write_bytes("قال الوزير.\nوأضاف أن الوفد يصل.".encode("cp1256"))
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7")  # not a type the CLI reads: left alone in a folder
    out = tmp_path / "out.jsonl"
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(folder), "--output", str(out))
    assert result.returncode == 0, result.stderr
    records = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert sorted(records) == ["memo", "page", "wire"]
    assert [p["source"] for p in records["wire"]["paragraphs"]] == ["قال الوزير.", "وأضاف أن الوفد يصل."]
    assert "3 done, 0 failed" in result.stderr


def test_what_cannot_be_read_is_one_line_and_exit_2(server, tmp_path):
    address = f"127.0.0.1:{server.port}"
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7")
    result = khulasa("--server", address, "digest", str(tmp_path / "scan.pdf"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"khulasa: cannot read input: {tmp_path / 'scan.pdf'}: PDF files cannot be read; supported: plain text or "
        "Markdown (.txt, .md), HTML (.html, .htm) and Word (.docx)"
    ]
    only = tmp_path / "pdfs"
    only.mkdir()
    (only / "a.pdf").write_bytes(b"%PDF-1.7")
    result = khulasa("--server", address, "digest", str(only), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 2 and "no files of a supported type" in result.stderr and "0 done" not in result.stderr
    (tmp_path / "latin1.txt").write_bytes("Réunion à Genève".encode("latin-1"))
    result = khulasa("--server", address, "digest", str(tmp_path / "latin1.txt"))
    assert result.returncode == 2 and "not UTF-8, UTF-16 or cp1256 text; name its encoding with --encoding" in result.stderr


def test_encoding_names_what_detection_would_not_guess(server, tmp_path):
    article = tmp_path / "a.txt"
    article.write_bytes("قال الوزير إن المحادثات مستمرة.".encode("cp1256"))
    address = f"127.0.0.1:{server.port}"
    result = khulasa("--server", address, "digest", str(article), "--encoding", "cp1256", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["paragraphs"][0]["source"] == "قال الوزير إن المحادثات مستمرة."
    wrong = khulasa("--server", address, "digest", str(article), "--encoding", "utf-8")
    assert wrong.returncode == 2 and "not utf-8 text" in wrong.stderr
