"""The CLI and the server as separate processes, as a user runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from khulasa_client import ApiError, Client

BIN = Path(sys.executable).parent


def khulasa(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "khulasa"), *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_digest_json_has_translation_and_summary(server, seed_text, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(seed_text, encoding="utf-8")
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(article), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["translation"] and data["summary"] and len(data["paragraphs"]) == 11
    assert data["detectedLanguage"] == "ar"


def test_digest_text_from_stdin(server, seed_text):
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", stdin=seed_text)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Summary\n=======\n") and "\nTranslation\n===========\n" in result.stdout


def test_translate_and_summarize_and_info(server):
    address = f"127.0.0.1:{server.port}"
    result = khulasa("--server", address, "translate", "-", stdin="Markets rose.")
    assert result.returncode == 0 and result.stdout == "Markets rose.\n"
    result = khulasa("--server", address, "summarize", "-", "--format", "json", stdin="Markets rose on Monday.")
    assert result.returncode == 0 and "summary" in json.loads(result.stdout)
    result = khulasa("--server", address, "info")
    assert json.loads(result.stdout)["bundleName"] == "tiny"
    assert khulasa("--server", address, "health").stdout == "SERVING\n"


def test_bad_input_exits_1_with_one_line(server):
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", stdin="   ")
    assert result.returncode == 1
    assert result.stderr.strip() == "khulasa: INVALID_ARGUMENT: text is empty"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_exits_2_without_traceback():
    result = khulasa("--server", f"127.0.0.1:{_free_port()}", "--timeout", "2", "health")
    assert result.returncode == 2
    assert result.stderr.startswith("khulasa: UNAVAILABLE") and "Traceback" not in result.stderr


def test_missing_file_exits_2(server, tmp_path):
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", str(tmp_path / "nope.txt"))
    assert result.returncode == 2 and "cannot read input" in result.stderr


def _start(*args: str, drain: bool = True) -> tuple[subprocess.Popen, int]:
    """A server process on a free port. drain: keep reading its log (a full pipe would block
    its threads); off when the test reads the log itself."""
    proc = subprocess.Popen(
        [str(BIN / "khulasa-server"), "--listen", "127.0.0.1:0", *args],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "KHULASA_LOG_LEVEL": "info"},
    )
    for line in proc.stderr:
        found = re.search(r'"address": "127\.0\.0\.1:(\d+)"', line)
        if found:
            if drain:
                threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(found.group(1))
    raise AssertionError(f"server exited with {proc.wait()} before listening")


def wait_serving(c: Client, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while c.health() != "SERVING":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_server_process_serves_then_stops_cleanly_on_sigterm(bundles):
    proc, port = _start("--bundle", str(bundles["tiny"]))
    try:
        with Client(f"127.0.0.1:{port}", timeout=30) as c:
            wait_serving(c)
            assert c.digest("أعلنت الحكومة خطة جديدة.").translation
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_corrupt_bundle_stops_the_server_with_a_message(bundles, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(bundles["tiny"], broken)
    model = broken / "translator" / "model.bin"
    model.write_bytes(model.read_bytes()[:1000])  # a truncated copy
    proc, _ = _start("--bundle", str(broken), drain=False)
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 2
    assert "checksum mismatch for 'translator/model.bin'" in rest


def test_missing_bundle_names_the_build_command(tmp_path):
    result = subprocess.run([str(BIN / "khulasa-server"), "--listen", "127.0.0.1:0", "--bundle", str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "khulasa-models build" in result.stderr and '"listening"' not in result.stderr


@pytest.mark.parametrize("args", [["--device", "tpu"], ["--workers", "0"]])
def test_bad_settings_exit_2(args):
    result = subprocess.run([str(BIN / "khulasa-server"), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("khulasa-server: ")


def test_sighup_reloads_the_token_file(bundles, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("first\n")
    proc, port = _start("--bundle", str(bundles["tiny"]), "--auth-token-file", str(tokens))
    try:
        with Client(f"127.0.0.1:{port}", timeout=30, token="second") as c:
            wait_serving(c)
            with pytest.raises(ApiError, match="UNAUTHENTICATED"):
                c.model_info()
            tokens.write_text("second\n")
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while True:  # the reload happens on the server's main thread, soon after the signal
                try:
                    assert c.model_info().bundle_name == "tiny"
                    break
                except ApiError:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_logs_are_json_with_request_ids_and_no_article_text(bundles):
    proc, port = _start("--bundle", str(bundles["tiny"]), drain=False)
    marker = "علامةسريةفريدة"
    try:
        with Client(f"127.0.0.1:{port}", timeout=30, metadata=[("x-request-id", "log-check-1")]) as c:
            wait_serving(c)
            c.digest(f"قال الوزير {marker} اليوم.")
            with pytest.raises(ApiError):
                c.digest(f"Bonjour {marker}", source_language="fr")
    finally:
        proc.send_signal(signal.SIGTERM)
    log = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    rpcs = [e for e in entries if e.get("msg") == "rpc"]
    assert {(e["rpc"], e["code"], e["request_id"]) for e in rpcs} >= {("Digest", "OK", "log-check-1"),
                                                                      ("Digest", "INVALID_ARGUMENT", "log-check-1")}
    assert marker not in log
