"""The request a thread is working for: its deadline and whether its caller is still there.
The gRPC layer sets it; the batcher reads it to drop work nobody is waiting for."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable


class DeadlineExceeded(Exception):
    pass


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class RequestScope:
    deadline: float | None = None  # time.monotonic() value
    is_active: Callable[[], bool] = lambda: True

    def check(self) -> None:
        if not self.is_active():
            raise Cancelled("the client cancelled the request")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeadlineExceeded("the request's deadline passed before its work was done")


current: ContextVar[RequestScope] = ContextVar("khulasa_request_scope", default=RequestScope())
