"""What Client and AsyncClient share, so that they cannot drift: the connection, channels and
stubs, every call's request (written once, below), the retry policy of a call (Attempts), and
how a DigestMany answer is reported (DigestResult). client.py and aio.py add only the transport:
how to wait and how to iterate, blocking or awaitable."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

import grpc
from grpc_health.v1 import health_pb2
from khulasa.v1 import khulasa_pb2 as pb

from .connection import DEFAULT_SERVER, Connection, RetryPolicy, retry_wait
from .errors import ApiError

_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class ArticleOptions(TypedDict, total=False):
    """An article's options, named as the proto and the server's ArticleOptions
    (server/khulasa_server/pipeline/options.py) name them, for passing by keyword."""

    source_language: str
    max_sentences: int
    summary_method: str
    glossary: dict[str, str] | None


class Attempts:
    """The retry policy of one call: which server each attempt goes to, how long it may take
    (the call's deadline covers all attempts), and how long to wait after a failure."""

    def __init__(self, core: ClientCore, stubs: list, timeout: float | None, unlimited: bool = False):
        self.stubs, self.policy = stubs, core.connection.retry
        # unlimited: a stream watched by its idle timeout has no deadline unless one is given
        limit = math.inf if unlimited and timeout is None else core.timeout if timeout is None else timeout
        self.deadline = time.monotonic() + limit
        self.first = next(core._turn)
        self.attempt = 0

    def next(self) -> tuple[Any, float | None]:
        """The stub for this attempt, and the seconds it may take (None: no deadline)."""
        stub = self.stubs[(self.first + self.attempt) % len(self.stubs)]
        if self.deadline == math.inf:
            return stub, None
        return stub, max(self.deadline - time.monotonic(), 0.001)

    def wait(self, error: ApiError) -> float:
        """Seconds to wait before the next attempt; raises the error when there is none."""
        self.attempt += 1
        wait = retry_wait(self.policy, error.code, error.retry_after, self.attempt, self.deadline - time.monotonic())
        if wait is None:
            raise error
        return wait


def idle_error(seconds: float) -> ApiError:
    """A stream given up because nothing came for `seconds` (the caller's idle timeout)."""
    return ApiError(
        "DEADLINE_EXCEEDED",
        f"nothing came from the server for {seconds:g} s (the idle timeout); the server may be busy or the "
        "article very long: allow more with idle_timeout (the CLI's --idle-timeout)",
    )


def assemble(events: Iterable[pb.DigestEvent], id: str = "") -> pb.DigestResponse:
    """The DigestResponse that Digest would have answered, from StreamDigest's events."""
    response = pb.DigestResponse(id=id)
    for event in events:
        kind = event.WhichOneof("event")
        if kind == "paragraph":
            response.paragraphs.append(event.paragraph)
        elif kind == "summary":
            response.summary = event.summary.text
            response.summary_sentences.extend(event.summary.sentences)
        elif kind == "done":
            response.id = event.done.id or id
            response.detected_language = event.done.detected_language
            response.timings.CopyFrom(event.done.timings)
    response.translation = "".join(p.translation + "\n" for p in response.paragraphs)
    return response


class DigestResult:
    """One answer of digest_many: `id`, and either `error` (an ApiError: code as a name such as
    "INVALID_ARGUMENT", and message) or the DigestResponse's fields (`translation`, `summary`,
    `paragraphs`, ...; the message itself is `response`)."""

    def __init__(self, response: pb.DigestResponse):
        self.response = response
        self.id = response.id
        self.error = None
        if response.error.code:
            code = _CODE_NAMES.get(response.error.code, str(response.error.code))
            self.error = ApiError(code, response.error.message, id=response.id)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "response":  # copy and pickle probe before __init__ ran
            raise AttributeError(name)
        return getattr(self.response, name)

    def __repr__(self) -> str:
        return f"DigestResult(id={self.id!r}, error={self.error!r})" if self.error else f"DigestResult(id={self.id!r})"


def _health_name(response) -> str:
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


class ClientCore:
    """Client("host:port") or Client(["a:50051", "b:50051"]). Keyword options: timeout
    (seconds, per call, retries included), token / token_file, tls, tls_ca, tls_cert, tls_key,
    tls_server_name, max_message_bytes, retry (RetryPolicy), metadata. A host without a port
    means port 50051."""

    aio = False

    def __init__(
        self,
        target: str | Sequence[str] = DEFAULT_SERVER,
        *,
        timeout: float = 300.0,
        retry: RetryPolicy | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        token_file: str | None = None,
        **connection,
    ):
        from grpc_health.v1 import health_pb2_grpc
        from khulasa.v1 import khulasa_pb2_grpc

        if retry is not None:
            connection["retry"] = retry
        self.connection = Connection.make(target, token_file=token_file, **connection)
        self.timeout = timeout
        self._metadata = self.connection.metadata(tuple(metadata))
        self._channels = [self.connection.channel(t, aio=self.aio) for t in self.connection.targets]
        self._stubs = [khulasa_pb2_grpc.NewsDigestStub(c) for c in self._channels]
        self._health = [health_pb2_grpc.HealthStub(c) for c in self._channels]
        self._turn = itertools.count()

    # The transport, in client.py (blocking) and aio.py (awaitable).
    def _unary(self, method: str, request, timeout: float | None, stubs: list | None = None, convert=None): ...
    def _stream(self, method: str, request, timeout: float | None, idle_timeout: float | None = None): ...
    def _bulk(self, requests: Iterable[pb.DigestRequest], timeout: float | None): ...

    # -- the calls ------------------------------------------------------------------------

    def translate(
        self, texts: list[str], source_language: str = "", *, glossary: dict[str, str] | None = None, timeout: float | None = None
    ):
        """TranslateResponse: one Translation per text, in order."""
        return self._unary("Translate", translate_request(texts, source_language=source_language, glossary=glossary), timeout)

    def summarize(
        self,
        text: str,
        max_sentences: int = 0,
        source_language: str = "",
        summary_method: str = "",
        *,
        glossary: dict[str, str] | None = None,
        timeout: float | None = None,
    ):
        """SummarizeResponse: the summary and its sentences, each with the paragraphs it draws on."""
        options = ArticleOptions(max_sentences=max_sentences, source_language=source_language, summary_method=summary_method)
        options["glossary"] = glossary
        request = summarize_request(text, **options)
        return self._unary("Summarize", request, timeout)

    def digest(
        self,
        text: str,
        id: str = "",
        max_sentences: int = 0,
        source_language: str = "",
        summary_method: str = "",
        *,
        glossary: dict[str, str] | None = None,
        timeout: float | None = None,
    ):
        """DigestResponse: translation, summary, paragraphs (source beside English), summary sentences."""
        options = ArticleOptions(max_sentences=max_sentences, source_language=source_language, summary_method=summary_method)
        options["glossary"] = glossary
        request = digest_request(text, id, **options)
        return self._unary("Digest", request, timeout)

    def stream_digest(
        self,
        text: str,
        id: str = "",
        max_sentences: int = 0,
        source_language: str = "",
        summary_method: str = "",
        *,
        glossary: dict[str, str] | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
    ):
        """DigestEvents as the server sends them: each paragraph, the summary, done. Retried
        like the other calls, but only while nothing has arrived yet. idle_timeout: seconds
        allowed between two events (and before the first), instead of one deadline for the
        whole call, so a long article is not lost while it is still arriving; the call then
        has no deadline unless `timeout` is given. `assemble(events)` makes a DigestResponse."""
        options = ArticleOptions(max_sentences=max_sentences, source_language=source_language, summary_method=summary_method)
        options["glossary"] = glossary
        request = digest_request(text, id, **options)
        return self._stream("StreamDigest", request, timeout, idle_timeout)

    def digest_many(self, requests: Iterable[pb.DigestRequest], *, timeout: float | None = None):
        """A DigestResult per request, in completion order, over one stream to one server. An
        item that failed has `error` (an ApiError, not raised) and the stream goes on; a
        repeated id is answered once per request. Not retried: requests are consumed as they
        are sent. A failure of the stream itself raises ApiError."""
        return self._bulk(requests, timeout)

    def model_info(self, *, timeout: float | None = None):
        """ModelInfo: bundle, models, languages, limits, device, server version."""
        return self._unary("GetModelInfo", pb.GetModelInfoRequest(), timeout)

    def health(self, service: str = "", *, timeout: float | None = None):
        """SERVING, NOT_SERVING, or SERVICE_UNKNOWN (of the next server in turn)."""
        return self._unary("Check", health_pb2.HealthCheckRequest(service=service), timeout, self._health, _health_name)


# Requests are built here only, for both clients and the CLI. The option names are the proto's
# and the server's (core/options.py ArticleOptions); callers here pass them by keyword, so that
# a reordered or added option cannot land in the wrong field.
def translate_request(texts: list[str], source_language: str = "", glossary: dict[str, str] | None = None) -> pb.TranslateRequest:
    return pb.TranslateRequest(texts=texts, source_language=source_language, glossary=glossary or {})


def summarize_request(
    text: str, max_sentences: int = 0, source_language: str = "", summary_method: str = "", glossary: dict[str, str] | None = None
) -> pb.SummarizeRequest:
    return pb.SummarizeRequest(
        text=text,
        max_sentences=max_sentences,
        source_language=source_language,
        summary_method=summary_method,
        glossary=glossary or {},
    )


def digest_request(
    text: str,
    id: str = "",
    max_sentences: int = 0,
    source_language: str = "",
    summary_method: str = "",
    glossary: dict[str, str] | None = None,
) -> pb.DigestRequest:
    return pb.DigestRequest(
        id=id,
        text=text,
        max_sentences=max_sentences,
        source_language=source_language,
        summary_method=summary_method,
        glossary=glossary or {},
    )
