"""A thin, typed wrapper over the generated stubs: deadlines on every call, errors as ApiError."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

DEFAULT_SERVER = "127.0.0.1:50051"
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class ApiError(Exception):
    """A failed call: the gRPC status code name, the server's message, and its request id."""

    def __init__(self, code: str, message: str, request_id: str = "", fields: dict[str, str] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.fields = fields or {}

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "ApiError":
        code = error.code().name if error.code() else "UNKNOWN"
        metadata = dict(error.trailing_metadata() or ())
        fields: dict[str, str] = {}
        raw = metadata.get("grpc-status-details-bin")
        if raw:
            fields = _field_violations(raw)
        return cls(code, error.details() or "", str(metadata.get("x-request-id", "")), fields)


def _field_violations(raw: bytes) -> dict[str, str]:
    try:
        from google.rpc import error_details_pb2, status_pb2
    except ImportError:  # googleapis-common-protos not installed: no details
        return {}
    status = status_pb2.Status.FromString(raw)
    fields = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.update({v.field: v.description for v in bad.field_violations})
    return fields


class Client:
    """Client(target) for one server. Every call takes timeout= (seconds), defaulting to the
    client's; streams yield messages as they arrive."""

    def __init__(
        self,
        target: str = DEFAULT_SERVER,
        *,
        timeout: float = 300.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        metadata: Iterable[tuple[str, str]] = (),
    ):
        options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        self.target = target
        self.timeout = timeout
        self._metadata = tuple(metadata)
        self._channel = grpc.insecure_channel(target, options=options)
        self._stub = pb_grpc.NewsDigestStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _kwargs(self, timeout: float | None) -> dict[str, Any]:
        return {"timeout": self.timeout if timeout is None else timeout, "metadata": self._metadata}

    def _unary(self, method, request, timeout: float | None):
        try:
            return method(request, **self._kwargs(timeout))
        except grpc.RpcError as error:
            raise ApiError.from_rpc_error(error) from None

    def _stream(self, method, request, timeout: float | None) -> Iterator:
        try:
            yield from method(request, **self._kwargs(timeout))
        except grpc.RpcError as error:
            raise ApiError.from_rpc_error(error) from None

    def translate(self, texts: list[str], source_language: str = "", *, timeout: float | None = None) -> pb.TranslateResponse:
        return self._unary(self._stub.Translate, pb.TranslateRequest(texts=texts, source_language=source_language), timeout)

    def summarize(
        self, text: str, max_sentences: int = 0, source_language: str = "", summary_method: str = "", *, timeout: float | None = None
    ) -> pb.SummarizeResponse:
        request = pb.SummarizeRequest(
            text=text, max_sentences=max_sentences, source_language=source_language, summary_method=summary_method
        )
        return self._unary(self._stub.Summarize, request, timeout)

    def digest(
        self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "", summary_method: str = "", *, timeout: float | None = None
    ) -> pb.DigestResponse:
        request = pb.DigestRequest(
            id=id, text=text, max_sentences=max_sentences, source_language=source_language, summary_method=summary_method
        )
        return self._unary(self._stub.Digest, request, timeout)

    def stream_digest(
        self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "", summary_method: str = "", *, timeout: float | None = None
    ) -> Iterator[pb.DigestEvent]:
        request = pb.DigestRequest(
            id=id, text=text, max_sentences=max_sentences, source_language=source_language, summary_method=summary_method
        )
        return self._stream(self._stub.StreamDigest, request, timeout)

    def digest_many(self, requests: Iterable[pb.DigestRequest], *, timeout: float | None = None) -> Iterator[pb.DigestResponse]:
        return self._stream(self._stub.DigestMany, iter(requests), timeout)

    def model_info(self, *, timeout: float | None = None) -> pb.ModelInfo:
        return self._unary(self._stub.GetModelInfo, pb.GetModelInfoRequest(), timeout)

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """SERVING, NOT_SERVING, or SERVICE_UNKNOWN."""
        response = self._unary(self._health.Check, health_pb2.HealthCheckRequest(service=service), timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
