"""The HTTP front end end to end: a real server (gRPC and HTTP in one process, one pipeline) on
127.0.0.1, real HTTP over loopback. LibreTranslate's endpoints, khulasa's /v1 JSON, and the
same limits, auth, deadlines and overload answers as the gRPC side."""

from __future__ import annotations

import html.parser
import re
import threading
import time

import grpc
import pytest
from conftest import TEST_LIMITS, start_server
from google.protobuf import json_format
from httpapi import call, sse_events
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc
from prometheus_client import REGISTRY

from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import split_paragraphs

SHORT = "ارتفعت أسعار النفط بنسبة 4% اليوم."


@pytest.fixture(scope="session")
def port(server) -> int:
    return server.http.port


@pytest.fixture(scope="session")
def stub(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield pb_grpc.NewsDigestStub(channel)
    channel.close()


def _json(message) -> dict:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def _unique_article(seed: str, tag: int, copies: int = 40) -> str:
    """Many paragraphs, each marked with a number no other call uses, so that the sentence
    cache answers none of them."""
    paragraphs = [p.text for p in split_paragraphs(normalize(seed))]
    return "\n".join(f"{tag}{k:03d} " + re.sub(r"([.!؟؛])", rf" {tag}{k:03d}\1", p)
                     for k in range(copies) for p in paragraphs)


def _source_tokens(pipeline) -> float:
    name = pipeline.translation.engine.entry.name
    return REGISTRY.get_sample_value("khulasa_tokens_total", {"model": name, "direction": "source"}) or 0.0


# -- LibreTranslate's API ---------------------------------------------------------------------


def test_translate_form_encoded_string_with_auto_detection(port):
    reply = call(port, "POST", "/translate", form={"q": SHORT, "source": "auto", "target": "en"})
    assert reply.status == 200, reply.body
    assert set(reply.body) == {"translatedText", "detectedLanguage", "warnings"}  # warnings: khulasa's flags
    assert isinstance(reply.body["translatedText"], str) and reply.body["translatedText"].strip()
    assert reply.body["detectedLanguage"] == {"confidence": 100.0, "language": "ar"}
    # The same text over JSON, and over gRPC: the same English.
    again = call(port, "POST", "/translate", json={"q": SHORT, "source": "ar", "target": "en"})
    assert again.body == {"translatedText": reply.body["translatedText"], "warnings": reply.body["warnings"]}  # no detectedLanguage unless auto


def test_translate_raw_utf8_form_as_curl_sends_it(port):
    raw = f"q={SHORT}&source=auto&target=en".encode()
    reply = call(port, "POST", "/translate", raw=raw, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 200 and reply.body["detectedLanguage"]["language"] == "ar"


def test_translate_a_list_detects_each_text(port, stub):
    texts = [SHORT, "The minister spoke on Monday.", "2024", "قال الوزير إن الاقتصاد ينمو."]
    reply = call(port, "POST", "/translate", json={"q": texts, "source": "auto", "target": "en"})
    assert reply.status == 200, reply.body
    out = reply.body["translatedText"]
    assert isinstance(out, list) and len(out) == 4
    assert out[1] == texts[1] and out[2] == "2024"  # English and letterless text come back as they were
    assert [d["language"] for d in reply.body["detectedLanguage"]] == ["ar", "en", "en", "ar"]
    assert reply.body["detectedLanguage"][2]["confidence"] == 0.0  # LibreTranslate's answer for no letters
    grpc_out = stub.Translate(pb.TranslateRequest(texts=texts), timeout=60)
    assert out == [t.text for t in grpc_out.translations]


class _Markup(html.parser.HTMLParser):
    """Tags with their attributes, comments and script bodies, in order: what must not change."""

    def __init__(self):
        super().__init__()
        self.items = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.items.append(("start", tag, attrs))
        self._in_script = tag in ("script", "code")

    def handle_endtag(self, tag):
        self.items.append(("end", tag))
        self._in_script = False

    def handle_comment(self, data):
        self.items.append(("comment", data))

    def handle_data(self, data):
        if self._in_script:
            self.items.append(("code", data))


def _markup(document: str) -> list:
    parser = _Markup()
    parser.feed(document)
    parser.close()
    return parser.items


def test_translate_html_translates_text_nodes_and_keeps_the_markup(port):
    document = (
        '<article lang="ar"><h1 class="title" data-id="7">ارتفعت أسعار النفط</h1>\n'
        '<p>قال <a href="https://example.org/?a=1&amp;b=2" title="رابط">الوزير</a> إن الاقتصاد ينمو.<br/>'
        "Reuters</p><!-- تعليق --><script>var s = '<b>نص</b>';</script><code>قال</code>"
        '<p translate="no">الكرملين</p></article>'
    )
    reply = call(port, "POST", "/translate", json={"q": document, "source": "ar", "target": "en", "format": "html"})
    assert reply.status == 200, reply.body
    out = reply.body["translatedText"]
    assert _markup(out) == _markup(document)  # every tag, attribute, comment and script as it was
    assert "Reuters</p>" in out and "<code>قال</code>" in out and '<p translate="no">الكرملين</p>' in out
    # Each Arabic text node became its own translation, escaped as HTML text.
    node = call(port, "POST", "/translate", json={"q": "الوزير", "source": "ar", "target": "en"}).body["translatedText"]
    escaped = node.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'title="رابط">{escaped}</a>' in out
    assert "ارتفعت" not in out and "الاقتصاد" not in out


def test_translate_html_gives_the_pipeline_at_most_max_texts_nodes_at_once(port, server, monkeypatch):
    # A page's text nodes are texts: 20 of them (max_texts is 8 here) go to the model in calls of
    # at most 8, as any caller's texts would, and every one is still translated.
    pipeline = server.core.pipeline
    sizes = []
    real = pipeline.translate

    def counted(texts, *args, **kwargs):
        sizes.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(pipeline, "translate", counted)
    document = "".join(f"<p>قال الوزير إن الاقتصاد ينمو {i}.</p>" for i in range(20))
    reply = call(port, "POST", "/translate", json={"q": document, "source": "ar", "target": "en", "format": "html"})
    assert reply.status == 200, reply.body
    assert sum(sizes) == 20 and max(sizes) <= TEST_LIMITS["max_texts"], sizes
    assert reply.body["translatedText"].count("<p>") == 20 and "الاقتصاد" not in reply.body["translatedText"]

def test_translate_errors_as_libretranslate_returns_them(port, server):
    def post(**body):
        return call(port, "POST", "/translate", json=body)

    cases = [
        (post(source="auto", target="en"), 400, "Invalid request: missing q parameter"),
        (post(q=SHORT, target="en"), 400, "Invalid request: missing source parameter"),
        (post(q=SHORT, source="ar"), 400, "Invalid request: missing target parameter"),
        (post(q=SHORT, source="ar", target="fr"), 400, "fr is not supported"),
        (post(q=SHORT, source="de", target="en"), 400, "de is not supported"),
        (post(q=SHORT, source="ar", target="en", format="xml"), 400, "xml format is not supported"),
        (post(q=[SHORT] * 9, source="ar", target="en"), 400, "Invalid request: request (9) exceeds text limit (8)"),
        (post(q=[SHORT, "  "], source="ar", target="en"), 400, "q[1] is empty"),
        (post(q="ب" * 20_001, source="ar", target="en"), 400,
         "q has 20001 characters; the limit is 20000 (max_text_chars). Split the text or raise the server's limit."),
        (call(port, "POST", "/translate", raw=b"[1, 2]", headers={"Content-Type": "application/json"}), 400,
         "Invalid JSON format: expected an object"),
    ]
    for reply, status, message in cases:
        assert (reply.status, reply.body) == (status, {"error": message})
    persian = post(q="این یک متن فارسی است که کیفیت دارد", source="auto", target="en")
    assert persian.status == 400 and persian.error.startswith("q: detected Persian or Urdu, which is not supported; supported: Arabic (ar)")
    missing = call(port, "GET", "/nowhere")
    assert (missing.status, missing.body) == (404, {"error": "Not Found"})


def test_detect_languages_and_frontend_settings(port):
    assert call(port, "POST", "/detect", form={"q": SHORT}).body == [{"confidence": 100.0, "language": "ar"}]
    assert call(port, "POST", "/detect", json={"q": "The talks resumed in Istanbul."}).body == [
        {"confidence": 100.0, "language": "en"}]
    assert call(port, "POST", "/detect", json={"q": "این یک متن فارسی است که کیفیت دارد"}).body == []
    assert call(port, "POST", "/detect", json={}).body == {"error": "Invalid request: missing q parameter"}
    assert call(port, "GET", "/languages").body == [
        {"code": "ar", "name": "Arabic", "targets": ["en"]}, {"code": "en", "name": "English", "targets": []}]
    settings = call(port, "GET", "/frontend/settings").body
    assert settings["charLimit"] == TEST_LIMITS["max_text_chars"] and settings["apiKeys"] is False
    assert settings["language"] == {"source": {"code": "ar", "name": "Arabic"}, "target": {"code": "en", "name": "English"}}
    assert call(port, "GET", "/health").body == {"status": "ok"}


def test_the_page_gets_the_clis_words_for_every_flag(port):
    from khulasa import flags

    words = call(port, "GET", "/flags.json").body
    severity = {"kinds": flags.SEVERITY, "order": list(flags.SEVERITIES), "fallback": flags.DEFAULT_SEVERITY}
    assert words == {"flags": flags.EXPLANATIONS, "notes": flags.NOTES, "severity": severity}
    # every warning the server can put on a segment is explained
    for kind in ("missing_number", "missing_name", "unverified_name", "missing_term", "repetition_cut",
                 "output_length_limit", "empty_output", "untranslated_arabic"):
        assert kind in words["flags"], kind
    assert "split_long_sentence" in words["notes"]


# -- khulasa's own JSON -------------------------------------------------------------------------


def test_v1_answers_are_the_grpc_answers_in_the_json_mapping(port, stub, seed_text):
    request = pb.DigestRequest(id="d1", text=seed_text, max_sentences=2)
    reply = call(port, "POST", "/v1/digest", json=_json(request))
    assert reply.status == 200, reply.body
    assert reply.headers["x-request-id"]
    expected = _json(stub.Digest(request, timeout=120))
    got = dict(reply.body)
    for body in (got, expected):
        assert set(body.pop("timings")) == {"totalMs", "translateMs", "summarizeMs", "sourceTokens", "targetTokens", "checksMs"}
    assert got == expected
    # Every scalar and list field is there, defaults included; `error`, a message, only when set.
    assert set(got) == {"id", "translation", "summary", "paragraphs", "summarySentences", "detectedLanguage"}
    assert got["paragraphs"][0]["index"] == 0 and set(got["paragraphs"][0]["segments"][0]) == {
        "source", "translation", "score", "paragraph", "warnings", "confidence", "unsure"}
    assert set(got["summarySentences"][0]) == {"text", "paragraphs", "warnings"}

    texts = {"texts": [SHORT, "Hello"], "sourceLanguage": ""}
    reply = call(port, "POST", "/v1/translate", json=texts)
    assert reply.body == _json(stub.Translate(pb.TranslateRequest(texts=texts["texts"]), timeout=60))
    reply = call(port, "POST", "/v1/summarize", json={"text": seed_text, "summary_method": "extractive"})
    grpc_summary = stub.Summarize(pb.SummarizeRequest(text=seed_text, summary_method="extractive"), timeout=60)
    assert reply.body == _json(grpc_summary) and reply.body["sentences"][0]["paragraphs"]


def test_stream_digest_over_server_sent_events(port, stub, seed_text):
    reply = call(port, "POST", "/v1/digest/stream", json={"id": "s1", "text": seed_text})
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply.body)
    assert [kind for kind, _ in events] == ["paragraph"] * 11 + ["summary", "done"]
    assert all(set(data) == {kind} for kind, data in events)  # each data: one DigestEvent, oneof set
    expected = [_json(e) for e in stub.StreamDigest(pb.DigestRequest(id="s1", text=seed_text), timeout=120)]
    assert [data for _, data in events[:12]] == expected[:12]
    assert events[12][1]["done"]["id"] == "s1" and events[12][1]["done"]["detectedLanguage"] == "ar"


BAD_REQUESTS = [
    ("Digest", pb.DigestRequest(text="   ")),
    ("Digest", pb.DigestRequest(text="ب" * 20_001)),
    ("Digest", pb.DigestRequest(text=SHORT, max_sentences=99)),
    ("Digest", pb.DigestRequest(text=SHORT, source_language="fr")),
    ("Digest", pb.DigestRequest(text=SHORT, summary_method="abstract")),
    ("Digest", pb.DigestRequest(text="این یک متن فارسی است که کیفیت دارد")),
    ("Summarize", pb.SummarizeRequest(text="", max_sentences=2)),
    ("Summarize", pb.SummarizeRequest(text=SHORT, max_sentences=-1)),
    ("Translate", pb.TranslateRequest(texts=[])),
    ("Translate", pb.TranslateRequest(texts=[SHORT] * 9)),
    ("Translate", pb.TranslateRequest(texts=[SHORT, ""])),
    ("Translate", pb.TranslateRequest(texts=[SHORT], glossary={"": "x"})),
]


@pytest.mark.parametrize("rpc,request_message", BAD_REQUESTS, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BAD_REQUESTS)])
def test_both_front_ends_refuse_bad_input_alike(port, stub, rpc, request_message):
    with pytest.raises(grpc.RpcError) as info:
        getattr(stub, rpc)(request_message, timeout=60)
    path = {"Digest": "/v1/digest", "Summarize": "/v1/summarize", "Translate": "/v1/translate"}[rpc]
    reply = call(port, "POST", path, json=_json(request_message))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (reply.status, reply.body) == (400, {"error": info.value.details(), "code": "INVALID_ARGUMENT"})
    stream = call(port, "POST", "/v1/digest/stream", json=_json(request_message)) if rpc == "Digest" else reply
    assert (stream.status, stream.body) == (reply.status, reply.body)  # refused before the stream starts


