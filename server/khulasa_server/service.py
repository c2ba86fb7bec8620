"""The gRPC servicer: one method per RPC. Request ids, the request scope, logging, metrics, the
per-client limit and error statuses are the interceptors' (interceptors.py); field checks are
requests.py's; pipeline results become messages in convert.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

from . import convert, requests, streams
from .config import Settings
from .errors import KhulasaError, ResourceExhausted, Unavailable
from .interceptors import describe
from .pipeline import Pipeline
from .wire import Refused


class NewsDigestService(pb_grpc.NewsDigestServicer):
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pipeline: Pipeline | None = None  # set once the bundle is loaded
        self.runtime_info: dict[str, str] = {}
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="digest-many")

    def _ready(self) -> Pipeline:
        if self.pipeline is None:
            raise Unavailable("models are still loading; retry shortly (health reports SERVING when ready)")
        return self.pipeline

    def _digest(self, request: pb.DigestRequest) -> pb.DigestResponse:
        requests.text(request.text, "text", self.settings)
        result = self._ready().digest(
            request.text,
            request.source_language,
            requests.max_sentences(request.max_sentences, self.settings),
            request.summary_method,
            requests.glossary(dict(request.glossary)),
        )
        return convert.digest(request.id, result)

    def Translate(self, request, context):
        requests.texts(request.texts, self.settings)
        results = self._ready().translate(list(request.texts), request.source_language, requests.glossary(dict(request.glossary)))
        return pb.TranslateResponse(translations=[convert.translation(t) for t in results])

    def Summarize(self, request, context):
        requests.text(request.text, "text", self.settings)
        result = self._ready().summarize(
            request.text,
            request.source_language,
            requests.max_sentences(request.max_sentences, self.settings),
            request.summary_method,
            requests.glossary(dict(request.glossary)),
        )
        return pb.SummarizeResponse(
            summary=result.text, sentences=convert.summary_sentences(result), detected_language=result.detected_language
        )

    def Digest(self, request, context):
        return self._digest(request)

    def StreamDigest(self, request, context):
        requests.text(request.text, "text", self.settings)
        events = self._ready().iter_digest(
            request.text,
            request.source_language,
            requests.max_sentences(request.max_sentences, self.settings),
            request.summary_method,
            requests.glossary(dict(request.glossary)),
        )
        for event in events:
            yield convert.event(request.id, event)

    def DigestMany(self, request_iterator, context):
        """Bulk: each item answered on its own (a bad one with DigestResponse.error), in
        completion order, at most digest_many_concurrency in work or waiting to be taken."""
        self._ready()
        yield from streams.completion_order(
            enumerate(request_iterator, 1),
            self._digest_item,
            self._pool,
            self.settings.digest_many_concurrency,
            context.is_active,
        )

    def _digest_item(self, item: tuple[int, pb.DigestRequest | Refused]) -> pb.DigestResponse:
        position, request = item
        try:
            if isinstance(request, Refused):
                raise request.error
            response = self._digest(request)
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

    def GetModelInfo(self, request, context):
        return convert.model_info(self._ready(), self.settings, self.runtime_info)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
