"""LibreTranslate's API (what CMS plugins, Weblate, browser extensions and scripts speak):
POST /translate, POST /detect, GET /languages, GET /frontend/settings, GET /health. Shapes,
parameter names, messages and status codes follow LibreTranslate; the work is the service's, as for every front end."""

from __future__ import annotations

from khulasa import flags
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from khulasa_server.http.common import alive, endpoint, params
from khulasa_server.http.front import Front, HttpError
from khulasa_server.http.htmltext import translate_html, visible_text
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.service.calls import Call
from khulasa_server.text.detect import confidence, has_arabic

NAMES = {"ar": "Arabic", "en": "English"}


def _front(request: Request) -> Front:
    return request.app.state.front


def _shape(error: HttpError) -> dict:
    """LibreTranslate prefixes its 429 answers with "Slowdown:"."""
    return {"error": f"Slowdown: {error.message}" if error.status == 429 else error.message}


lt_endpoint = endpoint(_front, _shape)


def _authorize(front: Front, request: Request, values: dict) -> str:
    """LibreTranslate's answers: no key 400 (it asks for one), a wrong key 403. `apiKey` is
    what the `libretranslate` npm client sends."""
    token = front.bearer(request, values.get("api_key") or values.get("apiKey"))
    if front.auth is not None and not token:
        raise HttpError(400, "Please contact the server operator to get an API key")
    if not front.allows(token):
        raise HttpError(403, "Invalid API key")
    return token


def _detected(text: str, language: str) -> dict:
    """LibreTranslate's {confidence, language}; text with no letters is 'en' at 0, as there."""
    if language == "und":
        return {"confidence": 0.0, "language": "en"}
    return {"confidence": confidence(text, language), "language": language}


@lt_endpoint("Translate")
async def translate(request: Request, call: Call) -> JSONResponse:
    front = _front(request)
    values = await params(request)
    token = _authorize(front, request, values)
    q, source, target = values.get("q"), values.get("source"), values.get("target")
    for name, value in (("q", q), ("source", source), ("target", target)):
        if not value:
            raise HttpError(400, f"Invalid request: missing {name} parameter")
    batch = isinstance(q, list)
    texts: list = q if isinstance(q, list) else [q]
    if not all(isinstance(t, str) for t in texts):
        raise HttpError(400, "Invalid request: q must be a string or a list of strings")
    if not isinstance(source, str) or not isinstance(target, str):
        raise HttpError(400, "Invalid request: source and target must be strings")
    text_format = values.get("format") or "text"
    if text_format not in ("text", "html"):
        raise HttpError(400, f"{text_format} format is not supported")
    try:
        alternatives = max(0, int(values.get("alternatives") or 0))
    except (TypeError, ValueError, OverflowError):
        raise HttpError(400, "Invalid request: alternatives parameter is not a number") from None
    if batch and len(texts) > front.settings.max_texts:
        raise HttpError(400, f"Invalid request: request ({len(texts)}) exceeds text limit ({front.settings.max_texts})")
    fields = [f"q[{i}]" for i in range(len(texts))] if batch else ["q"]
    core = front.core
    core.check_texts(texts, fields)
    sources, target_language = core.languages()
    if source != "auto" and source not in sources:
        raise HttpError(400, f"{source} is not supported")
    if target != target_language:
        raise HttpError(400, f"{target} is not supported")
    requested = "" if source == "auto" else source

    def work() -> tuple[list[str], list[str], list[str], list[list[dict]]]:
        # Each text's language first, so that a refusal names q (the service would say texts[i]).
        visible = [visible_text(t) for t in texts] if text_format == "html" else texts
        seen, languages = map(list, zip(*core.languages_of(visible, requested, fields)))
        if text_format == "text":
            results = core.translate(texts, ArticleOptions(source_language=requested), fields)
            flagged = [_warnings(r.segments) for r in results]
            return [r.text for r in results], [r.detected_language for r in results], seen, flagged
        nodes = [0] * len(texts)  # each text's translated nodes, to give each its own warnings
        found: list = []

        def wants(i: int, node: str) -> bool:
            chosen = languages[i] == "ar" and has_arabic(node)
            nodes[i] += chosen
            return chosen

        def translate_nodes(sources: list[str]) -> list[str]:
            # A page's text nodes are texts: at most max_texts reach the service at once, as for
            # any caller (a page of 600 nodes is 600 texts, not one).
            limit = front.settings.max_texts
            out: list[str] = []
            for start in range(0, len(sources), limit):
                results = core.translate(sources[start : start + limit], ArticleOptions(source_language="ar"))
                found.extend(results)
                out += [r.text.strip() for r in results]
            return out

        out = translate_html(texts, wants, translate_nodes)
        ends = [sum(nodes[: i + 1]) for i in range(len(texts))]
        flagged = [_warnings([s for r in found[end - n : end] for s in r.segments]) for n, end in zip(nodes, ends)]
        return out, languages, seen, flagged

    translated, languages, seen, flagged = await front.call(call, request, token, work)
    # Beside LibreTranslate's keys (its clients ignore others): what to check in each translation.
    result: dict = {"translatedText": translated if batch else translated[0], "warnings": flagged if batch else flagged[0]}
    if source == "auto":
        detected = [_detected(s, lang) for s, lang in zip(seen, languages)]
        result["detectedLanguage"] = detected if batch else detected[0]
    if alternatives:
        # No alternative translations are produced; the key is there with nothing in it.
        result["alternatives"] = [[] for _ in texts] if batch else []
    return JSONResponse(result)


