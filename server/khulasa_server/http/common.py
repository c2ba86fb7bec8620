"""Request bodies, JSON answers and the per-request wrapper every HTTP endpoint uses."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable

from google.protobuf import json_format
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from khulasa_server import metrics
from khulasa_server.errors import ResourceExhausted
from khulasa_server.http.front import Front, HttpError
from khulasa_server.service.calls import Call

log = logging.getLogger("khulasa.http")


def to_json(message) -> dict:
    """protobuf's JSON mapping with every field present, defaults included (lowerCamelCase)."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def parse_message(body: dict, message_type):
    try:
        return json_format.ParseDict(body, message_type())
    except json_format.ParseError as exc:
        raise HttpError(400, f"invalid {message_type.DESCRIPTOR.name}: {exc}") from None


async def json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(400, f"Invalid JSON format: {exc}") from None
    except RecursionError:
        raise HttpError(400, "Invalid JSON format: nested too deeply") from None
    if not isinstance(body, dict):
        raise HttpError(400, "Invalid JSON format: expected an object")
    _no_surrogates(body)
    return body


def _no_surrogates(value: object, depth: int = 0) -> None:
    """JSON's \\ud800 escapes decode to lone surrogates, which no UTF-8 text can hold: refused
    here, naming the key, rather than failing later as an internal error. Strings are what a
    request carries; nesting past what a request needs is refused too."""
    if depth > 64:
        raise HttpError(400, "Invalid JSON format: nested more than 64 deep")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise HttpError(400, "Invalid JSON format: a string holds a lone surrogate (\\ud800-\\udfff), not text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_surrogates(key, depth + 1)
            _no_surrogates(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _no_surrogates(item, depth + 1)


class _StrictParser(MultiPartParser):
    """Starlette's multipart parser, except that a field that is not UTF-8 is refused: Starlette
    would read it as Latin-1 and translate mojibake (gRPC refuses such bytes too)."""

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            try:
                bytes(part.data).decode(self._charset or "utf-8")
            except (UnicodeDecodeError, LookupError):
                raise MultiPartException(f"the form field {part.field_name!r} is not UTF-8") from None
        super().on_part_end()


async def params(request: Request) -> dict:
    """A request's parameters from a JSON body, a form (urlencoded or multipart) or the query
    string, as LibreTranslate reads them."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return await json_body(request)
    values = dict(request.query_params)
    if request.method != "POST":
        return values
    if kind == "multipart/form-data":
        try:
            form = await _StrictParser(request.headers, request.stream()).parse()
        except MultiPartException as exc:  # too many fields, not UTF-8, a malformed body
            raise HttpError(400, f"Invalid request: {exc.message}") from None
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    elif kind == "application/x-www-form-urlencoded":
        # Decoded as UTF-8 whether the client percent-encoded it or not (curl -d sends raw
        # bytes); a form parser that reads raw bytes as Latin-1 would garble the Arabic.
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "Invalid request: the form is not UTF-8") from None
        values.update(urllib.parse.parse_qsl(text, keep_blank_values=True))
        # LibreTranslate normalizes form line endings to \n (its character limit counts them so).
        if isinstance(values.get("q"), str):
            values["q"] = "\n".join(values["q"].splitlines())
    return values


async def alive(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


def error_response(error: HttpError, request_id: str, body: dict | None = None) -> JSONResponse:
    headers = {"x-request-id": request_id, **error.headers}
    return JSONResponse(body or {"error": error.message}, status_code=error.status, headers=headers)


Handler = Callable[[Request, Call], Awaitable[Response]]


def endpoint(front_of: Callable[[Request], Front], shape: Callable[[HttpError], dict] | None = None):
    """endpoint(...)(rpc) wraps a handler as a call of the core named rpc (service/calls.py): a
    request id in and out, every failure as {"error": …} with the gRPC side's status mapping
    (shape() may reshape the body), never a traceback to the client."""

    def named(rpc: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            @functools.wraps(handler)
            async def run(request: Request) -> Response:
                front = front_of(request)
                call = front.open(request, rpc)
                try:
                    response = await handler(request, call)
                    _sized(rpc, response, front.settings.max_message_bytes)
                except Exception as exc:  # every failure becomes an answer; the server keeps serving
                    error = front.failure(exc, call)
                    return error_response(error, call.request_id, shape(error) if shape else None)
                response.headers["x-request-id"] = call.request_id
                return response

            return run

        return wrap

    return named


def _sized(rpc: str, response: Response, limit: int) -> None:
    """An answer over max_message_bytes is refused as gRPC refuses it (streams are sized by event)."""
    body = getattr(response, "body", None)
    if isinstance(body, bytes) and len(body) > limit:
        raise ResourceExhausted(f"the {rpc} response is {len(body)} bytes; the limit is {limit} (max_message_bytes)")


class HttpCalls:
    """ASGI middleware: caps request bodies at max_message_bytes (413), counts every request by
    route and status, timed to the end of its body, and ends the core's call the request was
    (Front.open), which writes its one log line; a request that was none (health, metrics, the
    page) gets a line of its own."""

    def __init__(self, app, limit: int, body_timeout: float = 30.0):
        self.app, self.limit, self.body_timeout = app, limit, body_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        state = {"status": 0, "received": 0, "id": "", "sent": False, "body_done": False}
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and b"transfer-encoding" in headers:
            # RFC 9112 6.3: a message with both is a request-smuggling attempt or a broken client;
            # answered and the connection closed, never read as two requests.
            message = "a request may not have both Content-Length and Transfer-Encoding"
            return await self._refuse(scope, receive, send, 400, message, start)
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send, 413, self._message(int(declared)), start)
        shared = scope.setdefault("state", {})  # Request.state: where Front.open leaves the call

        async def counted_receive():
            if state["body_done"]:  # only the disconnect can come now: wait as long as it takes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                metrics.HTTP_TIMEOUTS.labels(kind="body").inc()
                raise HttpError(
                    408, f"the request body stalled for {self.body_timeout:g} s (http_body_timeout)", {"Connection": "close"}
                ) from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.limit:
                    raise HttpError(413, self._message(state["received"]))
                state["body_done"] = not message.get("more_body", False)
            else:
                state["body_done"] = True
            return message

        async def watched_send(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["id"] = dict(message.get("headers") or ()).get(b"x-request-id", b"").decode()
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                state["sent"] = True

        try:
            await self.app(scope, counted_receive, watched_send)
        finally:
            status = state["status"] or 500
            call = shared.get("khulasa_call")
            if call is None:
                self._record(scope, status, start, state["id"])
            else:
                if not state["sent"] and call.code == "OK":  # the client left before the answer was out
                    call.code = "DEADLINE_EXCEEDED" if call.scope.expired(slack=0.05) else "CANCELLED"
                self._count(scope, status, start)
                call.end(method=scope.get("method"), route=_route(scope), status=status)

    def _message(self, size: int) -> str:
        return f"the request body has {size} bytes or more; the limit is {self.limit} (max_message_bytes)"

    async def _refuse(self, scope, receive, send, status: int, message: str, start: float):
        response = JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})
        await response(scope, receive, send)
        self._record(scope, status, start)

    @staticmethod
    def _count(scope, status: int, start: float) -> float:
        seconds = time.perf_counter() - start
        metrics.HTTP_REQUESTS.labels(route=_route(scope), status=str(status)).inc()
        metrics.HTTP_LATENCY.labels(route=_route(scope)).observe(seconds)
        return seconds

    @classmethod
    def _record(cls, scope, status: int, start: float, request_id: str = "") -> None:
        seconds = cls._count(scope, status, start)
        log.info(
            "http",
            extra={
                "method": scope.get("method"),
                "route": _route(scope),
                "status": status,
                "request_id": request_id,
                "ms": round(seconds * 1000, 1),
            },
        )


def _route(scope) -> str:
    return getattr(scope.get("route"), "path", None) or "other"
