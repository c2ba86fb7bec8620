"""Which thread answers a gRPC call, and whether one is free at all.

grpcio's sync server runs every handler on one executor and, when all its threads are held
(idle DigestMany streams, long digests), queues the next call, health checks included: a
probe then times out and Kubernetes restarts a busy but healthy pod. Like grpc-go, which answers
health on a path no caller can block, health here runs on a pool of its own (grpcio honours a
behavior's `experimental_thread_pool`), and every other call is admitted only while a handler
thread is free: past `workers` calls at once the next is refused at once with
RESOURCE_EXHAUSTED and a retry hint, on a second small pool, instead of waiting in a queue no
deadline reaches. grpc.server's own maximum_concurrent_rpcs stays above this as a backstop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc

from khulasa_server import metrics
from khulasa_server.errors import ResourceExhausted
from khulasa_server.grpc.interceptors import rewrap, status
from khulasa_server.service.calls import request_id

log = logging.getLogger("khulasa.rpc")
HEALTH = "/grpc.health.v1.Health/"
HEALTH_THREADS = 2  # Check is microseconds of work; Watch streams are not expected from probes
REFUSAL_THREADS = 2
BACKSTOP = 256  # calls grpc may hold beyond `workers` (health, refusals on their way out)


def _on(pool: ThreadPoolExecutor, behavior: Callable) -> Callable:
    def run(*args):
        return behavior(*args)

    run.experimental_thread_pool = pool  # type: ignore[attr-defined]
    return run


class _Released:
    """A response stream that gives the thread's admission back when it ends, is closed, or is
    dropped by grpc without being started (a client gone before the first message)."""

    def __init__(self, inner, release: Callable[[], None]):
        self.inner, self.release = inner, release

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self.inner)
        except BaseException:
            self.release()
            raise

    def __del__(self):
        self.release()


class Admission(grpc.ServerInterceptor):
    """Outermost interceptor: health on its own threads, everything else admitted while one of
    the `capacity` handler threads is free."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.busy = 0
        self._lock = threading.Lock()
        self._full_logged = False
        self.health_pool = ThreadPoolExecutor(HEALTH_THREADS, thread_name_prefix="health")
        self.refusal_pool = ThreadPoolExecutor(REFUSAL_THREADS, thread_name_prefix="refuse")

    def intercept_service(self, continuation, details):
        handler = continuation(details)
        if handler is None:
            return None
        if details.method.startswith(HEALTH):
            return rewrap(handler, lambda behavior, streaming: _on(self.health_pool, behavior))
        with self._lock:
            full = self.busy >= self.capacity
            if not full:
                self.busy += 1
                self._full_logged = False
        if full:
            return rewrap(handler, lambda behavior, streaming: _on(self.refusal_pool, self._refuse))
        return rewrap(handler, self._admitted)

    def _release(self) -> Callable[[], None]:
        done = [False]
        lock = threading.Lock()

        def release() -> None:
            with lock:
                if done[0]:
                    return
                done[0] = True
            with self._lock:
                self.busy -= 1

        return release

    def _admitted(self, behavior: Callable, streaming: bool) -> Callable:
        def run(request, context):
            release = self._release()
            try:
                result = behavior(request, context)
            except BaseException:
                release()
                raise
            if streaming:
                return _Released(result, release)
            release()
            return result

        return run

    def _refuse(self, request, context) -> None:
        metrics.REJECTED_BUSY.inc()
        if not self._full_logged:  # once per busy spell, not once per refused call
            self._full_logged = True
            log.warning("all %d handler threads busy: calls refused with RESOURCE_EXHAUSTED (workers)", self.capacity)
        error = ResourceExhausted(
            f"the server is working on {self.capacity} calls at once, its limit (workers); retry shortly",
            retry_after=1.0,
            subject="server:workers",
        )
        context.abort_with_status(status(error, request_id(None)))

    def close(self) -> None:
        self.health_pool.shutdown(wait=False, cancel_futures=True)
        self.refusal_pool.shutdown(wait=False, cancel_futures=True)
