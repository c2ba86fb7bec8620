"""The synchronous client: deadlines on every call, retries with backoff and jitter on
UNAVAILABLE and RESOURCE_EXHAUSTED, several servers with failover, TLS and bearer tokens."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from khulasa.v1 import khulasa_pb2 as pb

from .connection import ClientBase, retry_wait
from .errors import ApiError


class Client(ClientBase):
    """Client("host:port") or Client(["a:50051", "b:50051"]). Keyword options: timeout
    (seconds, per call, retries included), token / token_file, tls, tls_ca, tls_cert, tls_key,
    tls_server_name, max_message_bytes, retry (RetryPolicy), metadata."""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    def _attempts(self, stubs: list, timeout: float | None) -> Iterator[tuple[Any, float]]:
        """(stub, seconds left) for each attempt; the caller reports failures with throw()."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        first = next(self._turn)
        for attempt in itertools.count():
            remaining = deadline - time.monotonic()
            error = yield stubs[(first + attempt) % len(stubs)], max(remaining, 0.001)
            if error is None:
                return
            wait = retry_wait(self.connection.retry, error.code, error.retry_after, attempt + 1, deadline - time.monotonic())
            if wait is None:
                raise error
            time.sleep(wait)

    def _unary(self, method: str, request, timeout: float | None, stubs: list | None = None):
        attempts = self._attempts(stubs or self._stubs, timeout)
        stub, remaining = next(attempts)
        while True:
            try:
                return getattr(stub, method)(request, timeout=remaining, metadata=self._metadata)
            except grpc.RpcError as exc:
                stub, remaining = attempts.send(ApiError.from_rpc_error(exc))

    def translate(self, texts: list[str], source_language: str = "", *, glossary: dict[str, str] | None = None,
                  timeout: float | None = None) -> pb.TranslateResponse:
        request = pb.TranslateRequest(texts=texts, source_language=source_language, glossary=glossary or {})
        return self._unary("Translate", request, timeout)

    def summarize(self, text: str, max_sentences: int = 0, source_language: str = "", summary_method: str = "", *,
                  glossary: dict[str, str] | None = None, timeout: float | None = None) -> pb.SummarizeResponse:
        request = pb.SummarizeRequest(text=text, max_sentences=max_sentences, source_language=source_language,
                                      summary_method=summary_method, glossary=glossary or {})
        return self._unary("Summarize", request, timeout)

    def digest(self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "", summary_method: str = "", *,
               glossary: dict[str, str] | None = None, timeout: float | None = None) -> pb.DigestResponse:
        request = pb.DigestRequest(id=id, text=text, max_sentences=max_sentences, source_language=source_language,
                                   summary_method=summary_method, glossary=glossary or {})
        return self._unary("Digest", request, timeout)

    def stream_digest(self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "", summary_method: str = "", *,
                      glossary: dict[str, str] | None = None, timeout: float | None = None) -> Iterator[pb.DigestEvent]:
        """Events as the server sends them. Retried only while nothing has arrived yet."""
        request = pb.DigestRequest(id=id, text=text, max_sentences=max_sentences, source_language=source_language,
                                   summary_method=summary_method, glossary=glossary or {})
        attempts = self._attempts(self._stubs, timeout)
        stub, remaining = next(attempts)
        while True:
            received = False
            try:
                for event in stub.StreamDigest(request, timeout=remaining, metadata=self._metadata):
                    received = True
                    yield event
                return
            except grpc.RpcError as exc:
                error = ApiError.from_rpc_error(exc)
                if received:
                    raise error from None
                stub, remaining = attempts.send(error)

    def digest_many(self, requests: Iterable[pb.DigestRequest], *, timeout: float | None = None) -> Iterator[pb.DigestResponse]:
        """One stream to one server (requests are consumed as sent, so it is not retried)."""
        stub = self._stubs[next(self._turn) % len(self._stubs)]
        try:
            yield from stub.DigestMany(iter(requests), timeout=self.timeout if timeout is None else timeout,
                                       metadata=self._metadata)
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None

    def model_info(self, *, timeout: float | None = None) -> pb.ModelInfo:
        return self._unary("GetModelInfo", pb.GetModelInfoRequest(), timeout)

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """SERVING, NOT_SERVING, or SERVICE_UNKNOWN (of the next server in turn)."""
        response = self._unary("Check", health_pb2.HealthCheckRequest(service=service), timeout, self._health)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
