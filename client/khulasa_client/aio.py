"""The asyncio client: the same calls and options as Client, awaitable."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from khulasa.v1 import khulasa_pb2 as pb

from .connection import ClientBase, retry_wait
from .errors import ApiError


class AsyncClient(ClientBase):
    """The same calls and options as Client, awaitable."""

    aio = True

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()

    async def _unary(self, method: str, request, timeout: float | None, stubs: list | None = None):
        stubs = stubs or self._stubs
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        first = next(self._turn)
        for attempt in itertools.count():
            stub = stubs[(first + attempt) % len(stubs)]
            try:
                return await getattr(stub, method)(
                    request, timeout=max(deadline - time.monotonic(), 0.001), metadata=self._metadata
                )
            except grpc.RpcError as exc:
                error = ApiError.from_rpc_error(exc)
                wait = retry_wait(self.connection.retry, error.code, error.retry_after, attempt + 1, deadline - time.monotonic())
                if wait is None:
                    raise error from None
                await asyncio.sleep(wait)

    async def translate(self, texts: list[str], source_language: str = "", *, timeout: float | None = None) -> pb.TranslateResponse:
        return await self._unary("Translate", pb.TranslateRequest(texts=texts, source_language=source_language), timeout)

    async def summarize(self, text: str, max_sentences: int = 0, source_language: str = "", summary_method: str = "", *,
                        timeout: float | None = None) -> pb.SummarizeResponse:
        request = pb.SummarizeRequest(text=text, max_sentences=max_sentences, source_language=source_language,
                                      summary_method=summary_method)
        return await self._unary("Summarize", request, timeout)

    async def digest(self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "", summary_method: str = "", *,
                     timeout: float | None = None) -> pb.DigestResponse:
        request = pb.DigestRequest(id=id, text=text, max_sentences=max_sentences, source_language=source_language,
                                   summary_method=summary_method)
        return await self._unary("Digest", request, timeout)

    async def stream_digest(self, text: str, id: str = "", max_sentences: int = 0, source_language: str = "",
                            summary_method: str = "", *, timeout: float | None = None) -> AsyncIterator[pb.DigestEvent]:
        request = pb.DigestRequest(id=id, text=text, max_sentences=max_sentences, source_language=source_language,
                                   summary_method=summary_method)
        stub = self._stubs[next(self._turn) % len(self._stubs)]
        try:
            async for event in stub.StreamDigest(request, timeout=self.timeout if timeout is None else timeout,
                                                 metadata=self._metadata):
                yield event
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None

    async def digest_many(self, requests: Iterable[pb.DigestRequest], *, timeout: float | None = None) -> AsyncIterator[pb.DigestResponse]:
        stub = self._stubs[next(self._turn) % len(self._stubs)]
        try:
            async for response in stub.DigestMany(iter(requests), timeout=self.timeout if timeout is None else timeout,
                                                  metadata=self._metadata):
                yield response
        except grpc.RpcError as exc:
            raise ApiError.from_rpc_error(exc) from None

    async def model_info(self, *, timeout: float | None = None) -> pb.ModelInfo:
        return await self._unary("GetModelInfo", pb.GetModelInfoRequest(), timeout)

    async def health(self, service: str = "", *, timeout: float | None = None) -> str:
        response = await self._unary("Check", health_pb2.HealthCheckRequest(service=service), timeout, self._health)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
