"""The process stays up for everyone else: idle and slow HTTP connections, a flood of them at a
low open-files limit, idle gRPC streams holding every handler thread, SIGTERM with HTTP work in
flight, the metrics port, revoked tokens. Real servers on 127.0.0.1, bounded loops."""

from __future__ import annotations

import http.client
import json
import resource
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import grpc
import httpapi
import pytest
from conftest import start_server
from grpc_health.v1 import health_pb2, health_pb2_grpc
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc
from test_hostile import ARABIC, BIN, ServerProcess, _refuses, processes  # noqa: F401 (a fixture)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def _answer(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (b"" when it closes silently)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"the connection was still open after {timeout} s; got {data[:200]!r}") from None
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _health(port: int, timeout: float = 2) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


# -- High 1: idle and slow HTTP connections ---------------------------------------------------------


def test_slow_headers_and_a_stalled_body_are_cut_with_408(bundles):
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", http_header_timeout=1.0, http_body_timeout=1.0)
    port = server.http.port
    try:
        dripping = [_connect(port) for _ in range(20)]
        for sock in dripping:
            sock.sendall(b"P")  # one byte of a request line, then nothing
        stalled = _connect(port)
        stalled.sendall(b"POST /v1/digest HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                        b"content-length: 100\r\n\r\n{\"text\": ")
        start = time.monotonic()
        for sock in dripping:
            answer = _answer(sock, 10)
            assert answer.startswith(b"HTTP/1.1 408") and b"http_header_timeout" in answer, answer[:200]
        answer = _answer(stalled, 10)
        assert answer.startswith(b"HTTP/1.1 408") and b"http_body_timeout" in answer, answer[:300]
        assert time.monotonic() - start < 15  # 1 s limits; bounds generous for a loaded machine
        assert httpapi.call(port, "GET", "/healthz", timeout=10).status == 200
        for sock in [*dripping, stalled]:
            sock.close()
    finally:
        server.stop(0)


def test_the_http_connection_cap_answers_503_and_logs_once(bundles, caplog):
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", http_max_connections=10, http_header_timeout=60)
    port = server.http.port
    held: list[socket.socket] = []
    try:
        with caplog.at_level("INFO", logger="khulasa.http"):
            held = [_connect(port) for _ in range(10)]
            time.sleep(0.3)  # accepted by the event loop
            over = [_connect(port) for _ in range(5)]
            for sock in over:
                answer = _answer(sock, 10)
                assert answer.startswith(b"HTTP/1.1 503") and b"http_max_connections" in answer, answer[:200]
                sock.close()
            assert _health(server.port) == "SERVING"  # gRPC is not held up by the HTTP cap
            for sock in held[:5]:
                sock.close()
            time.sleep(0.3)
            assert httpapi.call(port, "GET", "/healthz", timeout=10).status == 200
        capped = [r for r in caplog.records if "connection cap reached" in r.getMessage()]
        assert len(capped) == 1, [r.getMessage() for r in caplog.records]
    finally:
        for sock in held:
            sock.close()
        server.stop(0)


def _limited(soft: int, hard: int):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_open_files_limit_is_raised_to_the_hard_limit(bundles, tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.fail(f"this test needs a hard open-files limit above 256 (it is {hard})")
    log = tmp_path / "log"
    with open(log, "w") as err:
        proc = subprocess.Popen([str(BIN / "khulasa-server"), "--bundle", str(bundles["tiny"]), "--listen", "127.0.0.1:0"],
                                stderr=err, preexec_fn=_limited(256, hard))
    try:
        deadline = time.monotonic() + 60
        while '"listening"' not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
        assert int(line.split()[3]) == (hard if hard != resource.RLIM_INFINITY else 1 << 20), line
    finally:
        proc.kill()
        proc.wait(30)


def test_a_flood_of_idle_connections_at_a_low_file_limit_starves_nothing(bundles, processes):
    """The issue's attack, scaled down: a hard open-files limit of 400, 600 connections sending
    one byte each. Before, the process ran out of descriptors: gRPC health and Digest timed
    out and an accept error was logged thousands of times a second. Now the connection cap is
    lowered to fit the limit (one warning line) and the connections past it are refused."""
    server = processes("--bundle", str(bundles["tiny"]), "--http-listen", "127.0.0.1:0", wait_serving=True,
                       preexec_fn=_limited(400, 400))
    http_port = int(server.wait_for(r'"msg": "listening \(HTTP\)".*"address": "127\.0\.0\.1:(\d+)"'))
    flood: list[socket.socket] = []
    try:
        for _ in range(600):
            try:
                sock = socket.create_connection(("127.0.0.1", http_port), timeout=5)
            except OSError:
                continue
            try:
                sock.sendall(b"G")
            except OSError:
                pass
            flood.append(sock)
        time.sleep(1)
        start = time.monotonic()
        assert _health(server.port, timeout=5) == "SERVING"
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            assert pb_grpc.NewsDigestStub(channel).Digest(pb.DigestRequest(text=ARABIC), timeout=10).translation
        assert time.monotonic() - start < 15
        assert len(server.log()) < 2_000_000, "the log is flooded"
        assert server.proc.poll() is None
        [warning] = [e for e in server.entries() if "http_max_connections lowered" in e["msg"]]
        assert "144 HTTP connections" in warning["msg"]
    finally:
        for sock in flood:
            sock.close()


def test_grpc_connections_that_never_finish_the_handshake_are_closed(bundles):
    server = start_server(bundles["tiny"], http_header_timeout=1.0)
    try:
        idle = [_connect(server.port) for _ in range(20)]
        start = time.monotonic()
        for sock in idle:
            _answer(sock, 10)  # gRPC's SETTINGS frame, then the close
            sock.close()
        assert time.monotonic() - start < 15  # 1 s limits; bounds generous for a loaded machine
        assert _health(server.port) == "SERVING"
    finally:
        server.stop(0)


# -- High 2: idle gRPC streams and health ----------------------------------------------------------


def test_health_answers_and_excess_calls_are_refused_while_streams_hold_every_worker(bundles):
    server = start_server(bundles["tiny"], workers=4)
    stop = threading.Event()

    def nothing():
        stop.wait(30)
        return
        yield  # a request stream that sends nothing

    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        stub = pb_grpc.NewsDigestStub(channel)
        streams = [stub.DigestMany(nothing(), timeout=30) for _ in range(4)]
        time.sleep(0.5)  # all four hold a handler thread now
        for _ in range(5):  # each within its 2 s deadline (before: DEADLINE_EXCEEDED, queued behind the streams)
            assert _health(server.port, timeout=2) == "SERVING"
        start = time.monotonic()
        with pytest.raises(grpc.RpcError) as info:
            stub.Digest(pb.DigestRequest(text=ARABIC), timeout=5)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "workers" in info.value.details()
        assert time.monotonic() - start < 4  # refused at once, not queued until the 5 s deadline
        for call in streams:
            call.cancel()
        stop.set()
        time.sleep(0.5)
        assert stub.Digest(pb.DigestRequest(text=ARABIC), timeout=10).translation  # threads back
    finally:
        stop.set()
        channel.close()
        server.stop(0)


def test_an_idle_digest_many_stream_is_ended(bundles):
    server = start_server(bundles["tiny"], stream_idle_timeout=1.0)
    stop = threading.Event()

    def one_then_nothing():
        yield pb.DigestRequest(id="a", text=ARABIC)
        stop.wait(30)

    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        start = time.monotonic()
        call = pb_grpc.NewsDigestStub(channel).DigestMany(one_then_nothing(), timeout=30)
        first = next(call)
        assert first.id == "a" and first.translation
        with pytest.raises(grpc.RpcError) as info:
            next(call)
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "stream_idle_timeout" in info.value.details() and "1 answers" in info.value.details()
        assert time.monotonic() - start < 20
    finally:
        stop.set()
        channel.close()
        server.stop(0)


# -- Medium 3: SIGTERM with HTTP work in flight ----------------------------------------------------


def _long_article() -> str:
    nonce = time.monotonic_ns() % 99991
    return "\n".join(f"{ARABIC} {i}:{nonce}" for i in range(1500))  # nothing cached


def test_sigterm_stops_http_work_at_grace_with_503(bundles, processes):
    server = processes("--bundle", str(bundles["tiny"]), "--http-listen", "127.0.0.1:0", "--grace", "2",
                       "--http-timeout", "120", "--max-text-chars", "200000", "--batch-delay-ms", "50")
    http_port = int(server.wait_for(r'"msg": "listening \(HTTP\)".*"address": "127\.0\.0\.1:(\d+)"'))
    outcome: dict = {}

    def digest():
        outcome["reply"] = httpapi.call(http_port, "POST", "/v1/digest", json={"text": _long_article()}, timeout=60)

    def stream():
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
        conn.request("POST", "/v1/digest/stream", body=json.dumps({"text": _long_article()}),
                     headers={"Content-Type": "application/json"})
        outcome["stream"] = conn.getresponse().read().decode()
        conn.close()

    threads = [threading.Thread(target=digest), threading.Thread(target=stream)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    assert "reply" not in outcome, "the digest was too short to be in flight"
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    took = time.monotonic() - start
    for t in threads:
        t.join(30)
    assert took < 2 + 8, f"exited {took:.1f} s after SIGTERM with --grace 2"  # before: past the 30 s wait
    reply = outcome["reply"]
    assert reply.status == 503 and "shutting down" in reply.error and reply.headers.get("retry-after") == "1"
    events = httpapi.sse_events(outcome["stream"])
    assert events and events[-1][0] == "error" and "shutting down" in events[-1][1]["error"], outcome["stream"][-300:]


# -- Medium 4: the metrics port ------------------------------------------------------------------


def test_the_metrics_port_needs_the_token(bundles, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("scrape-token\n")
    server = start_server(bundles["tiny"], metrics_listen="127.0.0.1:0", auth_token_file=str(tokens))
    try:
        port = server.start_metrics()
        refused = httpapi.call(port, "GET", "/metrics", timeout=10)
        assert refused.status == 401 and "bearer token" in refused.error
        allowed = httpapi.call(port, "GET", "/metrics", headers={"Authorization": "Bearer scrape-token"}, timeout=10)
        assert allowed.status == 200 and "khulasa_requests_total" in allowed.body
    finally:
        server.stop(0)


def test_the_metrics_port_cuts_idle_connections(bundles):
    server = start_server(bundles["tiny"], metrics_listen="127.0.0.1:0", http_header_timeout=1.0)
    try:
        port = server.start_metrics()
        idle = [_connect(port) for _ in range(10)]
        start = time.monotonic()
        for sock in idle:
            assert _answer(sock, 10).startswith(b"HTTP/1.1 408")
            sock.close()
        assert time.monotonic() - start < 15  # 1 s limits; bounds generous for a loaded machine
    finally:
        server.stop(0)


# -- Medium 5: revoking every token ------------------------------------------------------------------


@pytest.mark.parametrize("revoke", ["empty", "comments", "deleted"])
def test_an_emptied_or_deleted_token_file_revokes_every_token(bundles, tmp_path, revoke):
    tokens = tmp_path / "tokens"
    tokens.write_text("old-token\n")
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", auth_token_file=str(tokens))
    try:
        metadata = [("authorization", "Bearer old-token")]
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.NewsDigestStub(channel)
            assert stub.GetModelInfo(pb.GetModelInfoRequest(), metadata=metadata, timeout=10).bundle_name == "tiny"
            if revoke == "deleted":
                tokens.unlink()
            else:
                tokens.write_text("" if revoke == "empty" else "# every token revoked\n")
            server.auth.reload()
            with pytest.raises(grpc.RpcError) as info:
                stub.GetModelInfo(pb.GetModelInfoRequest(), metadata=metadata, timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        reply = httpapi.call(server.http.port, "POST", "/v1/model-info", json={},
                             headers={"Authorization": "Bearer old-token"}, timeout=10)
        assert reply.status == 401
        assert _health(server.port) == "SERVING"  # health stays open
    finally:
        server.stop(0)


# -- Low: requests that used to be a 500 with a traceback, and HTTP framing ---------------------------


def _multipart(fields: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "khulasa-test-boundary"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode() + value + b"\r\n"
             for name, value in fields]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


LT = {"q": "مرحبا", "source": "ar", "target": "en"}
DEEP = b'{"q": ' + b"[" * 100_000 + b"]" * 100_000 + b', "source": "ar", "target": "en"}'


@pytest.mark.parametrize("body, kind, says", [
    (json.dumps({**LT, "api_key": 5}).encode(), "application/json", "api_key must be a string"),
    (json.dumps({**LT, "q": "\ud800"}).encode(), "application/json", "lone surrogate"),
    (DEEP, "application/json", "nested"),
    (json.dumps(LT).encode()[:-1] + b', "alternatives": 1e400}', "application/json", "alternatives"),
    (*_multipart([(f"f{i}", b"x") for i in range(1001)] + [("q", b"x")]), "Too many fields"),
    (*_multipart([("q", b"\xff\xfe not utf-8"), ("source", b"ar"), ("target", b"en")]), "not UTF-8"),
], ids=["api_key-number", "lone-surrogate", "deep-json", "alternatives-1e400", "1001-fields", "form-not-utf8"])
def test_malformed_libretranslate_requests_are_400_not_500(server, body, kind, says, caplog):
    with caplog.at_level("ERROR"):
        reply = httpapi.call(server.http.port, "POST", "/translate", raw=body, headers={"Content-Type": kind}, timeout=30)
    assert reply.status == 400 and says in reply.error, (reply.status, reply.body)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_detect_runs_within_the_clients_slot(bundles, seed_text):
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", max_inflight_per_client=1, batch_delay_ms=300,
                          max_text_chars=200_000)
    port = server.http.port
    try:
        long = threading.Thread(target=httpapi.call, args=(port, "POST", "/v1/digest"),
                                kwargs={"json": {"text": _long_article()}, "timeout": 60})
        long.start()
        deadline = time.monotonic() + 10
        while server.http.front.active == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        reply = httpapi.call(port, "POST", "/detect", json={"q": ARABIC}, timeout=30)
        assert reply.status == 429 and "max_inflight_per_client" in reply.error, (reply.status, reply.body)
    finally:
        server.stop(0)
        long.join(30)


def test_an_http_answer_over_max_message_bytes_is_refused(bundles):
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", max_message_bytes=64 * 1024,
                          max_text_chars=10**6)
    try:
        body = json.dumps({"texts": [(ARABIC + "\n") * 500]}, ensure_ascii=False).encode()
        reply = httpapi.call(server.http.port, "POST", "/v1/translate", raw=body,
                             headers={"Content-Type": "application/json"}, timeout=60)  # 57 kB in; the answer is more
        assert reply.status == 429 and "max_message_bytes" in reply.error, (reply.status, str(reply.body)[:200])
    finally:
        server.stop(0)


def test_content_length_with_chunked_encoding_is_refused_and_not_read_as_two_requests(server):
    smuggled = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
    chunked = b"0\r\n\r\n" + smuggled
    sock = _connect(server.http.port)
    try:
        sock.sendall(b"POST /v1/model-info HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(chunked) + chunked)
        answer = _answer(sock, 10)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 400") and b"Transfer-Encoding" in answer, answer[:300]
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # the smuggled request was never answered


# -- operators' messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("flag, setting", [("--http-listen", "http_listen"), ("--metrics-listen", "metrics_listen")])
def test_a_taken_http_or_metrics_port_is_one_line_naming_the_address(bundles, tmp_path, flag, setting):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        _refuses([flag, address], tmp_path, f"cannot listen on {address} ({setting}): the port is in use", bundles)
    assert "Errno" not in (tmp_path / "stderr").read_text()


def test_a_missing_token_file_is_named_by_its_flag(bundles, tmp_path):
    _refuses(["--auth-token-file", str(tmp_path / "nope")], tmp_path, f"--auth-token-file {tmp_path / 'nope'}: no such file",
             bundles)


def test_a_missing_bundle_is_told_before_anything_listens(tmp_path, bundles):
    _refuses(["--bundle", str(tmp_path / "no-bundle"), "--http-listen", "127.0.0.1:0"], tmp_path, "no bundle at", bundles)
    assert "listening" not in (tmp_path / "stderr").read_text()


def test_the_log_has_one_ready_line_and_no_colour_codes(bundles, processes):
    server = processes("--bundle", str(bundles["tiny"]), "--http-listen", "127.0.0.1:0")
    http_port = int(server.wait_for(r'"msg": "listening \(HTTP\)".*"address": "127\.0\.0\.1:(\d+)"'))
    assert httpapi.call(http_port, "GET", "/healthz", timeout=10).status == 200
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    assert "\\u001b" not in server.log() and "\x1b" not in server.log() and "color_message" not in server.log()
    ready = [e["msg"] for e in server.entries() if e["msg"].startswith("ready")]
    assert ready == [f"ready: open http://127.0.0.1:{http_port}/"]


# -- the Kubernetes probes fit these limits -----------------------------------------------------------


def test_the_kubernetes_probes_fit_the_servers_timeouts():
    from test_deploy import _server

    from khulasa_server.service import config

    _, pod, container = _server()
    env = {e["name"]: e["value"] for e in container["env"]}
    settings = config.load(container["args"], environ=env)
    ready, alive, startup = (container[p] for p in ("readinessProbe", "livenessProbe", "startupProbe"))
    # A probe gets an answer from threads of its own; its timeout leaves room for a pod whose
    # cores are all decoding (Kubernetes' default of 1 s does not), and one slow answer is no failure.
    for probe in (ready, alive, startup):
        assert probe.get("timeoutSeconds", 1) >= 3 and probe.get("failureThreshold", 3) >= 2, probe
    # On SIGTERM readiness must fail while the server still answers (--drain), so that the
    # endpoints drop the pod before it refuses calls.
    assert ready.get("periodSeconds", 10) * ready["failureThreshold"] < settings.drain
    assert alive["periodSeconds"] * alive["failureThreshold"] > ready["periodSeconds"] * ready["failureThreshold"]
