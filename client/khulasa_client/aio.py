"""The asyncio client: the calls of core.py (the same as Client's), awaitable; streams are
async iterators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from khulasa.v1 import khulasa_pb2 as pb

from .core import Attempts, ClientCore, DigestResult
from .errors import ApiError


class AsyncClient(ClientCore):
    """The same calls and options as Client (core.ClientCore), awaitable:
    `await client.digest(text)`, `async for event in client.stream_digest(text)`."""

    aio = True

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()

    async def _unary(self, method: str, request, timeout: float | None, stubs: list | None = None, convert=None):
        attempts = Attempts(self, stubs or self._stubs, timeout)
        while True:
            stub, remaining = attempts.next()
            try:
                response = await getattr(stub, method)(request, timeout=remaining, metadata=self._metadata)
                return convert(response) if convert else response
            except grpc.RpcError as exc:
                await asyncio.sleep(attempts.wait(ApiError.from_rpc_error(exc)))

    async def _stream(self, method: str, request, timeout: float | None) -> AsyncIterator:
        attempts = Attempts(self, self._stubs, timeout)
        while True:
            stub, remaining = attempts.next()
            received = False
            try:
                async for event in getattr(stub, method)(request, timeout=remaining, metadata=self._metadata):
                    received = True
                    yield event
                return
            except grpc.RpcError as exc:
                error = ApiError.from_rpc_error(exc)
                if received:
                    raise error from None
                await asyncio.sleep(attempts.wait(error))

    async def _bulk(self, requests: Iterable[pb.DigestRequest], timeout: float | None) -> AsyncIterator[DigestResult]:
        stub, remaining = Attempts(self, self._stubs, timeout).next()
        try:
            async for response in stub.DigestMany(iter(requests), timeout=remaining, metadata=self._metadata):
                yield DigestResult(response)
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None
