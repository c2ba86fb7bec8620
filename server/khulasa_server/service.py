"""The gRPC servicer: request validation and error mapping around the pipeline, nothing else."""

from __future__ import annotations

import functools
import hashlib
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

from . import __version__, convert, metrics
from .config import Settings
from .engines.batcher import Overloaded
from .errors import InvalidArgument
from .pipeline import DEFAULT_SUMMARY_SENTENCES, Pipeline
from .scope import Cancelled, DeadlineExceeded, RequestScope, current

log = logging.getLogger("khulasa.rpc")


class Unavailable(Exception):
    pass


class TooManyInFlight(Exception):
    pass


class InFlight:
    """RPCs in flight per client: its bearer token if it sent one, else its address."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def client(context: grpc.ServicerContext) -> str:
        for key, value in context.invocation_metadata():
            if key == "authorization":
                return "token:" + hashlib.sha256(value.encode()).hexdigest()[:16]
        peer = context.peer()  # "ipv4:127.0.0.1:53412", "ipv6:[::1]:53412"
        return peer.rsplit(":", 1)[0]

    def enter(self, client: str) -> None:
        with self._lock:
            count = self._counts.get(client, 0)
            if count >= self.limit:
                raise TooManyInFlight(
                    f"this client already has {count} requests in flight; the limit is {self.limit} (max_inflight_per_client)"
                )
            self._counts[client] = count + 1

    def leave(self, client: str) -> None:
        with self._lock:
            left = self._counts.get(client, 1) - 1
            if left:
                self._counts[client] = left
            else:
                self._counts.pop(client, None)


class _Status(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: tuple):
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _status(code: grpc.StatusCode, message: str, request_id: str, field: str | None = None,
            retry_after: float | None = None) -> grpc.Status:
    details = []
    if field:
        violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
    if retry_after is not None:
        delay = duration_pb2.Duration(seconds=int(retry_after), nanos=int((retry_after % 1) * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
        violation = error_details_pb2.QuotaFailure.Violation(subject="server queue", description=message)
        details.append(_pack(error_details_pb2.QuotaFailure(violations=[violation])))
    status = status_pb2.Status(code=code.value[0], message=message, details=details)
    metadata = (("x-request-id", request_id), ("grpc-status-details-bin", status.SerializeToString()))
    return _Status(code, message, metadata)


def _request_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == "x-request-id" and value:
            return value[:64]
    return uuid.uuid4().hex


_EXPECTED = {
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    TooManyInFlight: grpc.StatusCode.RESOURCE_EXHAUSTED,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    Cancelled: grpc.StatusCode.CANCELLED,
}


def _failure(exc: BaseException, rpc: str, request_id: str) -> tuple[grpc.StatusCode, str, str | None]:
    if isinstance(exc, InvalidArgument):
        return grpc.StatusCode.INVALID_ARGUMENT, exc.message, exc.field
    for kind, code in _EXPECTED.items():
        if isinstance(exc, kind):
            return code, str(exc), None
    log.error("unexpected error", exc_info=exc, extra={"rpc": rpc, "request_id": request_id})
    return grpc.StatusCode.INTERNAL, f"internal error (request id {request_id})", None


def _abort(context: grpc.ServicerContext, exc: BaseException, rpc: str, request_id: str, start: float) -> None:
    code, message, field = _failure(exc, rpc, request_id)
    _finish(rpc, request_id, start, code)
    retry_after = exc.retry_after if isinstance(exc, Overloaded) else None
    context.abort_with_status(_status(code, message, request_id, field, retry_after))


def _finish(rpc: str, request_id: str, start: float, code: grpc.StatusCode) -> None:
    seconds = time.perf_counter() - start
    metrics.REQUESTS.labels(rpc=rpc, code=code.name).inc()
    metrics.LATENCY.labels(rpc=rpc).observe(seconds)
    log.info("rpc", extra={"rpc": rpc, "request_id": request_id, "code": code.name, "ms": round(seconds * 1000, 1)})


def _scope(context: grpc.ServicerContext) -> RequestScope:
    remaining = context.time_remaining()
    deadline = time.monotonic() + remaining if remaining is not None and remaining < 1e8 else None
    return RequestScope(deadline, context.is_active)


def unary(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self, request, context):
        request_id, start = _request_id(context), time.perf_counter()
        context.set_trailing_metadata((("x-request-id", request_id),))
        token = current.set(_scope(context))
        client = InFlight.client(context)
        try:
            self.inflight.enter(client)
            try:
                response = method(self, request, context, request_id)
            finally:
                self.inflight.leave(client)
        except Exception as exc:  # every failure becomes a status; the server keeps serving
            _abort(context, exc, method.__name__, request_id, start)
        finally:
            current.reset(token)
        _finish(method.__name__, request_id, start, grpc.StatusCode.OK)
        return response

    return wrapper


def streaming(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self, request, context):
        request_id, start = _request_id(context), time.perf_counter()
        context.set_trailing_metadata((("x-request-id", request_id),))
        current.set(_scope(context))  # this thread serves this stream until it ends
        client = InFlight.client(context)
        finished = threading.Event()

        def on_termination() -> None:
            # A client that cancels while the stream waits at a yield is never seen by the
            # code below: gRPC just stops asking for messages. Account for it here.
            if not finished.is_set():
                finished.set()
                _finish(method.__name__, request_id, start, grpc.StatusCode.CANCELLED)

        context.add_callback(on_termination)
        try:
            self.inflight.enter(client)
            try:
                yield from method(self, request, context, request_id)
            finally:
                self.inflight.leave(client)
        except Exception as exc:
            if finished.is_set():
                return
            finished.set()
            _abort(context, exc, method.__name__, request_id, start)
        if not finished.is_set():
            finished.set()
            _finish(method.__name__, request_id, start, grpc.StatusCode.OK)

    return wrapper


class NewsDigestService(pb_grpc.NewsDigestServicer):
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pipeline: Pipeline | None = None  # set once the bundle is loaded
        self.runtime_info: dict[str, str] = {}
        self.inflight = InFlight(settings.max_inflight_per_client)
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="digest-many")

    # -- validation ---------------------------------------------------------------------

    def _ready(self) -> Pipeline:
        if self.pipeline is None:
            raise Unavailable("models are still loading; retry shortly (health reports SERVING when ready)")
        return self.pipeline

    def _check_text(self, text: str, field: str) -> None:
        if not text.strip():
            raise InvalidArgument(field, f"{field} is empty")
        if len(text) > self.settings.max_text_chars:
            raise InvalidArgument(
                field,
                f"{field} has {len(text)} characters; the limit is {self.settings.max_text_chars} "
                f"(max_text_chars). Split the text or raise the server's limit.",
            )

    def _max_sentences(self, value: int) -> int:
        if value == 0:
            return DEFAULT_SUMMARY_SENTENCES
        limit = self.settings.max_summary_sentences
        if not 1 <= value <= limit:
            raise InvalidArgument("max_sentences", f"max_sentences must be between 1 and {limit} (0 for the default), got {value}")
        return value

    def _digest(self, request: pb.DigestRequest) -> Any:
        self._check_text(request.text, "text")
        return self._ready().digest(
            request.text, request.source_language, self._max_sentences(request.max_sentences), request.summary_method,
            dict(request.glossary),
        )

    # -- RPCs ---------------------------------------------------------------------------

    @unary
    def Translate(self, request, context, request_id):
        if not request.texts:
            raise InvalidArgument("texts", "texts must hold at least one text")
        if len(request.texts) > self.settings.max_texts:
            raise InvalidArgument("texts", f"texts holds {len(request.texts)} texts; the limit is {self.settings.max_texts} (max_texts)")
        for i, text in enumerate(request.texts):
            self._check_text(text, f"texts[{i}]")
        results = self._ready().translate(list(request.texts), request.source_language, dict(request.glossary))
        return pb.TranslateResponse(translations=[convert.translation(t) for t in results])

    @unary
    def Summarize(self, request, context, request_id):
        self._check_text(request.text, "text")
        result = self._ready().summarize(
            request.text, request.source_language, self._max_sentences(request.max_sentences), request.summary_method,
            dict(request.glossary),
        )
        return pb.SummarizeResponse(
            summary=result.text, sentences=convert.summary_sentences(result), detected_language=result.detected_language
        )

    @unary
    def Digest(self, request, context, request_id):
        return convert.digest(request.id, self._digest(request))

    @streaming
    def StreamDigest(self, request, context, request_id):
        self._check_text(request.text, "text")
        pipeline = self._ready()
        events = pipeline.iter_digest(
            request.text, request.source_language, self._max_sentences(request.max_sentences), request.summary_method,
            dict(request.glossary),
        )
        for event in events:
            if not context.is_active():  # the client left: translate nothing more
                events.close()
                raise Cancelled("the client cancelled the stream")
            yield convert.event(request.id, event)

    def _digest_item(self, request: pb.DigestRequest, request_id: str, scope: RequestScope) -> pb.DigestResponse:
        current.set(scope)  # a pool thread: carry the stream's deadline and cancellation
        try:
            return convert.digest(request.id, self._digest(request))
        except Exception as exc:
            code, message, _ = _failure(exc, "DigestMany", request_id)
            return pb.DigestResponse(id=request.id, error=pb.Error(code=code.value[0], message=message))

    @streaming
    def DigestMany(self, request_iterator, context, request_id):
        """Requests are read on their own thread, so responses flow back while the client is
        still sending; at most digest_many_concurrency articles are in work at once."""
        self._ready()
        scope = current.get()
        done: queue.Queue = queue.Queue()
        slots = threading.Semaphore(self.settings.digest_many_concurrency)
        submitted = [0]
        finished = object()

        def read() -> None:
            try:
                for request in request_iterator:
                    slots.acquire()
                    if not context.is_active():
                        break
                    future: Future = self._pool.submit(self._digest_item, request, request_id, scope)
                    future.add_done_callback(lambda f: (slots.release(), done.put(f)))
                    submitted[0] += 1
            except Exception as exc:  # the client's stream broke or was cancelled
                done.put(exc)
            done.put(finished)

        threading.Thread(target=read, name="digest-many-reader", daemon=True).start()
        yielded, reader_done = 0, False
        while not reader_done or yielded < submitted[0]:
            item = done.get()
            if item is finished:
                reader_done = True
            elif isinstance(item, Exception):
                if context.is_active():
                    raise item
            else:
                yielded += 1
                yield item.result()

    @unary
    def GetModelInfo(self, request, context, request_id):
        pipeline = self._ready()
        b = pipeline.bundle
        models = []
        for name, entry in b.models.items():
            models.append(
                pb.ModelDescription(
                    name=name,
                    roles=[role for role, model in b.roles.items() if model == name],
                    family=entry.family,
                    engine=entry.engine,
                    quantization=entry.quantization,
                    source=entry.source,
                    license=entry.license,
                    max_input_tokens=entry.max_input_tokens,
                )
            )
        s = self.settings
        return pb.ModelInfo(
            bundle_name=b.name,
            bundle_version=b.version,
            models=models,
            source_languages=list(pipeline.languages),
            target_language=b.target_language,
            limits=pb.Limits(
                max_text_chars=s.max_text_chars,
                max_texts=s.max_texts,
                max_message_bytes=s.max_message_bytes,
                max_summary_sentences=s.max_summary_sentences,
            ),
            device=self.runtime_info.get("device", ""),
            compute_type=self.runtime_info.get("compute_type", ""),
            default_summary_method=b.summary_method,
            server_version=__version__,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
