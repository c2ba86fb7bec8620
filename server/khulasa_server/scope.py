"""The request a thread is working for: its id, its deadline and whether its caller is still
there. The gRPC layer sets it once per call; every stage of the work calls checkpoint() at
bounded intervals, so work stops soon after its caller has gone.

It lives in a ContextVar. Work handed to another thread must carry it there by construction:
submit `contextvars.copy_context().run` (see `carry`), never re-set the variable by hand."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from khulasa_server.errors import Cancelled, DeadlineExceeded

__all__ = ["Cancelled", "DeadlineExceeded", "RequestScope", "current", "checkpoint", "checked", "carry"]

T = TypeVar("T")


@dataclass(frozen=True)
class RequestScope:
    deadline: float | None = None  # time.monotonic() value
    is_active: Callable[[], bool] = lambda: True
    request_id: str = ""

    def expired(self, slack: float = 0.0) -> bool:
        return self.deadline is not None and time.monotonic() + slack >= self.deadline

    def alive(self) -> bool:
        """Whether the work is still wanted: cheap enough to ask at every decoding step."""
        return not self.expired() and self.is_active()

    def check(self) -> None:
        # The deadline first: when it passes, gRPC also cancels the call, and the caller was
        # told DEADLINE_EXCEEDED, not CANCELLED.
        if self.expired():
            raise DeadlineExceeded("the request's deadline passed before its work was done")
        if not self.is_active():
            raise Cancelled("the client cancelled the request")


current: ContextVar[RequestScope] = ContextVar("khulasa_request_scope", default=RequestScope())


def checkpoint() -> None:
    """Raise Cancelled or DeadlineExceeded if the current request's caller is gone."""
    current.get().check()


def checked(count: Callable[[str], int]) -> Callable[[str], int]:
    """A token counter that checks the scope first: segmentation and chunking count tokens in
    their loops, so this bounds how long they run after the caller has gone."""

    def count_checked(text: str) -> int:
        checkpoint()
        return count(text)

    return count_checked


def carry(fn: Callable[..., T]) -> Callable[..., T]:
    """fn bound to a copy of the current context (scope included), to run on another thread.
    One copy per call of carry: a context cannot be entered by two threads at once."""
    context = contextvars.copy_context()

    def run(*args, **kwargs) -> T:
        return context.run(fn, *args, **kwargs)

    return run
