"""The calls of Client over the server's HTTP API (--http-listen: /v1 in protobuf's JSON
mapping, the streamed digest as server-sent events), for a --server given as http://HOST:PORT:
the same messages in and out, so the CLI renders them alike. Standard library only. One
server, one attempt per call; a stream's idle timeout is the socket's read timeout."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from khulasa.v1 import khulasa_pb2 as pb

from .connection import DEFAULT_MAX_MESSAGE_BYTES
from .core import DigestResult, digest_request, idle_error, summarize_request, translate_request
from .errors import ApiError

_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "UNIMPLEMENTED"}
_STATUS |= {413: "RESOURCE_EXHAUSTED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_CODES = {code.name: code.value[0] for code in grpc.StatusCode}


def is_http(target: str) -> bool:
    return target.strip().lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class _Limits:
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES


class HttpClient:
    """HttpClient("http://host:8080", timeout=..., token=..., token_file=..., tls_ca=...)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 300.0,
        token: str | None = None,
        token_file: str | None = None,
        tls_ca: str | None = None,
        **_: Any,
    ):
        self.base = url.strip().rstrip("/")
        self.timeout = timeout
        if token_file:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.context = ssl.create_default_context(cafile=tls_ca) if tls_ca else None
        self.connection = _Limits()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        pass

    def _open(self, path: str, body: dict | None, timeout: float | None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method="POST" if data else "GET")
        try:
            return urllib.request.urlopen(request, timeout=timeout or self.timeout, context=self.context)
        except urllib.error.HTTPError as exc:
            try:
                answer = json.loads(exc.read())
            except ValueError:
                answer = {}
            code = answer.get("code") or _STATUS.get(exc.code, "UNKNOWN")
            raise ApiError(code, answer.get("error") or f"HTTP {exc.code} {exc.reason}") from None
        except http.client.HTTPException:  # not HTTP at all: the gRPC port, most likely
            raise ApiError(
                "UNAVAILABLE",
                f"{self.base} does not answer HTTP: if it is the server's gRPC port (--listen), give it without http://",
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise ApiError("DEADLINE_EXCEEDED", f"no answer within {timeout or self.timeout:g} s") from None
            raise ApiError("UNAVAILABLE", f"cannot reach {self.base}: {reason}") from None

    def _call(self, path: str, request, answer_type, timeout: float | None = None):
        body = json_format.MessageToDict(request) if request is not None else None
        with self._open(path, body, timeout) as response:
            return json_format.ParseDict(json.loads(response.read()), answer_type(), ignore_unknown_fields=True)

    # -- the calls, as Client has them ---------------------------------------------------

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        try:
            with self._open("/readyz", None, timeout) as response:
                return json.loads(response.read())["status"]
        except ApiError as exc:
            if exc.message.startswith("HTTP 503"):  # /readyz while the models load or at shutdown
                return "NOT_SERVING"
            raise

    def model_info(self, *, timeout: float | None = None):
        return self._call("/v1/model-info", pb.GetModelInfoRequest(), pb.ModelInfo, timeout)

    def translate(self, texts: list[str], source_language: str = "", *, glossary=None, timeout: float | None = None):
        request = translate_request(texts, source_language=source_language, glossary=glossary)
        return self._call("/v1/translate", request, pb.TranslateResponse, timeout)

    def summarize(self, text: str, max_sentences: int = 0, source_language: str = "", summary_method: str = "", **kw):
        request = summarize_request(text, max_sentences, source_language, summary_method, kw.get("glossary"))
        return self._call("/v1/summarize", request, pb.SummarizeResponse, kw.get("timeout"))

    def digest(self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "", summary_method: str = "", **kw):
        request = digest_request(text, id, max_sentences, source_language, summary_method, kw.get("glossary"))
        return self._call("/v1/digest", request, pb.DigestResponse, kw.get("timeout"))

    def stream_digest(
        self,
        text: str,
        id: str = "",
        max_sentences: int = 0,
        source_language: str = "",
        summary_method: str = "",
        *,
        glossary=None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
    ) -> Iterator[pb.DigestEvent]:
        """POST /v1/digest/stream: each server-sent event as a DigestEvent."""
        request = digest_request(text, id, max_sentences, source_language, summary_method, glossary)
        wait = idle_timeout or timeout
        with self._open("/v1/digest/stream", json_format.MessageToDict(request), wait) as response:
            kind, data = "", ""
            while True:
                try:
                    line = response.readline()
                except TimeoutError:
                    raise idle_error(wait or self.timeout) from None
                if not line:
                    return
                text_line = line.decode("utf-8").rstrip("\n")
                if text_line.startswith("event: "):
                    kind = text_line[7:]
                elif text_line.startswith("data: "):
                    data = text_line[6:]
                elif not text_line and kind:
                    body = json.loads(data)
                    if kind == "error":
                        raise ApiError(body.get("code") or "UNKNOWN", body.get("error", ""))
                    yield json_format.ParseDict(body, pb.DigestEvent(), ignore_unknown_fields=True)
                    kind, data = "", ""

    def digest_many(self, requests: Iterable[pb.DigestRequest], *, timeout: float | None = None) -> Iterator[DigestResult]:
        """One /v1/digest call after another: HTTP has no DigestMany."""
        for request in requests:
            try:
                response = self._call("/v1/digest", request, pb.DigestResponse, timeout)
                if not response.id:
                    response.id = request.id
            except ApiError as exc:
                if exc.code in ("UNAVAILABLE", "UNAUTHENTICATED", "PERMISSION_DENIED"):
                    raise
                response = pb.DigestResponse(id=request.id, error=pb.Error(code=_CODES.get(exc.code, 2), message=exc.message))
            yield DigestResult(response)
