"""What every NewsDigest RPC needs besides its own work, as gRPC server interceptors. In the
order the server installs them (outermost first):

  Observe      a request id (the x-request-id trailer), the request's scope (deadline,
               cancellation), any exception → a status with details, the response size
               limit, and one log line and metric per call with the code the client got
  TokenAuth    bearer tokens (security.py); records the caller's identity
  ClientLimit  calls in flight per client: its token as matched, else its IP address
  Decode       requests parsed leniently (wire.py): a refused unary request stops here

so that service.py holds only RPC methods, each one line over the core (core/service.py).
What the HTTP front end shares with these (request ids, the error description, the per-client
count, auth by token) is the core's; this module maps it to gRPC.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from khulasa.v1 import khulasa_pb2 as pb

from .. import metrics
from ..core.limits import InFlight, once
from ..core.service import describe, request_id
from ..errors import KhulasaError, ResourceExhausted
from ..scope import RequestScope, current
from . import wire

log = logging.getLogger("khulasa.rpc")
SERVICE = pb.DESCRIPTOR.services_by_name["NewsDigest"]
PREFIX = f"/{SERVICE.full_name}/"
MESSAGE_LIMIT = 1000  # characters of a status message: gRPC's metadata limit is a few kB
# The authenticated caller ("token:<hash>"), set by TokenAuth for the calls it lets through.
CALLER: contextvars.ContextVar[str | None] = contextvars.ContextVar("khulasa_caller", default=None)

_FACTORIES = {
    (False, False): ("unary_unary", grpc.unary_unary_rpc_method_handler),
    (False, True): ("unary_stream", grpc.unary_stream_rpc_method_handler),
    (True, False): ("stream_unary", grpc.stream_unary_rpc_method_handler),
    (True, True): ("stream_stream", grpc.stream_stream_rpc_method_handler),
}


def rewrap(
    handler: grpc.RpcMethodHandler, wrap: Callable[[Callable, bool], Callable], request_deserializer: Callable | None = None
) -> grpc.RpcMethodHandler:
    """The handler with its behavior replaced by wrap(behavior, response_streaming)."""
    attr, make = _FACTORIES[(handler.request_streaming, handler.response_streaming)]
    return make(
        wrap(getattr(handler, attr), handler.response_streaming),
        request_deserializer=request_deserializer or handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class _NewsDigestInterceptor(grpc.ServerInterceptor):
    """Changes the handlers of NewsDigest RPCs only (handle); health and reflection pass."""

    def intercept_service(self, continuation, details):
        handler = continuation(details)
        if handler is None or not details.method.startswith(PREFIX):
            return handler
        return self.handle(handler, details.method[len(PREFIX) :])

    def handle(self, handler: grpc.RpcMethodHandler, rpc: str) -> grpc.RpcMethodHandler:
        raise NotImplementedError


# -- errors → statuses ------------------------------------------------------------------------


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class _Status(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: tuple):
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


def status(error: KhulasaError, request_id: str) -> grpc.Status:
    """A gRPC status for error, with google.rpc details: BadRequest for a field, RetryInfo and
    QuotaFailure for a limit that waiting lifts."""
    code = grpc.StatusCode[error.code]
    message = error.message if len(error.message) <= MESSAGE_LIMIT else error.message[:MESSAGE_LIMIT] + "…"
    details = []
    if error.field:
        violation = error_details_pb2.BadRequest.FieldViolation(field=error.field, description=message)
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
    if error.retry_after is not None:
        delay = duration_pb2.Duration(seconds=int(error.retry_after), nanos=int((error.retry_after % 1) * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
        violation = error_details_pb2.QuotaFailure.Violation(subject=error.subject or "", description=message)
        details.append(_pack(error_details_pb2.QuotaFailure(violations=[violation])))
    rich = status_pb2.Status(code=code.value[0], message=message, details=details)
    metadata = (("x-request-id", request_id), ("grpc-status-details-bin", rich.SerializeToString()))
    return _Status(code, message, metadata)


# -- Observe ------------------------------------------------------------------------------------


def _request_id(context: grpc.ServicerContext) -> str:
    asked = next((value for key, value in context.invocation_metadata() or () if key == "x-request-id"), None)
    return request_id(asked)


class _Call:
    """One RPC as Observe sees it: its id, scope and start, and the one line it logs."""

    def __init__(self, rpc: str, context: grpc.ServicerContext):
        self.rpc, self.context = rpc, context
        self.request_id = _request_id(context)
        self.start = time.perf_counter()
        remaining = context.time_remaining()
        deadline = time.monotonic() + remaining if remaining is not None and remaining < 1e8 else None
        self.scope = RequestScope(deadline, context.is_active, self.request_id)
        self.finish = once(self._finish)
        self.code = "OK"
        context.set_trailing_metadata((("x-request-id", self.request_id),))

    def got(self, code: str) -> str:
        """The code the client actually gets: ours while it is still there; once it has gone,
        DEADLINE_EXCEEDED if the deadline passed (gRPC ended the call), else CANCELLED."""
        if self.context.is_active():
            return code
        return "DEADLINE_EXCEEDED" if self.scope.expired(slack=0.05) else "CANCELLED"

    def end(self, code: str) -> None:
        self.code = code
        self.finish()

    def _finish(self) -> None:
        seconds = time.perf_counter() - self.start
        metrics.REQUESTS.labels(rpc=self.rpc, code=self.code).inc()
        metrics.LATENCY.labels(rpc=self.rpc).observe(seconds)
        log.info("rpc", extra={"rpc": self.rpc, "request_id": self.request_id, "code": self.code, "ms": round(seconds * 1000, 1)})


class Observe(_NewsDigestInterceptor):
    def __init__(self, max_message_bytes: int):
        self.limit = max_message_bytes

    def handle(self, handler, rpc):
        return rewrap(handler, lambda behavior, streaming: (self._stream if streaming else self._unary)(rpc, behavior))

    def _sized(self, rpc: str, response):
        size = response.ByteSize()
        if size > self.limit:  # gRPC would fail the send after we had logged OK
            raise ResourceExhausted(f"the {rpc} response is {size} bytes; the limit is {self.limit} (max_message_bytes)")
        return response

    def _fail(self, call: _Call, context: grpc.ServicerContext, exc: BaseException) -> None:
        error = describe(exc, call.request_id)
        call.end(call.got(error.code))
        context.abort_with_status(status(error, call.request_id))  # raises; a no-op for a client gone

    def _unary(self, rpc: str, behavior: Callable) -> Callable:
        def observed(request, context):
            call = _Call(rpc, context)

            def run():
                current.set(call.scope)
                try:
                    response = self._sized(rpc, behavior(request, context))
                except Exception as exc:  # every failure becomes a status; the server keeps serving
                    self._fail(call, context, exc)
                call.end(call.got("OK"))
                return response

            # A fresh context per call: the scope (and the caller's identity) cannot leak into
            # the next call this thread serves.
            return contextvars.copy_context().run(run)

        return observed

    def _stream(self, rpc: str, behavior: Callable) -> Callable:
        def observed(request, context):
            call = _Call(rpc, context)
            scoped = contextvars.copy_context()
            scoped.run(current.set, call.scope)
            # A client that leaves while the stream waits at a yield is never seen by the code
            # below: gRPC just stops asking for messages. The callback accounts for it.
            context.add_callback(lambda: call.end(call.got("CANCELLED")))

            def stream():
                try:
                    responses = scoped.run(behavior, request, context)
                    while True:
                        try:
                            response = scoped.run(next, responses)
                        except StopIteration:
                            break
                        yield self._sized(rpc, response)
                except Exception as exc:
                    self._fail(call, context, exc)
                call.end(call.got("OK"))

            return stream()

        return observed


# -- ClientLimit --------------------------------------------------------------------------------


def peer_address(peer: str) -> str:
    """'ipv4:127.0.0.1:53412' → 'ipv4:127.0.0.1'; 'ipv6:[::1]:53412' → 'ipv6:[::1]'."""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6") and ":" in rest:
        return f"{kind}:{rest.rsplit(':', 1)[0]}"
    return peer


class ClientLimit(_NewsDigestInterceptor):
    """The core's per-client count (core/limits.py) around every RPC. A client is its token as
    TokenAuth matched it, or its IP address when the server has no auth. A stream's slot is
    given back when the call ends, however it ends."""

    def __init__(self, in_flight: InFlight):
        self.enter = in_flight.enter

    @staticmethod
    def client(context: grpc.ServicerContext) -> str:
        return CALLER.get() or peer_address(context.peer())

    def handle(self, handler, rpc):
        return rewrap(handler, self._wrap)

    def _wrap(self, behavior: Callable, streaming: bool) -> Callable:
        if not streaming:

            def limited(request, context):
                leave = self.enter(self.client(context))
                try:
                    return behavior(request, context)
                finally:
                    leave()

            return limited

        def limited_stream(request, context):
            leave = self.enter(self.client(context))
            context.add_callback(leave)
            try:
                yield from behavior(request, context)
            finally:
                leave()

        return limited_stream


# -- Decode -------------------------------------------------------------------------------------


class Decode(_NewsDigestInterceptor):
    """Requests parsed by wire.deserializer. A unary request that is refused (bad UTF-8, over
    max_message_bytes, not a message) gets its status here; DigestMany answers a refused item
    as one failed item and goes on."""

    def __init__(self, max_message_bytes: int):
        self.limit = max_message_bytes

    def handle(self, handler, rpc):
        method = SERVICE.methods_by_name[rpc]
        deserialize = wire.deserializer(getattr(pb, method.input_type.name), self.limit)
        if handler.request_streaming:
            return rewrap(handler, lambda behavior, streaming: behavior, deserialize)
        return rewrap(handler, self._refuse, deserialize)

    @staticmethod
    def _refuse(behavior: Callable, streaming: bool) -> Callable:
        def checked(request, context):
            if isinstance(request, wire.Refused):
                raise request.error
            return behavior(request, context)

        return checked
