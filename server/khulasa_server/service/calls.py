"""One call of an operation, whichever front end it came through (gRPC, HTTP, khulasa-bulk):
its request id and scope (deadline, whether its caller is still there), the caller's in-flight
slot, the error it ended with, and the one log line and one metric it leaves. A front end
opens it (Core.call) with what only it can read from its wire, runs the work in `context()`,
maps `failed()`'s error to its wire, and ends it once its answer is out."""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable

from khulasa_server import metrics
from khulasa_server.errors import KhulasaError
from khulasa_server.scope import RequestScope, current
from khulasa_server.service.inflight import InFlight

log = logging.getLogger("khulasa.rpc")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,64}")  # what a caller's x-request-id may be


def request_id(asked: object) -> str:
    """The caller's request id when it is a plausible one, else a fresh one."""
    return asked if isinstance(asked, str) and REQUEST_ID.fullmatch(asked) else uuid.uuid4().hex


def describe(exc: BaseException, request_id: str | None = None) -> KhulasaError:
    """The error to report for exc: itself when the service raised it on purpose, else an
    INTERNAL one that names only the request id (the log gets the traceback)."""
    if isinstance(exc, KhulasaError) and exc.code != "INTERNAL":
        return exc
    request_id = current.get().request_id if request_id is None else request_id
    log.error("unexpected error", exc_info=exc, extra={"request_id": request_id})
    return KhulasaError(f"internal error (request id {request_id})")


def _always() -> bool:
    return True


class Call:
    def __init__(
        self,
        in_flight: InFlight,
        front: str,
        rpc: str,
        request_id: str,
        timeout: float | None = None,
        is_active: Callable[[], bool] | None = None,
    ):
        self.front, self.rpc, self.request_id = front, rpc, request_id
        self.in_flight = in_flight
        self.start = time.perf_counter()
        # Set by a front end that learns its caller left (HTTP: a disconnect, a stream answer
        # closed early); gRPC's is_active reports it itself. A plain flag: nothing waits on it.
        self._left = False
        self._active = is_active or _always
        self.scope = RequestScope(_deadline(timeout), self._is_active, request_id)
        self.code = "OK"
        self._leave: Callable[[], None] = _nothing
        self._ended = threading.Lock()  # held once the call has ended: it ends once, however it ends

    def _is_active(self) -> bool:
        return not self._left and self._active()

    def caller_left(self) -> None:
        """The caller has gone: the call's scope turns inactive, so its work stops at its next checkpoint."""
        self._left = True

    def until(self, timeout: float | None) -> None:
        """The call's deadline, `timeout` seconds from now (None: none). HTTP reads it from a
        header that may be malformed, so it is set once the call exists to count that refusal."""
        self.scope = RequestScope(_deadline(timeout), self._is_active, self.request_id)

    def enter(self, client: str) -> Callable[[], None]:
        """The client's in-flight slot (TooManyInFlight past max_inflight_per_client): given
        back by the function returned, or at the latest when the call ends."""
        self._leave = self.in_flight.enter(client)
        return self._leave

    def context(self) -> contextvars.Context:
        """A fresh copy of the current context holding this call's scope, to run its work in: the
        scope of one call must not leak into the next one its thread serves. One per thread at a
        time (a context cannot be entered twice at once)."""
        context = contextvars.copy_context()
        context.run(current.set, self.scope)
        return context

    def failed(self, exc: BaseException) -> KhulasaError:
        """The error to report for exc (describe), which becomes the call's code."""
        error = describe(exc, self.request_id)
        self.code = error.code
        return error

    def end(self, code: str | None = None, **fields: object) -> None:
        """Gives the client's slot back, then writes the call's log line and metric with its
        code (the given one, else the last set); `fields` are the front end's own keys. Only the
        first end counts: a stream can end by its last message and by its client leaving at once."""
        if not self._ended.acquire(blocking=False):
            return
        if code is not None:
            self.code = code
        self._leave()
        seconds = time.perf_counter() - self.start
        metrics.REQUESTS.labels(front=self.front, rpc=self.rpc, code=self.code).inc()
        metrics.LATENCY.labels(front=self.front, rpc=self.rpc).observe(seconds)
        # Keys in this order: operators' queries and the tests match `"rpc": …, "request_id": …, "code": …`.
        line = {"front": self.front, "rpc": self.rpc, "request_id": self.request_id, "code": self.code}
        log.info("rpc", extra={**line, "ms": round(seconds * 1000, 1), **fields})


def _nothing() -> None:
    pass


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout
