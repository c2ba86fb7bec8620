"""What every NewsDigest RPC needs besides its own work, as gRPC server interceptors. In the
order the server installs them (outermost first):

  OpenCall     opens the service's call (service/calls.py: request id, scope, the one log line and
               metric) from the x-request-id metadata, the deadline and is_active; maps any
               exception to a status with details (and the x-request-id trailer), and checks
               the response size limit
  TokenAuth    bearer tokens (security.py); records the caller's identity
  ClientLimit  the call's per-client slot: its token as matched, else its IP address
  Decode       requests parsed leniently (wire.py): a refused unary request stops here

so that service.py holds only RPC methods, each one line over the core (service/core.py).
What the HTTP front end shares with these (the call, request ids, the error description, the
per-client count, auth by token) is the core's; this module maps it to gRPC.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from khulasa.v1 import khulasa_pb2 as pb

from khulasa_server.errors import KhulasaError, ResourceExhausted
from khulasa_server.grpc import wire
from khulasa_server.service.calls import Call
from khulasa_server.service.core import Core

SERVICE = pb.DESCRIPTOR.services_by_name["NewsDigest"]
PREFIX = f"/{SERVICE.full_name}/"
MESSAGE_LIMIT = 1000  # characters of a status message: gRPC's metadata limit is a few kB
# The authenticated caller ("token:<hash>"), set by TokenAuth for the calls it lets through.
CALLER: contextvars.ContextVar[str | None] = contextvars.ContextVar("khulasa_caller", default=None)
# The call OpenCall opened, for the interceptors inside it (ClientLimit).
CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("khulasa_call", default=None)

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


# -- OpenCall -----------------------------------------------------------------------------------


def _request_id(context: grpc.ServicerContext) -> object:  # core.calls.request_id checks it
    return next((value for key, value in context.invocation_metadata() or () if key == "x-request-id"), None)


def _got(call: Call, code: str) -> str:
    """The code the client actually gets: ours while it is still there; once it has gone,
    DEADLINE_EXCEEDED if the deadline passed (gRPC ended the call), else CANCELLED."""
    if call.scope.is_active():
        return code
    return "DEADLINE_EXCEEDED" if call.scope.expired(slack=0.05) else "CANCELLED"


class OpenCall(_NewsDigestInterceptor):
    """Opens the core's call (service/calls.py) for every RPC and maps how it ends to gRPC."""

    def __init__(self, core: Core):
        self.core = core
        self.limit = core.settings.max_message_bytes

    def handle(self, handler, rpc):
        return rewrap(handler, lambda behavior, streaming: (self._stream if streaming else self._unary)(rpc, behavior))

    def _open(self, rpc: str, context: grpc.ServicerContext) -> tuple[Call, contextvars.Context]:
        remaining = context.time_remaining()
        timeout = remaining if remaining is not None and remaining < 1e8 else None
        call = self.core.call("grpc", rpc, _request_id(context), timeout, context.is_active)
        context.set_trailing_metadata((("x-request-id", call.request_id),))
        scoped = call.context()  # the caller's identity (TokenAuth) is set in it too
        scoped.run(CALL.set, call)
        return call, scoped

    def _sized(self, rpc: str, response):
        size = response.ByteSize()
        if size > self.limit:  # gRPC would fail the send after we had logged OK
            raise ResourceExhausted(f"the {rpc} response is {size} bytes; the limit is {self.limit} (max_message_bytes)")
        return response

    def _fail(self, call: Call, context: grpc.ServicerContext, exc: BaseException) -> None:
        error = call.failed(exc)
        call.end(_got(call, error.code))
        context.abort_with_status(status(error, call.request_id))  # raises; a no-op for a client gone

    def _unary(self, rpc: str, behavior: Callable) -> Callable:
        def observed(request, context):
            call, scoped = self._open(rpc, context)

            def run():
                try:
                    response = self._sized(rpc, behavior(request, context))
                except Exception as exc:  # every failure becomes a status; the server keeps serving
                    self._fail(call, context, exc)
                call.end(_got(call, "OK"))
                return response

            return scoped.run(run)

        return observed

    def _stream(self, rpc: str, behavior: Callable) -> Callable:
        def observed(request, context):
            call, scoped = self._open(rpc, context)
            # A client that leaves while the stream waits at a yield is never seen by the code
            # below: gRPC just stops asking for messages. The callback accounts for it.
            context.add_callback(lambda: call.end(_got(call, "CANCELLED")))

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
                call.end(_got(call, "OK"))

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
    """The core's per-client count (service/inflight.py) around every RPC, taken in the call OpenCall
    opened, which gives it back when the call ends, however it ends. A client is its token as
    TokenAuth matched it, or its IP address when the server has no auth."""

    @staticmethod
    def client(context: grpc.ServicerContext) -> str:
        return CALLER.get() or peer_address(context.peer())

    def handle(self, handler, rpc):
        return rewrap(handler, self._wrap)

    def _wrap(self, behavior: Callable, streaming: bool) -> Callable:
        def limited(request, context):
            call = CALL.get()
            assert call is not None  # OpenCall, outermost, opened it
            call.enter(self.client(context))
            return behavior(request, context)

        return limited


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