def test_v1_rejects_unknown_fields_and_bad_json(port):
    reply = call(port, "POST", "/v1/digest", json={"txt": SHORT})
    assert reply.status == 400 and 'no field named "txt"' in reply.error
    reply = call(port, "POST", "/v1/digest", raw=b"{not json", headers={"Content-Type": "application/json"})
    assert reply.status == 400 and reply.error.startswith("Invalid JSON format")


def test_health_readiness_and_metrics(port):
    assert call(port, "GET", "/healthz").body == {"status": "ok"}
    assert (call(port, "GET", "/readyz").status, call(port, "GET", "/readyz").body) == (200, {"status": "SERVING"})
    call(port, "POST", "/translate", json={"q": SHORT, "source": "ar", "target": "en"})
    text = call(port, "GET", "/metrics").body
    assert re.search(r'khulasa_http_requests_total\{route="/translate",status="200"\} [1-9]', text)
    assert "khulasa_tokens_total" in text  # the pipeline's metrics: one process, one registry


# -- the same limits, auth, deadlines and overload answers as gRPC ------------------------------


def test_not_ready_until_the_models_load(bundles):
    server = start_server(bundles["tiny"], load=False, http_listen="127.0.0.1:0")
    try:
        port = server.http.port
        assert call(port, "GET", "/healthz").status == 200
        assert call(port, "GET", "/readyz").body == {"status": "NOT_SERVING"}
        reply = call(port, "POST", "/translate", json={"q": SHORT, "source": "ar", "target": "en"})
        assert reply.status == 503 and reply.headers["retry-after"] == "1" and "still loading" in reply.error
        server.load()
        assert call(port, "GET", "/readyz").status == 200
        server.stop(0, drain=0)
        with pytest.raises(OSError):
            call(port, "GET", "/healthz", timeout=5)  # no longer listening
    finally:
        server.stop(0, drain=0)


