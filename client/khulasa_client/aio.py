"""The asyncio client: the calls of core.py (the same as Client's), awaitable; streams are
async iterators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from khulasa.v1 import khulasa_pb2 as pb

from .core import Attempts, ClientCore, DigestResult, idle_error
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

    async def _stream(self, method: str, request, timeout: float | None, idle_timeout: float | None = None) -> AsyncIterator:
        attempts = Attempts(self, self._stubs, timeout, unlimited=bool(idle_timeout))
        while True:
            stub, remaining = attempts.next()
            received = False
            call = getattr(stub, method)(request, timeout=remaining, metadata=self._metadata)
            events = call.__aiter__()
            try:
                while True:
                    try:
                        # gRPC deadlines cannot be extended: each event has its own wait
                        event = await asyncio.wait_for(events.__anext__(), idle_timeout or None)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        raise idle_error(idle_timeout or 0) from None
                    received = True
                    yield event
            except grpc.RpcError as exc:
                error = ApiError.from_rpc_error(exc)
                if received:
                    raise error from None
                await asyncio.sleep(attempts.wait(error))
            finally:
                call.cancel()

    async def _bulk(self, requests: Iterable[pb.DigestRequest], timeout: float | None) -> AsyncIterator[DigestResult]:
        stub, remaining = Attempts(self, self._stubs, timeout).next()
        try:
            async for response in stub.DigestMany(iter(requests), timeout=remaining, metadata=self._metadata):
                yield DigestResult(response)
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None
