"""The Python client against real servers: TLS, mutual TLS, tokens, retries, failover, asyncio."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import threading

import pytest
from conftest import start_server
from khulasa.v1 import khulasa_pb2 as pb

from khulasa_client import ApiError, AsyncClient, Client, RetryPolicy
from khulasa_client.connection import Connection, retry_wait


def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=khulasa test CA", cwd=d)
    for name in ("server", "client"):
        _openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


@pytest.fixture(scope="session")
def secure_server(bundles, certs, tmp_path_factory):
    tokens = tmp_path_factory.mktemp("auth") / "tokens"
    tokens.write_text("# one token per line\nalpha-token\nbeta-token\n")
    server = start_server(bundles["tiny"], tls_cert=str(certs / "server.pem"), tls_key=str(certs / "server.key"),
                          auth_token_file=str(tokens))
    yield server, tokens
    server.stop(0)


def test_tls_and_token(secure_server, certs):
    server, _ = secure_server
    address = f"127.0.0.1:{server.port}"
    with Client(address, tls_ca=str(certs / "ca.pem"), token="beta-token", timeout=60) as c:
        assert c.digest("ارتفعت أسعار النفط.").translation
        assert c.health() == "SERVING"
    with Client(address, tls_ca=str(certs / "ca.pem"), timeout=30, retry=RetryPolicy(max_attempts=1)) as c:
        assert c.health() == "SERVING"  # probes need no token
        with pytest.raises(ApiError) as err:
            c.translate(["مرحبا"])
        assert err.value.code == "UNAUTHENTICATED"
    with Client(address, tls_ca=str(certs / "ca.pem"), token="wrong", timeout=30) as c:
        with pytest.raises(ApiError, match="UNAUTHENTICATED"):
            list(c.stream_digest("مرحبا"))
    with Client(address, timeout=5, retry=RetryPolicy(max_attempts=1)) as c:  # plaintext to a TLS port
        with pytest.raises(ApiError) as err:
            c.health()
        assert err.value.code == "UNAVAILABLE"


def test_token_file_reload(secure_server, certs):
    server, tokens = secure_server
    address = f"127.0.0.1:{server.port}"
    try:
        tokens.write_text("gamma-token\n")
        server.auth.reload()
        with Client(address, tls_ca=str(certs / "ca.pem"), token="gamma-token", timeout=30) as c:
            assert c.model_info().bundle_name == "tiny"
        with Client(address, tls_ca=str(certs / "ca.pem"), token="alpha-token", timeout=30) as c:
            with pytest.raises(ApiError, match="UNAUTHENTICATED"):
                c.model_info()
        tokens.write_text("")  # an empty file revokes every token (tests/test_stays_up.py)
        server.auth.reload()
        with Client(address, tls_ca=str(certs / "ca.pem"), token="gamma-token", timeout=30) as c:
            with pytest.raises(ApiError, match="UNAUTHENTICATED"):
                c.model_info()
    finally:
        tokens.write_text("alpha-token\nbeta-token\n")
        server.auth.reload()


def test_mutual_tls(bundles, certs):
    server = start_server(bundles["tiny"], tls_cert=str(certs / "server.pem"), tls_key=str(certs / "server.key"),
                          tls_client_ca=str(certs / "ca.pem"))
    try:
        address = f"127.0.0.1:{server.port}"
        with Client(address, tls_ca=str(certs / "ca.pem"), tls_cert=str(certs / "client.pem"),
                    tls_key=str(certs / "client.key"), timeout=30) as c:
            assert c.health() == "SERVING"
        with Client(address, tls_ca=str(certs / "ca.pem"), timeout=5, retry=RetryPolicy(max_attempts=1)) as c:
            with pytest.raises(ApiError, match="UNAVAILABLE"):
                c.health()
    finally:
        server.stop(0)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failover_to_the_next_server(server):
    with Client([f"127.0.0.1:{_closed_port()}", f"127.0.0.1:{server.port}"], timeout=30,
                retry=RetryPolicy(max_attempts=3, initial_backoff=0.01)) as c:
        for _ in range(4):  # whichever server comes first in turn, every call succeeds
            assert c.translate(["Hello"]).translations[0].text == "Hello"


def test_retries_until_the_server_is_ready(bundles):
    server = start_server(bundles["tiny"], load=False)
    loader = threading.Timer(0.5, server.load)
    loader.start()
    try:
        with Client(f"127.0.0.1:{server.port}", timeout=30,
                    retry=RetryPolicy(max_attempts=20, initial_backoff=0.05, max_backoff=0.2)) as c:
            assert c.digest("أعلنت الحكومة خطة جديدة.").translation  # UNAVAILABLE while loading, then OK
    finally:
        loader.join()
        server.stop(0)


def test_no_retry_on_client_errors_and_deadline_bounds_retries():
    policy = RetryPolicy(max_attempts=5, initial_backoff=1.0)
    assert retry_wait(policy, "INVALID_ARGUMENT", None, 1, 10.0) is None
    assert retry_wait(policy, "UNAVAILABLE", None, 5, 10.0) is None  # attempts spent
    assert retry_wait(policy, "RESOURCE_EXHAUSTED", 3.0, 1, 10.0) >= 3.0  # the server's hint is a floor
    assert retry_wait(policy, "RESOURCE_EXHAUSTED", 3.0, 1, 2.0) is None  # would pass the deadline
    waits = [policy.delay(3) for _ in range(200)]
    assert 0 <= min(waits) and max(waits) <= 5.0 and len(set(waits)) > 100  # jittered, capped


def test_async_client(server, seed_text):
    async def run():
        async with AsyncClient(f"127.0.0.1:{server.port}", timeout=60) as c:
            assert await c.health() == "SERVING"
            assert (await c.translate(["Hello"])).translations[0].text == "Hello"
            digest, events = await asyncio.gather(c.digest(seed_text), _collect(c.stream_digest(seed_text)))
            assert [e.paragraph.translation for e in events[:11]] == [p.translation for p in digest.paragraphs]
            requests = [pb.DigestRequest(id=str(i), text="قال الوزير.") for i in range(3)]
            ids = sorted([r.id async for r in c.digest_many(requests)])
            assert ids == ["0", "1", "2"]
            with pytest.raises(ApiError, match="INVALID_ARGUMENT"):
                await c.summarize(" ")

    asyncio.run(run())


async def _collect(stream):
    return [e async for e in stream]


def test_warns_when_exposed_without_tls_and_auth(bundles, caplog):
    with caplog.at_level(logging.WARNING, logger="khulasa.server"):
        server = start_server(bundles["tiny"], load=False, listen="0.0.0.0:0")
        server.stop(0)
    assert "WITHOUT TLS AND TOKEN AUTH" in caplog.text


def test_one_target_with_several_addresses_is_balanced_round_robin(server, llm_server):
    target = f"ipv4:127.0.0.1:{server.port},127.0.0.1:{llm_server.port}"  # as dns:/// yields for several A records
    assert Connection.make(target).targets == (target,)  # one balanced name, not two servers in turn
    with Client(target, timeout=30) as c:
        seen = {c.model_info().bundle_name for _ in range(8)}
    assert seen == {"tiny", "tiny-llm"}


# -- Client and AsyncClient: one core, the same cases ----------------------------------------

CALLS = ["translate", "summarize", "digest", "stream_digest", "digest_many", "model_info", "health"]


def test_both_clients_offer_the_same_calls():
    import inspect

    for name in CALLS:
        assert inspect.signature(getattr(Client, name)) == inspect.signature(getattr(AsyncClient, name)), name


def _call(kind: str, target: str, method: str, *args, options: dict | None = None, **kwargs):
    """`method` called on a Client or an AsyncClient with the same arguments; streams collected."""
    options = {"timeout": 60, **(options or {})}
    if kind == "sync":
        with Client(target, **options) as c:
            result = getattr(c, method)(*args, **kwargs)
            return list(result) if hasattr(result, "__next__") else result

    async def run():
        async with AsyncClient(target, **options) as c:
            result = getattr(c, method)(*args, **kwargs)
            return [x async for x in result] if hasattr(result, "__aiter__") else await result

    return asyncio.run(run())


ARABIC = "قال الوزير إن الاقتصاد ينمو."


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("method, args", [("translate", ([ARABIC],)), ("summarize", (ARABIC,)), ("digest", (ARABIC,)),
                                          ("stream_digest", (ARABIC,))])
def test_glossary_goes_with_every_call(server, kind, method, args):
    target = f"127.0.0.1:{server.port}"
    with pytest.raises(ApiError) as err:  # a glossary the server refuses proves it was sent
        _call(kind, target, method, *args, glossary={"الوزير": " "})
    assert err.value.code == "INVALID_ARGUMENT" and "glossary" in err.value.message
    result = _call(kind, target, method, *args, glossary={"الوزير": "the Minister"})
    if method in ("translate", "digest", "stream_digest"):  # the term is checked in the English
        segments = (result.translations[0].segments if method == "translate" else result.paragraphs[0].segments
                    if method == "digest" else result[0].paragraph.segments)
        assert "missing_term:الوزير" in [w for s in segments for w in s.warnings]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_stream_digest_retries_until_the_first_message(bundles, kind):
    server = start_server(bundles["tiny"], load=False)
    loader = threading.Timer(0.5, server.load)
    loader.start()
    try:
        events = _call(kind, f"127.0.0.1:{server.port}", "stream_digest", ARABIC,
                       options={"timeout": 30, "retry": RetryPolicy(max_attempts=20, initial_backoff=0.05, max_backoff=0.2)})
        assert [e.WhichOneof("event") for e in events][-2:] == ["summary", "done"]  # UNAVAILABLE while loading, then OK
    finally:
        loader.join()
        server.stop(0)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_digest_many_reports_codes_by_name(server, kind):
    requests = [pb.DigestRequest(id="ok", text=ARABIC), pb.DigestRequest(id="bad", text=" ")]
    results = {r.id: r for r in _call(kind, f"127.0.0.1:{server.port}", "digest_many", requests)}
    assert results["ok"].error is None and results["ok"].translation and results["ok"].response.id == "ok"
    error = results["bad"].error
    assert (error.code, error.id, error.message) == ("INVALID_ARGUMENT", "bad", "text is empty")
    assert _call(kind, f"127.0.0.1:{server.port}", "health") == "SERVING"


def test_a_cancelled_status_from_a_stopping_server_is_retried():
    """A server that stops while a call waits for a handler answers CANCELLED (gRPC core); the
    call is idempotent, so the client sends it again rather than failing its caller."""
    from concurrent import futures

    import grpc
    from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

    calls = []

    class Stopping(pb_grpc.NewsDigestServicer):
        def Digest(self, request, context):
            calls.append(request.id)
            if len(calls) == 1:
                context.abort(grpc.StatusCode.CANCELLED, "Server Shutdown")
            return pb.DigestResponse(id=request.id, translation="ok")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_NewsDigestServicer_to_server(Stopping(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with Client(f"127.0.0.1:{port}", timeout=10, retry=RetryPolicy(initial_backoff=0.01)) as c:
            assert c.digest("نص.", id="x").translation == "ok"
        assert calls == ["x", "x"]
    finally:
        server.stop(0)
