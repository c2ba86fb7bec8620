"""The gRPC servicer: one method per RPC, each a line over the service (service/core.py), which
checks the fields and runs the pipeline. Request ids, the request scope, logging, metrics and
the per-client limit are the service's call (service/calls.py), which the interceptors open and map to
gRPC statuses (interceptors.py); pipeline results become messages in messages.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

from khulasa_server import messages
from khulasa_server.errors import KhulasaError, ResourceExhausted
from khulasa_server.grpc import streams
from khulasa_server.grpc.wire import Refused
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.service.calls import describe
from khulasa_server.service.core import Core


class NewsDigestService(pb_grpc.NewsDigestServicer):
    def __init__(self, core: Core):
        self.core = core
        self.settings = core.settings
        self._pool = ThreadPoolExecutor(max_workers=core.settings.workers, thread_name_prefix="digest-many")

    def Translate(self, request, context):
        return messages.translations(self.core.translate(request.texts, ArticleOptions.of(request)))

    def Summarize(self, request, context):
        return messages.summary(self.core.summarize(request.text, ArticleOptions.of(request)))

    def Digest(self, request, context):
        return messages.digest(request.id, self.core.digest(request.text, ArticleOptions.of(request)))

    def StreamDigest(self, request, context):
        for event in self.core.stream_digest(request.text, ArticleOptions.of(request)):
            yield messages.event(request.id, event)

    def GetModelInfo(self, request, context):
        return messages.model_info(*self.core.model_info())

    def DigestMany(self, request_iterator, context):
        """Bulk: each item answered on its own (a bad one with DigestResponse.error), in
        completion order, at most digest_many_concurrency in work or waiting to be taken."""
        self.core.ready()
        yield from streams.completion_order(
            enumerate(request_iterator, 1),
            self._digest_item,
            self._pool,
            self.settings.digest_many_concurrency,
            context.is_active,
            self.settings.stream_idle_timeout,
        )

    def _digest_item(self, item: tuple[int, pb.DigestRequest | Refused]) -> pb.DigestResponse:
        position, request = item
        try:
            if isinstance(request, Refused):
                raise request.error
            response = self.Digest(request, None)
            size, limit = response.ByteSize(), self.settings.max_message_bytes
            if size > limit:
                raise ResourceExhausted(f"the answer is {size} bytes; the limit is {limit} (max_message_bytes)")
            return response
        except Exception as exc:
            error: KhulasaError = describe(exc)
            # An item without an id can only be told apart by its position in the stream.
            where = "" if request.id else f"item {position} (no id): "
            code = grpc.StatusCode[error.code].value[0]
            return pb.DigestResponse(id=request.id, error=pb.Error(code=code, message=where + error.message))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
