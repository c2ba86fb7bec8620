"""Bulk streams: requests in, answers out in completion order, a bounded number in work.

A slot is taken when a request is read and given back only when its answer has been taken:
the consumer (gRPC) asks for the next answer only after it has sent the previous one, and a
client that stops reading stops gRPC's sending (HTTP/2 flow control). So a client that never
reads stops the reading of its own requests, and the answers held for it never exceed
`concurrency`, whatever it does."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TypeVar

from khulasa_server import metrics
from khulasa_server.errors import DeadlineExceeded
from khulasa_server.scope import carry

log = logging.getLogger("khulasa.rpc")
Request = TypeVar("Request")
Answer = TypeVar("Answer")
_POLL = 0.1  # seconds between checks that the caller is still there while no slot is free


class _End:
    def __init__(self, count: int):
        self.count = count


def completion_order(
    requests: Iterable[Request],
    work: Callable[[Request], Answer],
    pool: Executor,
    concurrency: int,
    is_active: Callable[[], bool],
    idle_timeout: float | None = None,
) -> Iterator[Answer]:
    """work(request) for each request on the pool, at most `concurrency` at once (answers not
    yet taken included); answers as they complete. Requests are read on a thread of their own,
    so answers flow back while the client is still sending. work runs in a copy of the
    caller's context (its request scope). With nothing in work and no request for
    idle_timeout seconds, the stream ends with DEADLINE_EXCEEDED: an idle stream would hold a
    handler thread for as long as its client keeps the connection."""
    slots = threading.Semaphore(concurrency)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    lock = threading.Lock()
    read_count = [0]
    last = [time.monotonic()]  # when a request was last read or an answer taken

    def finished(future: Future) -> None:
        with lock:
            if stop.is_set():  # the stream has ended: nobody will take it
                return
            metrics.DIGEST_MANY_HELD.inc()
            done.put(future)

    def read() -> None:
        count = 0
        try:
            for request in requests:
                while not slots.acquire(timeout=_POLL):
                    if stop.is_set() or not is_active():
                        return
                if stop.is_set():
                    slots.release()
                    return
                pool.submit(carry(work), request).add_done_callback(finished)
                count += 1
                read_count[0] = count
                last[0] = time.monotonic()
        except Exception as exc:  # the client's stream broke or was cancelled
            # gRPC ends a stream itself when a message is over its own size limit: say where.
            log.info("request stream ended", extra={"after_items": count, "reason": type(exc).__name__})
            done.put(exc)
        finally:
            done.put(_End(count))

    # A new thread starts in an empty context: the reader must run in a copy of the caller's,
    # or the work it submits (carry(work) there) would lose the request scope.
    threading.Thread(target=carry(read), name="stream-reader", daemon=True).start()
    taken, total = 0, None
    try:
        while total is None or taken < total:
            try:
                item = done.get(timeout=1.0 if idle_timeout else None)
            except queue.Empty:
                if idle_timeout and read_count[0] == taken and time.monotonic() - last[0] > idle_timeout:
                    raise DeadlineExceeded(
                        f"no request on this stream for {idle_timeout:g} s with nothing in work (stream_idle_timeout); "
                        f"the server ended it after {taken} answers"
                    ) from None
                continue
            if isinstance(item, _End):
                total = item.count
            elif isinstance(item, Exception):
                if is_active():
                    raise item
                total = taken  # the client has gone: nothing more to send
            else:
                metrics.DIGEST_MANY_HELD.dec()
                taken += 1
                yield item.result()
                last[0] = time.monotonic()
                slots.release()  # the answer was taken: gRPC asks again only after sending it
    finally:
        with lock:
            stop.set()
            while True:  # answers nobody will take no longer count as held
                try:
                    item = done.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, Future):
                    metrics.DIGEST_MANY_HELD.dec()
