"""One long article through the CLI and the Python clients: streamed, with progress on a
terminal, an idle timeout instead of one deadline for the whole call; outputs checked first."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import subprocess
import time
from concurrent import futures

import grpc
import pytest
from conftest import ARTICLES
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc
from procs import free_port
from test_cli import BIN, khulasa

from khulasa_client import ApiError, AsyncClient, Client, assemble


def _long_article(paragraphs: int = 30) -> str:
    lines = [line.strip() for f in sorted(ARTICLES.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    return "\n".join(lines[i % len(lines)] for i in range(paragraphs)) + "\n"


def in_terminal(*args: str, timeout: float = 120) -> tuple[int, str]:
    """The CLI with its stdout and stderr on a pseudo-terminal, as a person at a shell sees it."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(BIN / "khulasa"), *args], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: the process is gone
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    return proc.returncode, seen.decode("utf-8", "replace")


def test_a_30_paragraph_article_shows_progress_and_ends_without_a_deadline_error(server, tmp_path):
    article = tmp_path / "long.txt"
    article.write_text(_long_article(30), encoding="utf-8")
    # --timeout is far below what the article takes: a streamed digest is bounded by the idle
    # timeout between its events, not by one deadline for the whole call.
    code, screen = in_terminal("--server", f"127.0.0.1:{server.port}", "--timeout", "0.001", "digest", str(article))
    assert code == 0, screen
    assert "DEADLINE_EXCEEDED" not in screen
    # The progress line: paragraphs done of the total, the time elapsed.
    assert "¶ 1/30 " in screen and "¶ 30/30 " in screen and "elapsed" in screen
    assert "30/30 paragraphs in" in screen
    # The paragraphs as they arrived, numbered from 1, then the summary.
    lines = screen.replace("\r\n", "\n").replace("\r\x1b[K", "\n").splitlines()  # the progress line erased
    numbered = [n for n in range(1, 31) if any(line.startswith(f"¶{n}  ") for line in lines)]
    assert numbered == list(range(1, 31))
    assert screen.index("¶30  ") < screen.index("Summary\r\n=======")


def test_piped_output_is_the_whole_result_without_progress(server, tmp_path):
    article = tmp_path / "long.txt"
    article.write_text(_long_article(30), encoding="utf-8")
    result = khulasa("--server", f"127.0.0.1:{server.port}", "--timeout", "0.001", "digest", str(article), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["paragraphs"]) == 30 and data["summarySentences"] and data["detectedLanguage"] == "ar"
    assert "¶" not in result.stderr  # no progress line in a pipe


class _Stalls(khulasa_pb2_grpc.NewsDigestServicer):
    """A server that sends one paragraph and then nothing more (a stuck worker, a lost peer)."""

    def StreamDigest(self, request, context):
        yield pb.DigestEvent(paragraph=pb.Paragraph(index=0, source="أ", translation="A."))
        while context.is_active():
            time.sleep(0.05)


