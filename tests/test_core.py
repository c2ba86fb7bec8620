"""The core is what every front end calls: each of its operations is reachable over gRPC and over
HTTP (/v1) with the same errors for the same bad input, and nothing under it knows a wire format."""

from __future__ import annotations

import ast
import inspect
import logging
import re
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from httpapi import call, sse_events
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc
from prometheus_client import REGISTRY

from khulasa_server import service as core
from khulasa_server.http.routes import ROUTES
from khulasa_server.logs import _STANDARD
from khulasa_server.service.core import Core

CORE = Path(core.__file__).parent
# Imports that would tie the core to a wire format or a transport.
WIRE = {"grpc", "grpc_health", "grpc_reflection", "google", "khulasa", "starlette", "uvicorn", "http", "urllib",
        "requests", "httpx", "aiohttp", "fastapi", "socket", "ssl"}
INFRASTRUCTURE = {"serve", "ready", "identify", "allows", "call"}  # Core's methods that are no operation
# What LibreTranslate's API asks beyond the RPCs (its languages, detection, a page's text nodes).
LIBRETRANSLATE = {"check_texts", "languages", "languages_of", "detect"}
# Each core operation: its RPC, its /v1 route, and a request each front end must refuse alike.
OPERATIONS = {
    "translate": ("Translate", "/v1/translate", [pb.TranslateRequest(), pb.TranslateRequest(texts=["x"], source_language="xx")]),
    "summarize": ("Summarize", "/v1/summarize", [pb.SummarizeRequest(text=" "), pb.SummarizeRequest(text="x", max_sentences=99)]),
    "digest": ("Digest", "/v1/digest", [pb.DigestRequest(text="x", summary_method="abstract"),
                                        pb.DigestRequest(text="x", glossary={"\u200b": "nothing"})]),
    "stream_digest": ("StreamDigest", "/v1/digest/stream", [pb.DigestRequest(text="x" * 20_001),
                                                            pb.DigestRequest(text="x", max_sentences=-1)]),
    "model_info": ("GetModelInfo", "/v1/model-info", []),
}


def test_every_operation_has_an_rpc_and_a_route():
    operations = {name for name, _ in inspect.getmembers(Core, inspect.isfunction) if not name.startswith("_")}
    assert operations - INFRASTRUCTURE - LIBRETRANSLATE == set(OPERATIONS), "a core operation without adapters, or an adapter without one"
    libretranslate = (CORE.parent / "http" / "libretranslate.py").read_text(encoding="utf-8")
    for name in LIBRETRANSLATE:
        assert re.search(rf"\bcore\.{name}\(", libretranslate), f"Core.{name} is LibreTranslate's, which does not call it"
    rpcs = set(pb.DESCRIPTOR.services_by_name["NewsDigest"].methods_by_name)
    paths = {getattr(r, "path", "") for r in ROUTES}
    for name, (rpc, path, _) in OPERATIONS.items():
        assert rpc in rpcs, name
        assert path in paths, name


