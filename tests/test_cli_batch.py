"""The CLI on many inputs, its formats, its connection options, and the pages it writes."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from conftest import program
from test_cli import khulasa
from test_client import certs, secure_server  # noqa: F401  (fixtures)

from khulasa_client.outputs import Progress, file_name

ARABIC = ["ارتفعت أسعار النفط بنسبة 4% اليوم.", "فاز المنتخب الوطني في المباراة النهائية.", "أعلنت الحكومة خطة جديدة للطاقة."]


@pytest.fixture
def article_dir(tmp_path):
    root = tmp_path / "articles"
    (root / "world").mkdir(parents=True)
    for i, text in enumerate(ARABIC):
        (root / ("world" if i else "") / f"a{i}.txt").write_text(text, encoding="utf-8")
    (root / "notes.json").write_text("{}")  # not an article type: left alone
    return root


def test_directory_to_output_dir_resumes(server, article_dir, tmp_path):
    out = tmp_path / "out"
    args = ["--server", f"127.0.0.1:{server.port}", "digest", str(article_dir), "--output-dir", str(out), "--format", "markdown"]
    first = khulasa(*args)
    assert first.returncode == 0, first.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.md")) == ["a0.md", "world/a1.md", "world/a2.md"]
    assert re.match(r"# a0\n\n(> ⚑ .*\n\n)?## Summary", (out / "a0.md").read_text())  # the flags' header, if any, first
    assert "3 done, 0 failed, 0 skipped" in first.stderr
    assert "ETA" not in first.stderr  # no progress bar when stderr is not a terminal
    (out / "world" / "a2.md").unlink()
    second = khulasa(*args)
    assert second.returncode == 0 and "1 done, 0 failed, 2 skipped" in second.stderr


def test_jsonl_in_and_out_with_a_bad_record(server, tmp_path):
    feed = tmp_path / "feed.jsonl"
    records = [{"id": "ok1", "text": ARABIC[0]}, {"id": "empty", "text": "  "}, {"id": "ok2", "text": ARABIC[1]}, {"id": "x"}]
    feed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\nnot json\n", encoding="utf-8")
    results = tmp_path / "results.jsonl"
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(feed), "--output", str(results), "--concurrency", "2")
    assert run.returncode == 1
    assert "empty: INVALID_ARGUMENT: text is empty" in run.stderr
    assert 'x: ' in run.stderr and "needs a \"text\" string" in run.stderr and "not JSON" in run.stderr
    assert "2 done, 3 failed, 0 skipped" in run.stderr
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["id"] for r in lines if "error" not in r) == ["ok1", "ok2"]
    assert all(r["translation"] and "summary" in r for r in lines if "error" not in r)
    errors = {r["id"]: r["error"] for r in lines if "error" in r}  # every id leaves a record
    assert sorted(errors) == sorted(["empty", "x", f"{feed}:5"])
    assert errors["empty"] == {"code": "INVALID_ARGUMENT", "message": "text is empty"}
    rerun = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(feed), "--output", str(results))
    assert "retrying 3 ids that failed in an earlier run" in rerun.stderr
    assert "0 done, 3 failed, 2 skipped" in rerun.stderr and len(results.read_text().splitlines()) == 5


def test_several_inputs_stream_jsonl_to_stdout(server, article_dir):
    run = khulasa("--server", f"127.0.0.1:{server.port}", "translate", str(article_dir / "a0.txt"), str(article_dir / "world"))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(r["id"] for r in lines) == ["a0", "a1", "a2"]
    assert all(r["detectedLanguage"] == "ar" and r["translation"] for r in lines)


def test_summarize_many_to_json_files(server, article_dir, tmp_path):
    out = tmp_path / "s"
    run = khulasa("--server", f"127.0.0.1:{server.port}", "summarize", str(article_dir), "--output-dir", str(out),
                  "--summary-method", "extractive")
    assert run.returncode == 0, run.stderr
    assert json.loads((out / "a0.json").read_text())["summary"]


def test_usage_errors_exit_2(server, article_dir):
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(article_dir), "--format", "text")
    assert run.returncode == 2 and "use --output-dir" in run.stderr
    assert khulasa("digest").returncode == 2  # argparse: no input


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "markdown", "html"])
def test_every_format_for_one_article(server, fmt):
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", "--format", fmt, stdin=ARABIC[0])
    assert run.returncode == 0, run.stderr
    if fmt in ("json", "jsonl"):
        data = json.loads(run.stdout)
        assert data["translation"] and "summary" in data
    elif fmt == "html":
        assert run.stdout.startswith("<!doctype html>") and 'dir="rtl"' in run.stdout
    else:
        assert "Summary" in run.stdout


def test_help_has_examples_for_every_command():
    for command in ("digest", "translate", "summarize", "health", "info", "completion"):
        run = khulasa(command, "--help")
        assert run.returncode == 0 and "examples:" in run.stdout, command


def test_bash_completion(tmp_path):
    script = tmp_path / "khulasa.bash"
    script.write_text(khulasa("completion", "bash").stdout)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    probe = (f"source {script}; COMP_WORDS=(khulasa dig); COMP_CWORD=1; _khulasa; echo \"${{COMPREPLY[@]}}\"; "
             f"COMP_WORDS=(khulasa digest --outp); COMP_CWORD=2; _khulasa; echo \"${{COMPREPLY[@]}}\"")
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout.splitlines()
    assert out == ["digest", "--output --output-dir"]
    assert khulasa("completion", "zsh").stdout.startswith("autoload -U +X bashcompinit")


def test_tls_and_token_flags(secure_server, certs, tmp_path):  # noqa: F811
    server, _ = secure_server
    token = tmp_path / "token"
    token.write_text("alpha-token\n")
    base = ["--server", f"127.0.0.1:{server.port}", "--tls-ca", str(certs / "ca.pem")]
    assert khulasa(*base, "--token-file", str(token), "info").returncode == 0
    denied = khulasa(*base, "translate", "-", stdin="مرحبا")
    assert denied.returncode == 2 and denied.stderr.startswith("khulasa: UNAUTHENTICATED")
    assert "Traceback" not in denied.stderr


def test_progress_bar_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(4, stream, enabled=True)
    for _ in range(4):
        progress.step()
    progress.close()
    assert "4/4 [########################] 100%  ETA 0:00" in stream.getvalue()


def test_ids_cannot_escape_the_output_directory():
    assert file_name("../../etc/passwd") == "%2E./%2E./etc/passwd"
    assert file_name("..") == "%2E." and file_name(".hidden") == "%2Ehidden" and file_name("/etc") == "%2Fetc"


def test_client_needs_no_server_packages():
    code = ("import sys, khulasa_client.cli, khulasa_client.aio; "
            "heavy = [m for m in ('ctranslate2', 'numpy', 'sentencepiece', 'tokenizers', 'khulasa_server') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr



def test_html_page_renders_in_chromium(server, seed_text, tmp_path):
    chromium = program("chromium", "chromium-browser")
    page = tmp_path / "digest.html"
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", "--format", "html", "--output", str(page),
                  stdin=seed_text)
    assert run.returncode == 0, run.stderr
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count('dir="rtl"') == 11 and dom.count('<section class="pair') == 11
    # The screenshot checks the bilingual columns: the flag lists (dozens on noise, which loses
    # every name) are hidden in a copy so that they neither fill the window nor cross its middle.
    columns = tmp_path / "columns.html"
    columns.write_text(page.read_text(encoding="utf-8").replace(
        "</style>", ".check, .pair .flags { display: none; }\n</style>", 1), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1200,1600", columns.as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    image = Image.open(shot).convert("L")
    width, height = image.size

    def ink(box) -> int:
        return sum(image.crop(box).histogram()[:128])  # dark pixels

    # The Arabic column (right half) is set right-aligned: its text hugs the right margin.
    right_half = ink((width // 2, 0, width, height))
    right_edge = ink((width - width // 6, 0, width, height))
    inner_edge = ink((width // 2, 0, width // 2 + width // 12, height))
    assert ink((0, 0, width // 2, height)) > 1000 and right_half > 1000
    assert right_edge > inner_edge