@pytest.fixture
def stalling():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    khulasa_pb2_grpc.add_NewsDigestServicer_to_server(_Stalls(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def test_the_cli_gives_up_after_the_idle_timeout_and_names_the_option(stalling):
    start = time.monotonic()
    result = khulasa("--server", stalling, "digest", "-", "--idle-timeout", "1", stdin="قال الوزير.\nوأضاف.\n")
    assert result.returncode == 2
    assert "DEADLINE_EXCEEDED" in result.stderr and "--idle-timeout" in result.stderr
    assert "Traceback" not in result.stderr and time.monotonic() - start < 60


def test_the_python_clients_have_the_same_idle_timeout(stalling, server, seed_text):
    with Client(stalling, timeout=60) as client:
        events = client.stream_digest("قال الوزير.", idle_timeout=0.5)
        with pytest.raises(ApiError) as caught:
            list(events)
    assert caught.value.code == "DEADLINE_EXCEEDED" and "idle_timeout" in caught.value.message

    async def stalled() -> ApiError:
        async with AsyncClient(stalling, timeout=60) as client:
            try:
                async for _ in client.stream_digest("قال الوزير.", idle_timeout=0.5):
                    pass
            except ApiError as exc:
                return exc
        raise AssertionError("the stream did not stop")

    assert asyncio.run(stalled()).code == "DEADLINE_EXCEEDED"
    # On a server that keeps sending, the idle timeout never fires; assemble() gives Digest's answer.
    with Client(f"127.0.0.1:{server.port}", timeout=0.001) as client:
        response = assemble(client.stream_digest(seed_text, id="s", idle_timeout=60), "s")
    assert response.id == "s" and len(response.paragraphs) == 11 and response.summary_sentences


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("قال الوزير.", encoding="utf-8")
    nowhere = f"127.0.0.1:{free_port()}"  # no server: a refusal that came after the call would say UNAVAILABLE
    for output, says in (
        (str(tmp_path / "nodir" / "x.txt"), "does not exist"),
        (str(tmp_path), "is a folder"),
    ):
        result = khulasa("--server", nowhere, "digest", str(article), "--output", output)
        assert result.returncode == 2 and says in result.stderr and "UNAVAILABLE" not in result.stderr, result.stderr
    (tmp_path / "file").write_text("")
    result = khulasa("--server", nowhere, "digest", str(article), "--output-dir", str(tmp_path / "file" / "out"))
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr


def test_json_keys_are_protobufs_json_mapping_and_snake_case_on_request(server, seed_text):
    address = f"127.0.0.1:{server.port}"
    camel = json.loads(khulasa("--server", address, "digest", "-", "--format", "json", stdin=seed_text).stdout)
    snake = json.loads(khulasa("--server", address, "digest", "-", "--format", "json", "--json-keys", "snake", stdin=seed_text).stdout)
    assert {"summarySentences", "detectedLanguage", "timings"} <= set(camel) and "totalMs" in camel["timings"]
    assert {"summary_sentences", "detected_language"} <= set(snake) and "total_ms" in snake["timings"]


def test_text_output_numbers_paragraphs_from_1(server, seed_text):
    result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", stdin=seed_text)
    body = result.stdout.split("Translation\n===========\n", 1)[1]
    starts = [line.split("  ", 1)[0] for line in body.splitlines() if line.startswith("¶")]
    assert starts == [f"¶{n}" for n in range(1, 12)]


def test_the_http_port_is_named_as_such(server):
    result = khulasa("--server", f"127.0.0.1:{server.http.port}", "--timeout", "10", "health")
    assert result.returncode == 2
    assert "answers HTTP, not gRPC: it is the server's HTTP port" in result.stderr and "http://" in result.stderr


def test_an_http_address_uses_the_http_api(server, seed_text, tmp_path):
    http = f"http://127.0.0.1:{server.http.port}"
    assert khulasa("--server", http, "health").stdout == "SERVING\n"
    result = khulasa("--server", http, "digest", "-", "--format", "json", stdin=seed_text)
    assert result.returncode == 0, result.stderr
    over_grpc = json.loads(khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", "--format", "json", stdin=seed_text).stdout)
    over_http = json.loads(result.stdout)
    assert over_http["paragraphs"] == over_grpc["paragraphs"] and over_http["summary"] == over_grpc["summary"]
    # A stream over HTTP on a terminal, as over gRPC.
    article = tmp_path / "a.txt"
    article.write_text(seed_text, encoding="utf-8")
    code, screen = in_terminal("--server", http, "digest", str(article))
    assert code == 0 and "¶ 11/11 " in screen and "Summary" in screen, screen
    # Errors keep their meaning; the gRPC port given as http:// is named.
    refused = khulasa("--server", http, "digest", "-", stdin="Bonjour, le ministre a parlé de la réunion à Genève hier soir.")
    assert refused.returncode == 1 and "German or another Latin-script language" in refused.stderr and "'latn'" not in refused.stderr
    wrong = khulasa("--server", f"http://127.0.0.1:{server.port}", "health")
    assert wrong.returncode == 2 and "if it is the server's gRPC port (--listen), give it without http://" in wrong.stderr


def test_a_missing_token_says_pass_token(bundles, tmp_path):
    from conftest import start_server

    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret\n")
    server = start_server(bundles["tiny"], auth_token_file=str(tokens))
    try:
        result = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", stdin="قال الوزير.")
        assert result.returncode == 2 and "UNAUTHENTICATED" in result.stderr and "pass --token" in result.stderr
        assert "authorization metadata" not in result.stderr
        good = khulasa("--server", f"127.0.0.1:{server.port}", "--token", "s3cret", "digest", "-", "--format", "json", stdin="قال الوزير.")
        assert good.returncode == 0, good.stderr
    finally:
        server.stop(0)
