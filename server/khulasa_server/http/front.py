"""What every HTTP endpoint shares with the gRPC side, through the core: its operations and
their checks (service/core.py), the call each request is (service/calls.py: request id, scope, the
per-client slot counted with gRPC's, the one log line and metric), the token file and the same
errors (errors.py, described by the core). HTTP's own part: reading the deadline header and
watching for the client leaving, which the scope reports to the pipeline and batcher."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request

from khulasa_server.service.calls import Call
from khulasa_server.service.core import Core

log = logging.getLogger("khulasa.http")
T = TypeVar("T")

# gRPC status → HTTP, as in Google's HTTP mapping of gRPC codes (499: client closed request).
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
CODES = {status: code for code, status in HTTP_STATUS.items()} | {413: "RESOURCE_EXHAUSTED"}  # for the call's code
TIMEOUT_HEADER = "x-request-timeout"  # seconds; a client's own deadline, like gRPC's grpc-timeout


class HttpError(Exception):
    """An answer other than 200: status, a message for {"error": …}, extra headers, and the
    gRPC status name when the error is one the gRPC side also reports."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.code = code

    @property
    def grpc_code(self) -> str:
        """The gRPC status name the call ends with: its own, else the one for its HTTP status."""
        return self.code or CODES.get(self.status, "UNKNOWN")


