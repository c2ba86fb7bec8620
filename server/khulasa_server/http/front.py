"""What every HTTP endpoint shares with the gRPC side: the same servicer (its pipeline, its
validation, its per-client in-flight limit), the same token file, the same error mapping, and
a request scope (deadline, caller still there) that the batcher reads to drop abandoned work."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from starlette.requests import Request

from .. import service as service_mod
from ..config import Settings
from ..engines.batcher import Overloaded
from ..scope import RequestScope, current
from ..security import TokenAuth

log = logging.getLogger("khulasa.http")
T = TypeVar("T")

# google.rpc.Code → HTTP, as in Google's HTTP mapping of gRPC codes (499: client closed request).
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
TIMEOUT_HEADER = "x-request-timeout"  # seconds; a client's own deadline, like gRPC's grpc-timeout


class HttpError(Exception):
    """An answer other than 200: status, a message for {"error": …}, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 code: grpc.StatusCode | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.code = code


class Front:
    def __init__(self, service: service_mod.NewsDigestService, auth: TokenAuth | None, settings: Settings):
        self.service = service
        self.auth = auth
        self.settings = settings
        # Pipeline calls block (they wait on the batcher); they run here, off the event loop.
        self.pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="http")
        self.ready = True  # /readyz, with the models loaded
        self.closing = False  # set on shutdown: new work is refused
        self.active = 0  # calls holding a client's in-flight allowance (read by tests)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def pipeline(self):
        """The loaded pipeline, or Unavailable (503) while the models load."""
        return self.service._ready()

    @property
    def loaded(self) -> bool:
        return self.service.pipeline is not None

    def _enter(self, client: str) -> None:
        self.service.inflight.enter(client)  # TooManyInFlight past max_inflight_per_client
        self.active += 1

    def _leave(self, client: str) -> None:
        self.active -= 1
        self.service.inflight.leave(client)

    # -- who is calling ------------------------------------------------------------------

    @staticmethod
    def request_id(request: Request) -> str:
        return request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex

    @staticmethod
    def bearer(request: Request, api_key: str | None = None) -> str:
        """The caller's token: LibreTranslate's api_key, else Authorization: Bearer."""
        if api_key:
            return api_key.strip()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def allows(self, token: str) -> bool:
        return self.auth is None or (bool(token) and self.auth.allows([("authorization", f"Bearer {token}")]))

    @staticmethod
    def client(request: Request, token: str) -> str:
        """The key of the per-client in-flight limit, equal to the gRPC side's for the same
        token or address, so one client's calls count together on both front ends."""
        if token:
            return "token:" + hashlib.sha256(f"Bearer {token}".encode()).hexdigest()[:16]
        host = request.client.host if request.client else "unknown"
        return f"ipv6:[{host}]" if ":" in host else f"ipv4:{host}"

    def deadline(self, request: Request) -> float:
        seconds = self.settings.http_timeout
        asked = request.headers.get(TIMEOUT_HEADER)
        if asked is not None:
            try:
                value = float(asked)
            except ValueError:
                raise HttpError(400, f"{TIMEOUT_HEADER} must be a number of seconds, got {asked!r}") from None
            if not value > 0 or math.isinf(value):
                raise HttpError(400, f"{TIMEOUT_HEADER} must be a positive number of seconds, got {asked!r}")
            seconds = min(seconds, value)
        return time.monotonic() + seconds

    # -- running work --------------------------------------------------------------------

    def failure(self, exc: BaseException, rpc: str, request_id: str) -> HttpError:
        """The gRPC side's mapping of an exception, as an HTTP status."""
        if isinstance(exc, HttpError):
            return exc
        if isinstance(exc, service_mod.TooManyInFlight):
            code, message = grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc)
        else:
            code, message, _ = service_mod._failure(exc, rpc, request_id)
        headers = {}
        if isinstance(exc, Overloaded):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        elif isinstance(exc, service_mod.TooManyInFlight):
            headers["Retry-After"] = "1"
        elif code == grpc.StatusCode.UNAVAILABLE:
            headers["Retry-After"] = "1"
        return HttpError(HTTP_STATUS.get(code, 500), message, headers, code)

    def _scope(self, request: Request, gone: threading.Event) -> RequestScope:
        return RequestScope(self.deadline(request), lambda: not gone.is_set())

    @staticmethod
    async def _watch(request: Request, gone: threading.Event) -> None:
        """Marks the request abandoned when its client disconnects (the body is read by then,
        so the next ASGI message can only be the disconnect)."""
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

    @staticmethod
    def _in_scope(scope: RequestScope, work: Callable[[], T]) -> T:
        token = current.set(scope)
        try:
            return work()
        finally:
            current.reset(token)

    async def call(self, request: Request, token: str, work: Callable[[], T]) -> T:
        """work() on a pool thread within the request's scope and the client's in-flight
        allowance; a disconnect or the deadline drops its queued work."""
        if self.closing:
            raise HttpError(503, "the server is shutting down", {"Retry-After": "1"})
        gone = threading.Event()
        scope = self._scope(request, gone)
        client = self.client(request, token)
        self._enter(client)
        watcher = asyncio.create_task(self._watch(request, gone))
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self._in_scope, scope, work)
        finally:
            watcher.cancel()
            self._leave(client)

    async def stream(self, request: Request, token: str, events: Iterator[T]) -> tuple[T, AsyncIterator[T]]:
        """The first item of a blocking iterator (so that its errors can still become an
        HTTP status), and the rest as an async iterator. When the response ends early (the
        client left: Starlette cancels the body), the scope turns inactive and the iterator
        is closed once its current step returns."""
        if self.closing:
            raise HttpError(503, "the server is shutting down", {"Retry-After": "1"})
        gone = threading.Event()
        scope = self._scope(request, gone)
        client = self.client(request, token)
        loop = asyncio.get_running_loop()
        end = object()

        def step():
            return next(events, end)

        self._enter(client)
        try:
            first = await loop.run_in_executor(self.pool, self._in_scope, scope, step)
        except BaseException:
            self._leave(client)
            events_close(events)
            raise

        async def rest() -> AsyncIterator[T]:
            pending = None
            try:
                while True:
                    pending = loop.run_in_executor(self.pool, self._in_scope, scope, step)
                    item = await pending
                    pending = None
                    if item is end:
                        return
                    yield item
            finally:
                gone.set()
                self._leave(client)
                if pending is not None and not pending.done():
                    pending.add_done_callback(lambda _: events_close(events))
                else:
                    events_close(events)

        return first, rest()


def events_close(events: Any) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        try:
            close()
        except ValueError:  # still running on its thread; it ends at its next scope check
            pass

