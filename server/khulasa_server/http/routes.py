"""khulasa's own JSON API (the proto's messages in protobuf's JSON mapping), the streamed
digest for the reading page (server-sent events), health, metrics and the page itself."""

from __future__ import annotations

import json
from pathlib import Path

from khulasa import documents, flags
from khulasa.v1 import khulasa_pb2 as pb
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from khulasa_server import messages
from khulasa_server.http.common import alive, endpoint, json_body, parse_message, to_json
from khulasa_server.http.front import Front, HttpError
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.service.calls import Call

STATIC = Path(__file__).parent / "static"


def _front(request: Request) -> Front:
    return request.app.state.front


def _shape(error: HttpError) -> dict:
    body = {"error": error.message}
    if error.code is not None:
        body["code"] = error.code
    return body


v1_endpoint = endpoint(_front, _shape)


def _authorize(front: Front, request: Request) -> str:
    token = front.bearer(request)
    if not front.allows(token):
        raise HttpError(
            401,
            "missing or invalid bearer token (Authorization: Bearer TOKEN)",
            {"WWW-Authenticate": 'Bearer realm="khulasa"'},
            "UNAUTHENTICATED",
        )
    return token


async def _request(request: Request, message_type):
    front = _front(request)
    token = _authorize(front, request)
    return front, token, parse_message(await json_body(request), message_type)


# Each route: a call of the core named as its RPC, the request parsed, the core's operation (its
# checks inside) run within the call's scope and the client's slot, the result in the proto's
# JSON mapping.


@v1_endpoint("Translate")
async def translate(request: Request, call: Call) -> JSONResponse:
    front, token, m = await _request(request, pb.TranslateRequest)
    results = await front.call(call, request, token, lambda: front.core.translate(m.texts, ArticleOptions.of(m)))
    return JSONResponse(to_json(messages.translations(results)))


@v1_endpoint("Summarize")
async def summarize(request: Request, call: Call) -> JSONResponse:
    front, token, m = await _request(request, pb.SummarizeRequest)
    result = await front.call(call, request, token, lambda: front.core.summarize(m.text, ArticleOptions.of(m)))
    return JSONResponse(to_json(messages.summary(result)))


@v1_endpoint("Digest")
async def digest(request: Request, call: Call) -> JSONResponse:
    front, token, m = await _request(request, pb.DigestRequest)
    result = await front.call(call, request, token, lambda: front.core.digest(m.text, ArticleOptions.of(m)))
    return JSONResponse(to_json(messages.digest(m.id, result)))


async def _upload(request: Request) -> tuple[Front, str, documents.Document, dict, str]:
    """A multipart/form-data upload: the article in `file` (text, Markdown, HTML, .docx; read by
    khulasa/documents.py, as the CLI reads files), other fields as strings."""
    front = _front(request)
    token = _authorize(front, request)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise HttpError(400, 'send the article as multipart/form-data, in a field named "file"', code="INVALID_ARGUMENT")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HttpError(400, 'file: missing; send the article in a form field named "file"', code="INVALID_ARGUMENT")
    name = upload.filename or "article.txt"
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        document = documents.read(await upload.read(), name, fields.get("encoding", ""))
    except documents.Unreadable as exc:
        raise HttpError(400, f"file: {exc}", code="INVALID_ARGUMENT") from None
    return front, token, document, fields, name


@v1_endpoint("Digest")
async def digest_file(request: Request, call: Call) -> JSONResponse:
    """Digest of an uploaded file: `file`, and the DigestRequest's other fields as form fields
    (`id`, default the file's name without its type; `maxSentences`, `sourceLanguage`,
    `summaryMethod`); `encoding` names a text file's encoding where detection is not wanted."""
    front, token, document, fields, name = await _upload(request)
    fields.setdefault("id", name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    fields.pop("encoding", None)
    if "maxSentences" in fields:
        fields["maxSentences"] = fields["maxSentences"] or "0"
    m = parse_message({**fields, "text": document.text}, pb.DigestRequest)
    result = await front.call(call, request, token, lambda: front.core.digest(m.text, ArticleOptions.of(m)))
    return JSONResponse(to_json(messages.digest(m.id, result)))


async def read_file(request: Request) -> JSONResponse:
    """The article an uploaded file holds, for the reading page: {title, text, kind, encoding}."""
    try:
        _, _, document, _, _ = await _upload(request)
    except HttpError as error:
        return JSONResponse(_shape(error), status_code=error.status, headers=error.headers)
    return JSONResponse({"title": document.title, "text": document.text, "kind": document.kind, "encoding": document.encoding})


@v1_endpoint("GetModelInfo")
async def model_info(request: Request, call: Call) -> JSONResponse:
    front, token, _ = await _request(request, pb.GetModelInfoRequest)
    info = await front.call(call, request, token, front.core.model_info)
    return JSONResponse(to_json(messages.model_info(*info)))


def _sse(kind: str, data: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@v1_endpoint("StreamDigest")
async def stream_digest(request: Request, call: Call) -> Response:
    """StreamDigest over server-sent events: `event: paragraph|summary|done`, each `data:` a
    DigestEvent in the JSON mapping; a failure after the first event is `event: error`."""
    front, token, message = await _request(request, pb.DigestRequest)

    def events():  # the checks too run at the first step, within the scope and allowance
        yield from front.core.stream_digest(message.text, ArticleOptions.of(message))

    first, rest = await front.stream(call, request, token, events())

    def encode(event) -> bytes:
        proto = messages.event(message.id, event)
        return _sse(proto.WhichOneof("event"), to_json(proto))

    async def body():
        yield encode(first)
        try:
            async for event in rest:
                yield encode(event)
        except Exception as exc:
            error = front.failure(exc, call)
            yield _sse("error", _shape(error))

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


async def readyz(request: Request) -> JSONResponse:
    """Ready once the models are loaded, and until shutdown starts (as gRPC health)."""
    front = _front(request)
    ready = front.loaded and front.ready
    return JSONResponse({"status": "SERVING" if ready else "NOT_SERVING"}, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    front = _front(request)
    if not front.allows(front.bearer(request)):
        return JSONResponse(
            {"error": "missing or invalid bearer token (Authorization: Bearer TOKEN)"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="khulasa"'},
        )
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def flag_words(request: Request) -> JSONResponse:
    """What each segment warning asks a reader to check, in the CLI's own words, for the page."""
    severity = {"kinds": flags.SEVERITY, "order": list(flags.SEVERITIES), "fallback": flags.DEFAULT_SEVERITY}
    return JSONResponse({"flags": flags.EXPLANATIONS, "notes": flags.NOTES, "severity": severity})


async def page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


ROUTES = [
    Route("/v1/translate", translate, methods=["POST"]),
    Route("/v1/summarize", summarize, methods=["POST"]),
    Route("/v1/digest", digest, methods=["POST"]),
    Route("/v1/digest/stream", stream_digest, methods=["POST"]),
    Route("/v1/digest/file", digest_file, methods=["POST"]),
    Route("/v1/read", read_file, methods=["POST"]),
    Route("/v1/model-info", model_info, methods=["POST"]),
    Route("/healthz", alive, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/flags.json", flag_words, methods=["GET"]),
    Route("/", page, methods=["GET"]),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]
