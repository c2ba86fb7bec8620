"""The synchronous client: deadlines on every call, retries with backoff and jitter on
UNAVAILABLE and RESOURCE_EXHAUSTED, several servers with failover, TLS and bearer tokens.
The calls themselves are in core.py, shared with the asyncio client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
from khulasa.v1 import khulasa_pb2 as pb

from .core import Attempts, ClientCore, DigestResult, idle_error
from .errors import ApiError


class Client(ClientCore):
    __doc__ = ClientCore.__doc__

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    def _unary(self, method: str, request, timeout: float | None, stubs: list | None = None, convert=None):
        attempts = Attempts(self, stubs or self._stubs, timeout)
        while True:
            stub, remaining = attempts.next()
            try:
                response = getattr(stub, method)(request, timeout=remaining, metadata=self._metadata)
                return convert(response) if convert else response
            except grpc.RpcError as exc:
                time.sleep(attempts.wait(ApiError.from_rpc_error(exc)))

    def _stream(self, method: str, request, timeout: float | None, idle_timeout: float | None = None) -> Iterator:
        attempts = Attempts(self, self._stubs, timeout, unlimited=bool(idle_timeout))
        while True:
            stub, remaining = attempts.next()
            received = False
            call = getattr(stub, method)(request, timeout=remaining, metadata=self._metadata)
            watch = _Watchdog(idle_timeout, call.cancel)
            try:
                for event in call:
                    watch.reset()
                    received = True
                    yield event
                return
            except grpc.RpcError as exc:
                if watch.fired:
                    raise idle_error(watch.seconds or 0) from None
                error = ApiError.from_rpc_error(exc)
                if received:
                    raise error from None
                time.sleep(attempts.wait(error))
            finally:
                watch.stop()
                call.cancel()  # a caller that stopped iterating: the server stops working on it

    def _bulk(self, requests: Iterable[pb.DigestRequest], timeout: float | None) -> Iterator[DigestResult]:
        stub, remaining = Attempts(self, self._stubs, timeout).next()
        try:
            for response in stub.DigestMany(iter(requests), timeout=remaining, metadata=self._metadata):
                yield DigestResult(response)
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None


class _Watchdog:
    """Cancels a stream when `seconds` pass without reset(): gRPC deadlines cannot be extended."""

    def __init__(self, seconds: float | None, cancel):
        self.seconds, self.cancel = seconds, cancel
        self.fired = False
        self._timer: threading.Timer | None = None
        self.reset()

    def _fire(self) -> None:
        self.fired = True
        self.cancel()

    def reset(self) -> None:
        self.stop()
        if self.seconds:
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
