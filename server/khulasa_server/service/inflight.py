"""Calls in flight per client, counted across every front end: a client is its token as matched
(Core.identify) or its address, never raw header bytes, which a caller can vary at will."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from khulasa_server.errors import TooManyInFlight


def once(fn: Callable[[], None]) -> Callable[[], None]:
    """fn, run by the first call only (a slot is given back once, however the call ends)."""
    lock, done = threading.Lock(), [False]

    def run() -> None:
        with lock:
            if done[0]:
                return
            done[0] = True
        fn()

    return run


class InFlight:
    """At most `limit` calls in flight per client; `enter` takes a slot (TooManyInFlight with a
    retry hint past it) and returns the function that gives it back."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._typical = 1.0  # seconds a call takes, smoothed: the retry hint

    def enter(self, client: str) -> Callable[[], None]:
        with self._lock:
            count = self._counts.get(client, 0)
            if count >= self.limit:
                raise TooManyInFlight(client, count, self.limit, round(min(30.0, max(0.1, self._typical)), 1))
            self._counts[client] = count + 1
        start = time.monotonic()

        def leave() -> None:
            with self._lock:
                left = self._counts.get(client, 1) - 1
                if left:
                    self._counts[client] = left
                else:
                    self._counts.pop(client, None)
                self._typical = 0.9 * self._typical + 0.1 * (time.monotonic() - start)

        return once(leave)