def test_token_auth_like_libretranslate_and_like_grpc(bundles, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("alpha\n")
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", auth_token_file=str(tokens))
    try:
        port = server.http.port
        body = {"q": SHORT, "source": "ar", "target": "en"}
        assert call(port, "POST", "/translate", json=body).body == {
            "error": "Please contact the server operator to get an API key"}
        wrong = call(port, "POST", "/translate", json={**body, "api_key": "beta"})
        assert (wrong.status, wrong.body) == (403, {"error": "Invalid API key"})
        assert call(port, "POST", "/translate", json={**body, "api_key": "alpha"}).status == 200
        assert call(port, "POST", "/translate", form={**body, "api_key": "alpha"}).status == 200
        assert call(port, "POST", "/translate", json={**body, "apiKey": "alpha"}).status == 200
        assert call(port, "POST", "/translate", json=body, headers={"Authorization": "Bearer alpha"}).status == 200
        assert call(port, "POST", "/detect", json={"q": SHORT}).status == 400
        unauthorized = call(port, "POST", "/v1/translate", json={"texts": [SHORT]})
        assert unauthorized.status == 401 and unauthorized.headers["www-authenticate"].startswith("Bearer")
        assert call(port, "POST", "/v1/translate", json={"texts": [SHORT]}, headers={"Authorization": "Bearer alpha"}).status == 200
        assert call(port, "GET", "/metrics").status == 401
        assert call(port, "GET", "/metrics", headers={"Authorization": "Bearer alpha"}).status == 200
        # Probes and the page's settings stay open, as gRPC health does.
        assert call(port, "GET", "/readyz").status == 200 and call(port, "GET", "/healthz").status == 200
        assert call(port, "GET", "/frontend/settings").body["keyRequired"] is True
        # The token file is re-read on SIGHUP (server.auth.reload): both front ends follow it.
        tokens.write_text("beta\n")
        server.auth.reload()
        assert call(port, "POST", "/translate", json={**body, "api_key": "beta"}).status == 200
        assert call(port, "POST", "/translate", json={**body, "api_key": "alpha"}).status == 403
    finally:
        server.stop(0, drain=0)


def test_overload_is_429_with_retry_after(bundles, seed_text):
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", max_queue_tokens=50, batch_delay_ms=400)
    try:
        port = server.http.port
        first: list = []
        holder = threading.Thread(target=lambda: first.append(
            call(port, "POST", "/v1/translate", json={"texts": [seed_text]})))
        holder.start()
        time.sleep(0.15)  # the first request's tokens wait in the queue for the batch delay
        lt = call(port, "POST", "/translate", json={"q": "قال الوزير إن المحادثات مستمرة.", "source": "ar", "target": "en"})
        v1 = call(port, "POST", "/v1/translate", json={"texts": ["أعلنت الحكومة خطة جديدة للنقل."]})
        holder.join(60)
        assert first[0].status == 200
        assert lt.status == 429 and int(lt.headers["retry-after"]) >= 1
        assert lt.error.startswith("Slowdown: the server's queue holds") and "max_queue_tokens" in lt.error
        assert v1.status == 429 and v1.body["code"] == "RESOURCE_EXHAUSTED" and int(v1.headers["retry-after"]) >= 1
    finally:
        server.stop(0, drain=0)


def test_inflight_limit_counts_a_client_on_both_front_ends(bundles, seed_text, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("alpha\nbeta\n")
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", auth_token_file=str(tokens),
                          max_inflight_per_client=1, batch_delay_ms=400)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        port = server.http.port
        stub = pb_grpc.NewsDigestStub(channel)
        future = stub.Digest.future(pb.DigestRequest(text=seed_text), timeout=60,
                                    metadata=(("authorization", "Bearer alpha"),))
        time.sleep(0.15)
        body = {"q": SHORT, "source": "ar", "target": "en"}
        same = call(port, "POST", "/translate", json={**body, "api_key": "alpha"})
        other = call(port, "POST", "/translate", json={**body, "api_key": "beta"})
        assert future.result().translation
        assert same.status == 429 and "max_inflight_per_client" in same.error and same.headers["retry-after"]
        assert other.status == 200
    finally:
        channel.close()
        server.stop(0, drain=0)


@pytest.fixture(scope="module")
def roomy(bundles):
    """A server that takes long articles, for the tests that stop work midway."""
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", max_text_chars=400_000)
    yield server
    server.stop(0, drain=0)


def _settled(pipeline, server) -> float:
    """Source tokens decoded so far, once nothing of this client is in flight and the count is still."""
    deadline = time.monotonic() + 30
    while server.http.front.active:
        assert time.monotonic() < deadline, "the request was never released"
        time.sleep(0.05)
    while True:
        before = _source_tokens(pipeline)
        time.sleep(1.0)
        # Counted when a model call ends: still only when no call is running or queued.
        if _source_tokens(pipeline) == before and not pipeline.translation.engine.gatherer.decoding and not pipeline.translation.engine.gatherer.queue:
            return before
        assert time.monotonic() < deadline, "the model kept translating for a request nobody waits for"


def test_a_deadline_stops_the_work(roomy, seed_text):
    pipeline, port = roomy.core.pipeline, roomy.http.port
    text = _unique_article(seed_text, 1)
    whole = sum(pipeline.translation.engine.count_tokens(p.text) for p in split_paragraphs(normalize(text)))
    start = _settled(pipeline, roomy)
    began = time.monotonic()
    reply = call(port, "POST", "/v1/digest", json={"text": text}, headers={"X-Request-Timeout": "0.5"})
    assert reply.status == 504 and reply.body["code"] == "DEADLINE_EXCEEDED", reply.body
    assert time.monotonic() - began < 30
    done = _settled(pipeline, roomy) - start
    assert done < 0.5 * whole, f"{done} of {whole} source tokens decoded after the deadline"
    bad = call(port, "POST", "/v1/digest", json={"text": SHORT}, headers={"X-Request-Timeout": "soon"})
    assert (bad.status, bad.error) == (400, "x-request-timeout must be a number of seconds, got 'soon'")


def _send_long_article(roomy, seed_text, tag: int, path: str):
    """Sends an article too long to finish quickly; returns the open connection, its source
    tokens in all, and the token count before it."""
    import http.client
    import json

    pipeline = roomy.core.pipeline
    text = _unique_article(seed_text, tag)
    whole = sum(pipeline.translation.engine.count_tokens(p.text) for p in split_paragraphs(normalize(text)))
    start = _settled(pipeline, roomy)
    conn = http.client.HTTPConnection("127.0.0.1", roomy.http.port, timeout=60)
    conn.request("POST", path, body=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"})
    return conn, whole, start


def test_a_client_that_leaves_a_stream_stops_the_work(roomy, seed_text):
    conn, whole, start = _send_long_article(roomy, seed_text, 2, "/v1/digest/stream")
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"event: paragraph")
    conn.sock.shutdown(2)  # the reader goes away mid-stream
    conn.close()
    done = _settled(roomy.core.pipeline, roomy) - start
    assert done < 0.5 * whole, f"{done} of {whole} source tokens decoded after the client left"
    assert call(roomy.http.port, "POST", "/translate", json={"q": SHORT, "source": "ar", "target": "en"}).status == 200


def test_a_client_that_leaves_a_unary_call_stops_the_work(roomy, seed_text):
    conn, whole, start = _send_long_article(roomy, seed_text, 3, "/v1/digest")
    pipeline = roomy.core.pipeline
    deadline = time.monotonic() + 30
    while not pipeline.translation.engine.gatherer.decoding:  # wait until the model has started on it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    conn.sock.shutdown(2)
    conn.close()
    done = _settled(pipeline, roomy) - start
    assert done < 0.5 * whole, f"{done} of {whole} source tokens decoded after the client left"


def test_request_bodies_over_the_message_limit_are_refused(bundles):
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", max_message_bytes=64 * 1024, max_text_chars=10**6)
    try:
        port = server.http.port
        reply = call(port, "POST", "/v1/translate", json={"texts": ["Hello " * 20000]})
        assert reply.status == 413 and "max_message_bytes" in reply.error

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(20):
                yield b"x" * 8192

        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/translate", body=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"},
                     encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 413
        conn.close()
        assert call(port, "POST", "/translate", json={"q": "Hello", "source": "en", "target": "en"}).status == 200
    finally:
        server.stop(0, drain=0)