def _grpc_error(stub, rpc: str, request) -> tuple[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        answer = getattr(stub, rpc)(request, timeout=60)
        if rpc == "StreamDigest":
            list(answer)  # a stream fails when read
    return info.value.code().name, info.value.details()


def _http_error(port: int, path: str, request) -> tuple[str, str, int]:
    reply = call(port, "POST", path, json=json_format.MessageToDict(request))
    assert isinstance(reply.body, dict), reply.body
    return reply.body["code"], reply.body["error"], reply.status


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_the_same_error_over_grpc_and_http(server, operation):
    rpc, path, bad = OPERATIONS[operation]
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.NewsDigestStub(channel)
        for request in bad:
            code, message = _grpc_error(stub, rpc, request)
            http_code, http_message, status = _http_error(server.http.port, path, request)
            assert (http_code, http_message) == (code, message), request
            assert status == 400 and code == "INVALID_ARGUMENT"


def test_every_operation_answers_the_same_over_grpc_and_http(server, seed_text):
    article = seed_text[:400]
    good = {
        "translate": pb.TranslateRequest(texts=[article]),
        "summarize": pb.SummarizeRequest(text=article, summary_method="extractive"),
        "digest": pb.DigestRequest(id="a", text=article, summary_method="extractive"),
        "stream_digest": pb.DigestRequest(id="a", text=article, summary_method="extractive"),
        "model_info": pb.GetModelInfoRequest(),
    }
    assert set(good) == set(OPERATIONS)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.NewsDigestStub(channel)
        for operation, request in good.items():
            rpc, path, _ = OPERATIONS[operation]
            reply = call(server.http.port, "POST", path, json=json_format.MessageToDict(request))
            assert reply.status == 200, (operation, reply.body)
            if operation == "stream_digest":
                events = [m.WhichOneof("event") for m in stub.StreamDigest(request, timeout=60)]
                assert [kind for kind, _ in sse_events(reply.body)] == events
                continue
            answer = getattr(stub, rpc)(request, timeout=60)
            over_http = json_format.ParseDict(reply.body, type(answer)())
            for message in (answer, over_http):  # times differ from call to call
                if "timings" in message.DESCRIPTOR.fields_by_name:
                    message.ClearField("timings")
            assert over_http == answer, operation


# The keys of every call's one log line (service/calls.py), and those only HTTP's line adds.
LINE = {"front", "rpc", "request_id", "code", "ms"}
HTTP_KEYS = {"method", "route", "status"}
CALLS = {  # the same call over each front end: (RPC, /v1 route, request, code)
    "ok": ("Digest", "/v1/digest", pb.DigestRequest(id="a", text="قال الوزير إن المحادثات مستمرة.", summary_method="extractive"), "OK"),
    "refused": ("Digest", "/v1/digest", pb.DigestRequest(text=" "), "INVALID_ARGUMENT"),
    "stream": ("StreamDigest", "/v1/digest/stream", pb.DigestRequest(id="s", text="قال الوزير إن المحادثات مستمرة."), "OK"),
}


def _count(front: str, rpc: str, code: str) -> float:
    return REGISTRY.get_sample_value("khulasa_requests_total", {"front": front, "rpc": rpc, "code": code}) or 0.0


def _lines(caplog, request_id: str) -> list[dict]:
    """The fields of the log records of one request, once its call has ended (HTTP ends it
    after the answer's body is out, which the client may see first)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
        if lines or time.monotonic() > deadline:
            return [{"msg": r.getMessage(), **{k: v for k, v in vars(r).items() if k not in _STANDARD}} for r in lines]
        time.sleep(0.05)


@pytest.mark.parametrize("case", sorted(CALLS))
def test_one_log_line_and_one_count_per_call_over_grpc_and_http(server, caplog, case):
    rpc, path, request, code = CALLS[case]
    before = {front: _count(front, rpc, code) for front in ("grpc", "http")}
    with caplog.at_level(logging.INFO, logger="khulasa"):
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            metadata = (("x-request-id", f"shape-grpc-{case}"),)
            try:
                answer = getattr(pb_grpc.NewsDigestStub(channel), rpc)(request, timeout=60, metadata=metadata)
                if rpc == "StreamDigest":
                    list(answer)
            except grpc.RpcError as exc:
                assert exc.code().name == code
        reply = call(server.http.port, "POST", path, json=json_format.MessageToDict(request),
                     headers={"X-Request-Id": f"shape-http-{case}"})
        assert reply.status == (200 if code == "OK" else 400)
        over_grpc, over_http = _lines(caplog, f"shape-grpc-{case}"), _lines(caplog, f"shape-http-{case}")
    assert len(over_grpc) == 1 and len(over_http) == 1, (over_grpc, over_http)  # one line per call, however it went
    (grpc_line,), (http_line,) = over_grpc, over_http
    # The same keys, HTTP's own aside (other libraries, Ray's logging among them, may add some to every record).
    assert LINE <= set(grpc_line) and set(http_line) - set(grpc_line) == HTTP_KEYS and set(grpc_line) <= set(http_line)
    shared = ("msg", "rpc", "code")
    assert [grpc_line[k] for k in shared] == [http_line[k] for k in shared] == ["rpc", rpc, code]
    assert (grpc_line["front"], http_line["front"], http_line["route"]) == ("grpc", "http", path)
    assert {front: _count(front, rpc, code) - before[front] for front in before} == {"grpc": 1, "http": 1}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found



def test_the_core_imports_no_wire_format():
    files = sorted(CORE.rglob("*.py"))
    assert files
    for path in files:
        assert not _imports(path) & WIRE, f"{path.relative_to(CORE.parent)} imports {sorted(_imports(path) & WIRE)}"


def test_a_call_ends_once_and_gives_its_slot_back(caplog):
    """A stream can end by its last message and by its client leaving at once: one line, one count."""
    from khulasa_server.errors import TooManyInFlight
    from khulasa_server.service.calls import Call
    from khulasa_server.service.inflight import InFlight

    in_flight = InFlight(1)
    call = Call(in_flight, "bulk", "Digest", "ends-once", timeout=60)
    call.enter("client:a")
    with pytest.raises(TooManyInFlight):
        in_flight.enter("client:a")
    before = _count("bulk", "Digest", "CANCELLED")
    with caplog.at_level(logging.INFO, logger="khulasa"):
        call.end("CANCELLED")
        call.end("OK")
    assert [r.code for r in caplog.records if getattr(r, "request_id", None) == "ends-once"] == ["CANCELLED"]
    assert _count("bulk", "Digest", "CANCELLED") == before + 1
    in_flight.enter("client:a")()  # the slot was given back
