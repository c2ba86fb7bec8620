"""ApiError: a failed call, with what the server said about it."""

from __future__ import annotations

from typing import Any

import grpc


class ApiError(Exception):
    """code: the gRPC status name; message: the server's text; request_id: the server's id for
    the call (quote it in a bug report); fields: field → problem, for INVALID_ARGUMENT;
    retry_after: seconds the server asked the client to wait, if it did; id: the item's id,
    for an item of digest_many."""

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str = "",
        fields: dict[str, str] | None = None,
        retry_after: float | None = None,
        id: str = "",
    ):
        super().__init__(f"{code}: {message}")
        self.id = id
        self.code = code
        self.message = message
        self.request_id = request_id
        self.fields = fields or {}
        self.retry_after = retry_after

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> ApiError:
        code = error.code().name if error.code() else "UNKNOWN"
        # Each item is a (key, value) namedtuple; the stubs know it only by its attributes.
        metadata: dict[str, Any] = dict(error.trailing_metadata() or ())  # type: ignore[arg-type]
        fields, retry_after = _details(metadata.get("grpc-status-details-bin"))
        return cls(code, error.details() or "", str(metadata.get("x-request-id", "")), fields, retry_after)


def _details(raw: bytes | None) -> tuple[dict[str, str], float | None]:
    if not raw:
        return {}, None
    try:
        from google.rpc import error_details_pb2, status_pb2
    except ImportError:  # googleapis-common-protos absent: the message still says it all
        return {}, None
    fields: dict[str, str] = {}
    retry_after = None
    for detail in status_pb2.Status.FromString(raw).details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.update({v.field: v.description for v in bad.field_violations})
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            retry_after = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return fields, retry_after


# What gRPC says when the address is the server's HTTP port (HTTP/1.1 answered the HTTP/2
# preface: the first byte of "HTTP/1.1" is frame type 80), or a URL given as a host name.
_HTTP_SIGNS = ("frame type 80", "http1.x server", "Misformatted domain name")


def http_port_hint(error: ApiError, server: str) -> str:
    """A line for a person when a gRPC call reached an HTTP port; "" otherwise."""
    if error.code != "UNAVAILABLE" or not any(sign in error.message for sign in _HTTP_SIGNS):
        return ""
    return (
        f"{server} answers HTTP, not gRPC: it is the server's HTTP port (--http-listen). Give its gRPC "
        f"address (--listen, port 50051 by default), or give this one as http://{server.split('://')[-1]} to use the HTTP API"
    )