class Front:
    def __init__(self, core: Core):
        self.core = core
        self.auth = core.tokens
        self.settings = settings = core.settings
        # Pipeline calls block (they wait on the batcher); they run here, off the event loop.
        self.pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="http")
        self.ready = True  # /readyz, with the models loaded
        self.closing = False  # set on shutdown: new work is refused
        self.active = 0  # calls holding a client's in-flight allowance (read by tests)
        self.calls: set[Call] = set()  # the calls in work, stopped by abandon() at the end of the grace period
        self.abandoned = False

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def abandon(self) -> None:
        """The grace period is over: every call still in work has its caller marked gone, so
        its work stops at its next checkpoint and it answers 503 (an SSE stream, an `error`
        event), and the process can exit."""
        self.abandoned = True
        for call in list(self.calls):
            call.caller_left()

    def _stopped(self) -> HttpError:
        return HttpError(503, "the server is shutting down and stopped this request; retry", {"Retry-After": "1"}, "UNAVAILABLE")

    @property
    def loaded(self) -> bool:
        return self.core.loaded

    # -- who is calling ------------------------------------------------------------------

    def open(self, request: Request, rpc: str) -> Call:
        """The core's call for a request to an endpoint, under the caller's x-request-id when
        plausible; common.HttpCalls ends it once the answer's body is out."""
        call = self.core.call("http", rpc, request.headers.get("x-request-id"))
        request.state.khulasa_call = call
        return call

    @staticmethod
    def bearer(request: Request, api_key: str | None = None) -> str:
        """The caller's token: LibreTranslate's api_key, else Authorization: Bearer."""
        if api_key:
            if not isinstance(api_key, str):
                raise HttpError(400, "Invalid request: api_key must be a string")
            return api_key.strip()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def allows(self, token: str) -> bool:
        return self.core.allows(token)

    def client(self, request: Request, token: str) -> str:
        """The per-client limit's key: the token as matched, else the IP address, spelled as
        the gRPC side spells them, so one client's calls count together on both front ends."""
        identity = self.core.identify(token)
        if identity:
            return identity
        host = request.client.host if request.client else "unknown"
        return f"ipv6:[{host}]" if ":" in host else f"ipv4:{host}"

    def timeout(self, request: Request) -> float:
        """Seconds the request may take: http_timeout, or less when the client asks for less."""
        seconds = self.settings.http_timeout
        asked = request.headers.get(TIMEOUT_HEADER)
        if asked is not None:
            try:
                value = float(asked)
            except ValueError:
                raise HttpError(400, f"{TIMEOUT_HEADER} must be a number of seconds, got {asked[:40]!r}") from None
            if not value > 0 or math.isinf(value):
                raise HttpError(400, f"{TIMEOUT_HEADER} must be a positive number of seconds, got {asked[:40]!r}")
            seconds = min(seconds, value)
        return seconds

    # -- running work --------------------------------------------------------------------

    @staticmethod
    def failure(exc: BaseException, call: Call) -> HttpError:
        """The gRPC side's description of an exception, as an HTTP answer; its code is the call's."""
        if isinstance(exc, HttpError):
            call.code = exc.grpc_code
            return exc
        error = call.failed(exc)  # INTERNAL, logged with its traceback, unless expected
        headers = {}
        if error.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        elif error.code == "UNAVAILABLE":
            headers["Retry-After"] = "1"
        return HttpError(HTTP_STATUS.get(error.code, 500), error.message, headers, error.code)

    def _enter(self, call: Call, request: Request, token: str) -> Callable[[], None]:
        """The call's deadline from now, and the client's in-flight slot (TooManyInFlight past
        max_inflight_per_client)."""
        call.until(self.timeout(request))
        if self.closing:
            raise HttpError(503, "the server is shutting down", {"Retry-After": "1"}, "UNAVAILABLE")
        leave = call.enter(self.client(request, token))
        self.active += 1
        self.calls.add(call)

        def release() -> None:
            self.active -= 1
            self.calls.discard(call)
            leave()

        return release

    @staticmethod
    def _bound(call: Call, work: Callable[[], T]) -> Callable[[], T]:
        """work bound to a fresh context holding the call's scope, to run on a pool thread."""
        context = call.context()
        return lambda: context.run(work)

    @staticmethod
    async def _watch(request: Request, call: Call) -> None:
        """Marks the call's caller gone when it disconnects (the body is read by then, so the
        next ASGI message can only be the disconnect)."""
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                call.caller_left()
                return

    async def call(self, call: Call, request: Request, token: str, work: Callable[[], T]) -> T:
        """work() on a pool thread within the call's scope and the client's in-flight slot; a
        disconnect or the deadline stops it at its next checkpoint."""
        release = self._enter(call, request, token)
        watcher = asyncio.create_task(self._watch(request, call))
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self._bound(call, work))
        except asyncio.CancelledError:  # the server cut the request: its work must stop too
            call.caller_left()
            raise
        except Exception:
            if self.abandoned:
                raise self._stopped() from None
            raise
        finally:
            watcher.cancel()
            release()

    async def stream(self, call: Call, request: Request, token: str, events: Iterator[T]) -> tuple[T, AsyncIterator[T]]:
        """The first item of a blocking iterator (so that its errors can still become an
        HTTP status), and the rest as an async iterator. When the response ends early (the
        client left: Starlette cancels the body), the call's caller is marked gone, so its
        scope turns inactive, and the iterator is closed once its current step returns."""
        loop = asyncio.get_running_loop()
        end = object()

        def step():
            return next(events, end)

        release = self._enter(call, request, token)
        try:
            first = await loop.run_in_executor(self.pool, self._bound(call, step))
        except BaseException as exc:
            release()
            _close(events)
            if isinstance(exc, asyncio.CancelledError):
                call.caller_left()
            elif self.abandoned:
                raise self._stopped() from None
            raise

        async def rest() -> AsyncIterator[T]:
            pending = None
            try:
                while True:
                    pending = loop.run_in_executor(self.pool, self._bound(call, step))
                    try:
                        item = await pending
                    except Exception:
                        if self.abandoned:
                            raise self._stopped() from None
                        raise
                    pending = None
                    if item is end:
                        return
                    yield item
            finally:
                call.caller_left()
                release()
                if pending is not None and not pending.done():
                    pending.add_done_callback(lambda _: _close(events))
                else:
                    _close(events)

        return first, rest()


def _close(events: Any) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        try:
            close()
        except ValueError:  # still running on its thread; it ends at its next scope check
            pass