def test_responses_are_not_held_back_by_nagle(server):
    """A response is written in two parts (head, body); without TCP_NODELAY the second waits
    for the client's delayed ACK, +40 ms on every kept-alive request."""
    import http.client
    import socket

    conn = http.client.HTTPConnection("127.0.0.1", server.http.port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        connections = list(server.http._server.server_state.connections)
        assert connections
        for protocol in connections:
            sock = protocol.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        conn.close()


def _server_process(*args: str):
    """khulasa-server as an operator runs it, with HTTP; returns (process, HTTP port) once ready."""
    import os
    import subprocess

    from test_cli import BIN

    proc = subprocess.Popen([str(BIN / "khulasa-server"), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", *args],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "KHULASA_LOG_LEVEL": "info"})
    port = None
    for line in proc.stderr:
        found = re.search(r'"msg": "listening \(HTTP\)", "address": "127\.0\.0\.1:(\d+)"', line)
        if found:
            port = int(found.group(1))
            break
    assert port, f"the server exited with {proc.wait()} before listening"
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    deadline = time.monotonic() + 60
    while call(port, "GET", "/readyz").status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc, port


def test_the_server_command_serves_http_with_the_flag(bundles):
    """`khulasa-server --http-listen HOST:PORT`; a bad value is one line and exit 2."""
    import signal
    import subprocess

    from test_cli import BIN

    bad = subprocess.run([str(BIN / "khulasa-server"), "--bundle", str(bundles["tiny"]), "--http-listen", "8080"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("khulasa-server: http_listen: expected HOST:PORT")
    assert len(bad.stderr.strip().splitlines()) == 1
    proc, port = _server_process("--bundle", str(bundles["tiny"]))
    try:
        assert call(port, "POST", "/translate", form={"q": SHORT, "source": "ar", "target": "en"}).status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigterm_lets_the_http_request_in_flight_finish(bundles, seed_text):
    import signal

    proc, port = _server_process("--bundle", str(bundles["tiny"]), "--grace", "60", "--batch-delay-ms", "800")
    try:
        replies: list = []
        worker = threading.Thread(target=lambda: replies.append(call(port, "POST", "/v1/digest", json={"text": seed_text})))
        worker.start()
        time.sleep(0.3)  # the request waits in the batcher for its batch delay
        proc.send_signal(signal.SIGTERM)
        worker.join(60)
        assert replies and replies[0].status == 200 and len(replies[0].body["paragraphs"]) == 11
        assert proc.wait(60) == 0
        with pytest.raises(OSError):
            call(port, "GET", "/healthz", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_an_unexpected_failure_is_500_with_the_request_id_and_nothing_else(port, server, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(server.core.pipeline, "translate", broken)
    reply = call(port, "POST", "/translate", json={"q": SHORT, "source": "ar", "target": "en"},
                 headers={"X-Request-Id": "req-42"})
    assert (reply.status, reply.body) == (500, {"error": "internal error (request id req-42)"})
    assert reply.headers["x-request-id"] == "req-42"
    v1 = call(port, "POST", "/v1/translate", json={"texts": [SHORT]})
    assert v1.status == 500 and v1.body["code"] == "INTERNAL" and "secret" not in v1.error