def _warnings(segments) -> list[dict]:
    """A text's faithfulness flags: {code, severity, message, source} per flag, in the words of
    khulasa/flags.py; notes that say nothing is missing are left out."""
    out = []
    for segment in segments:
        for warning in segment.warnings:
            kind, _, value = warning.partition(":")
            if kind in flags.NOTES:
                continue
            if kind == "missing_number":
                value = flags.as_written(value, segment.source)
            out.append(
                {
                    "code": warning,
                    "severity": flags.severity(kind),
                    "message": flags.explain(kind, value),
                    "source": segment.source,
                }
            )
    return out


@lt_endpoint("Detect")
async def detect_language(request: Request, call: Call) -> JSONResponse:
    front = _front(request)
    values = await params(request)
    token = _authorize(front, request, values)
    q = values.get("q")
    if not q:
        raise HttpError(400, "Invalid request: missing q parameter")
    if not isinstance(q, str):
        raise HttpError(400, "Invalid request: q must be a string")
    # On a pool thread within the client's slot and deadline, as every other call: not on the loop.
    text, language = await front.call(call, request, token, lambda: front.core.detect(q, "q"))
    if language not in ("ar", "en", "und"):
        return JSONResponse([])  # Persian, another Latin-script language, another script: none served
    return JSONResponse([_detected(text, language)])


@lt_endpoint("Languages")
async def languages(request: Request, call: Call) -> JSONResponse:
    languages, target = _front(request).core.languages()
    return JSONResponse(
        [{"code": code, "name": NAMES.get(code, code), "targets": [target] if code != target else []} for code in languages]
    )


@lt_endpoint("FrontendSettings")
async def frontend_settings(request: Request, call: Call) -> JSONResponse:
    front = _front(request)
    languages, target = front.core.languages() if front.core.loaded else (("ar",), "en")
    source = languages[0]
    return JSONResponse(
        {
            "charLimit": front.settings.max_text_chars,
            "frontendTimeout": 500,
            "apiKeys": front.auth is not None,
            "keyRequired": front.auth is not None,
            "suggestions": False,
            "filesTranslation": False,
            "supportedFilesFormat": [],
            "language": {
                "source": {"code": source, "name": NAMES.get(source, source)},
                "target": {"code": target, "name": NAMES.get(target, target)},
            },
        }
    )


ROUTES = [
    Route("/translate", translate, methods=["POST"]),
    Route("/detect", detect_language, methods=["POST"]),
    Route("/languages", languages, methods=["GET"]),
    Route("/frontend/settings", frontend_settings, methods=["GET"]),
    Route("/health", alive, methods=["GET"]),  # LibreTranslate's name for /healthz
]
