"""The synchronous client: deadlines on every call, retries with backoff and jitter on
UNAVAILABLE and RESOURCE_EXHAUSTED, several servers with failover, TLS and bearer tokens.
The calls themselves are in core.py, shared with the asyncio client."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
from khulasa.v1 import khulasa_pb2 as pb

from .core import Attempts, ClientCore, DigestResult
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

    def _stream(self, method: str, request, timeout: float | None) -> Iterator:
        attempts = Attempts(self, self._stubs, timeout)
        while True:
            stub, remaining = attempts.next()
            received = False
            try:
                for event in getattr(stub, method)(request, timeout=remaining, metadata=self._metadata):
                    received = True
                    yield event
                return
            except grpc.RpcError as exc:
                error = ApiError.from_rpc_error(exc)
                if received:
                    raise error from None
                time.sleep(attempts.wait(error))

    def _bulk(self, requests: Iterable[pb.DigestRequest], timeout: float | None) -> Iterator[DigestResult]:
        stub, remaining = Attempts(self, self._stubs, timeout).next()
        try:
            for response in stub.DigestMany(iter(requests), timeout=remaining, metadata=self._metadata):
                yield DigestResult(response)
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None
