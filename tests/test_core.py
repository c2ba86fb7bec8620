"""The core is what every front end calls: each of its operations is reachable over gRPC and over
HTTP (/v1) with the same errors for the same bad input, and nothing under it knows a wire format."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from httpapi import call, sse_events
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

from khulasa_server import core
from khulasa_server.core.service import Core
from khulasa_server.http.routes import ROUTES

CORE = Path(core.__file__).parent
# Imports that would tie the core to a wire format or a transport.
WIRE = {"grpc", "grpc_health", "grpc_reflection", "google", "khulasa", "starlette", "uvicorn", "http", "urllib",
        "requests", "httpx", "aiohttp", "fastapi", "socket", "ssl"}
# The adapters, which the core must not know (it is what they call).
ADAPTERS = {"app", "grpc", "http", "bulk", "tools", "convert"}
INFRASTRUCTURE = {"serve", "ready", "identify", "allows", "call"}  # Core's methods that are no operation
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
    assert operations - INFRASTRUCTURE == set(OPERATIONS), "a core operation without adapters, or an adapter without one"
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


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _adapters(path: Path) -> set[str]:
    """The khulasa_server adapter modules a core module imports relatively."""
    depth = len(path.relative_to(CORE).parts)  # core/x.py: ".." is khulasa_server
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == depth + 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found.update(name.split(".")[0] for name in names if name)
    return found & ADAPTERS


def test_the_core_imports_no_wire_format():
    files = sorted(CORE.rglob("*.py"))
    assert files
    for path in files:
        assert not _imports(path) & WIRE, f"{path.relative_to(CORE.parent)} imports {sorted(_imports(path) & WIRE)}"
        assert not _adapters(path), f"{path.relative_to(CORE.parent)} imports the adapters {sorted(_adapters(path))}"
