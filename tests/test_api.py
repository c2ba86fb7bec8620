"""End to end over gRPC: tiny bundles, a real server on 127.0.0.1, real channels."""

from __future__ import annotations

import grpc
import pytest
from conftest import TEST_LIMITS, start_server
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from khulasa.v1 import khulasa_pb2 as pb

from khulasa_client import ApiError, Client
from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import split_paragraphs


def _squash(text: str) -> str:
    return "".join(text.split())


def test_digest_of_the_sample_article(client, seed_text):
    response = client.digest(seed_text, id="a1")
    paragraphs = split_paragraphs(normalize(seed_text))
    assert response.id == "a1"
    assert response.detected_language == "ar"
    assert [p.index for p in response.paragraphs] == list(range(len(paragraphs))) and len(paragraphs) == 11
    lines = [line.strip() for line in seed_text.splitlines() if line.strip()]
    for got, want, line in zip(response.paragraphs, paragraphs, lines):
        assert got.source == line  # as sent: the model saw `want.text`, normalized
        # Every source character went to the model, in order, in exactly one segment.
        assert _squash("".join(s.source for s in got.segments)) == _squash(line)
        assert got.translation == " ".join(s.translation for s in got.segments if s.translation)
        assert all(s.paragraph == got.index for s in got.segments)
    # Paragraph structure survives: one translated paragraph per source paragraph, same separators.
    assert response.translation == "".join(p.translation + w.separator for p, w in zip(response.paragraphs, paragraphs))
    assert 1 <= len(response.summary_sentences) <= 3
    assert response.summary == " ".join(s.text for s in response.summary_sentences)
    for sentence in response.summary_sentences:
        assert all(0 <= i < len(paragraphs) for i in sentence.paragraphs)
    t = response.timings
    assert t.total_ms >= t.translate_ms > 0 and t.summarize_ms > 0
    assert t.source_tokens > 0 and t.target_tokens > 0
    assert t.total_ms > t.checks_ms > 0  # the checks ran, and their time is told apart


def test_stream_digest_sends_paragraphs_in_order_then_summary_then_done(client, seed_text):
    events = list(client.stream_digest(seed_text, id="s1"))
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds == ["paragraph"] * 11 + ["summary", "done"]
    digest = client.digest(seed_text)
    assert [e.paragraph.translation for e in events[:11]] == [p.translation for p in digest.paragraphs]
    assert events[11].summary.text == digest.summary
    assert events[12].done.id == "s1" and events[12].done.detected_language == "ar"
    assert events[12].done.timings.total_ms > 0


def test_digest_many_answers_every_id_and_reports_bad_items(client, seed_text):
    texts = {"p1": seed_text, "p2": "قال الوزير إن الاقتصاد ينمو.", "bad": "   ", "p3": "The minister spoke.", "p4": seed_text[:300]}
    requests = [pb.DigestRequest(id=k, text=v) for k, v in texts.items()]
    responses = {r.id: r for r in client.digest_many(requests)}
    assert set(responses) == set(texts)
    assert responses["bad"].error.code == "INVALID_ARGUMENT" and responses["bad"].error.id == "bad"
    assert "text is empty" in responses["bad"].error.message
    for key in ("p1", "p2", "p4"):
        assert responses[key].error is None and responses[key].translation
        assert responses[key].detected_language == "ar"
    assert responses["p3"].translation == texts["p3"] and responses["p3"].detected_language == "en"


def test_digest_many_streams_back_while_the_client_waits(client):
    """The client sends the next article only after the previous answer arrived."""
    import queue

    outbox: queue.Queue = queue.Queue()

    def requests():
        for i in range(3):
            yield pb.DigestRequest(id=str(i), text="ارتفعت أسعار النفط اليوم.")
            assert outbox.get(timeout=60) == str(i)

    for response in client.digest_many(requests(), timeout=120):
        outbox.put(response.id)


def test_translate_detects_each_text(client):
    english = "The minister said the economy grew.\n\nMore later."
    response = client.translate([english, "أعلنت الحكومة خطة جديدة للطاقة."])
    first, second = response.translations
    assert first.text == english and first.detected_language == "en"
    assert [s.translation for s in first.segments] == [s.source for s in first.segments]
    assert second.detected_language == "ar" and second.text and second.segments[0].score < 0


def test_translate_with_forced_source_language(client):
    response = client.translate(["Hello 123"], source_language="en")
    assert response.translations[0].text == "Hello 123"


def test_english_summarize_makes_no_translation(client):
    response = client.summarize("The central bank kept rates unchanged. Inflation fell to 3%.", max_sentences=2)
    assert response.detected_language == "en"
    assert 1 <= len(response.sentences) <= 2


def test_long_unpunctuated_text_is_never_truncated(client):
    words = ["كلمة%d" % i for i in range(1500)]  # one 'sentence' far over the model's input budget
    text = " ".join(words)
    response = client.digest(text)
    segments = response.paragraphs[0].segments
    assert len(segments) > 10
    assert all("split_long_sentence" in s.warnings for s in segments)
    assert " ".join(s.source for s in segments).split() == words


def test_latin_spans_survive_segmentation(client):
    url = "https://example.com/news/2024/a.b?id=7"
    text = f"قال Joe Biden في بيان نشر على {url} إن النمو بلغ 3.5% في U.S. هذا العام. وأضاف أن الخطة ستستمر."
    segments = client.translate([text]).translations[0].segments
    assert len(segments) == 2
    assert url in segments[0].source and "3.5%" in segments[0].source and "U.S." in segments[0].source


def test_model_info(client):
    info = client.model_info()
    assert info.bundle_name == "tiny"
    assert {m.name: (m.family, list(m.roles)) for m in info.models} == {
        "translator": ("marian", ["translate"]),
        "summarizer": ("bart", ["summarize"]),
    }
    assert list(info.source_languages) == ["ar", "en"] and info.target_language == "en"
    assert info.limits.max_text_chars == TEST_LIMITS["max_text_chars"]
    assert info.device == "cpu" and info.compute_type == "int8"


def test_health_and_reflection(server, client):
    assert client.health() == "SERVING"
    assert client.health("khulasa.v1.NewsDigest") == "SERVING"
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = database.get_services()
        assert "khulasa.v1.NewsDigest" in services and "grpc.health.v1.Health" in services
        pool = descriptor_pool.DescriptorPool(database)
        methods = {m.name for m in pool.FindServiceByName("khulasa.v1.NewsDigest").methods}
        assert methods == {"Translate", "Summarize", "Digest", "StreamDigest", "DigestMany", "GetModelInfo"}
    finally:
        channel.close()


def test_llm_bundle_serves_every_rpc(llm_client, seed_text):
    response = llm_client.digest(seed_text)
    assert len(response.paragraphs) == 11 and response.translation and response.summary
    for paragraph in response.paragraphs:
        # An LLM gets whole paragraphs (within its budget), not single sentences.
        assert _squash("".join(s.source for s in paragraph.segments)) == _squash(paragraph.source)
    assert sum(len(p.segments) for p in response.paragraphs) < 20
    events = list(llm_client.stream_digest(seed_text))
    assert [e.paragraph.translation for e in events[:11]] == [p.translation for p in response.paragraphs]
    assert llm_client.translate(["مرحبا"]).translations[0].text
    assert llm_client.model_info().models[0].engine == "generator"


# -- bad input: a clear status, and the server keeps serving ------------------------------


def _error(call) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()
    return info.value


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_is_invalid(client, text):
    err = _error(lambda: client.digest(text))
    assert err.code == "INVALID_ARGUMENT" and err.message == "text is empty" and err.fields == {"text": "text is empty"}
    assert err.request_id


def test_empty_and_blank_texts_in_translate(client):
    assert _error(lambda: client.translate([])).fields.keys() == {"texts"}
    err = _error(lambda: client.translate(["مرحبا", " "]))
    assert err.code == "INVALID_ARGUMENT" and "texts[1]" in err.message


def test_text_over_the_limit_names_the_limit(client):
    limit = TEST_LIMITS["max_text_chars"]
    err = _error(lambda: client.digest("ب" * (limit + 1)))
    assert err.code == "INVALID_ARGUMENT"
    assert str(limit) in err.message and "max_text_chars" in err.message


def test_too_many_texts(client):
    err = _error(lambda: client.translate(["نص"] * (TEST_LIMITS["max_texts"] + 1)))
    assert err.code == "INVALID_ARGUMENT" and "max_texts" in err.message


def test_unsupported_source_language_lists_supported_ones(client):
    err = _error(lambda: client.translate(["Bonjour"], source_language="fr"))
    assert err.code == "INVALID_ARGUMENT" and "ar, en" in err.message and "source_language" in err.fields


def test_undetectable_or_unsupported_script_is_invalid(client):
    err = _error(lambda: client.digest("Центральный банк сохранил ключевую ставку"))
    assert err.code == "INVALID_ARGUMENT" and "not supported" in err.message


def test_max_sentences_out_of_range(client):
    err = _error(lambda: client.summarize("نص قصير.", max_sentences=99))
    assert err.code == "INVALID_ARGUMENT" and "max_sentences" in err.fields


def test_text_of_only_invisible_characters(client):
    err = _error(lambda: client.digest("\u200f\u200e\u0640"))
    assert err.code == "INVALID_ARGUMENT"


def test_unexpected_error_is_internal_with_request_id_and_server_survives(bundles):
    server = start_server(bundles["tiny"])
    try:
        def broken(*args, **kwargs):
            raise RuntimeError("disk on fire")

        server.core.pipeline.summary.engine.run = broken  # a fault inside our own code
        with Client(f"127.0.0.1:{server.port}", timeout=60, metadata=[("x-request-id", "req-42")]) as c:
            err = _error(lambda: c.summarize("The minister spoke today."))
            assert err.code == "INTERNAL" and "req-42" in err.message and err.request_id == "req-42"
            assert "disk on fire" not in err.message
            assert c.translate(["مرحبا"]).translations[0].text  # still serving
    finally:
        server.stop(0)


def test_not_serving_until_loaded(bundles):
    server = start_server(bundles["tiny"], load=False)
    try:
        with Client(f"127.0.0.1:{server.port}", timeout=30) as c:
            assert c.health() == "NOT_SERVING"
            assert _error(lambda: c.digest("مرحبا")).code == "UNAVAILABLE"
            server.load()
            assert c.health() == "SERVING"
            assert c.digest("مرحبا").translation
    finally:
        server.stop(0)


def test_extractive_summary_quotes_the_translation(client, seed_text):
    response = client.digest(seed_text, summary_method="extractive", max_sentences=2)
    assert 1 <= len(response.summary_sentences) <= 2
    for sentence in response.summary_sentences:
        [index] = sentence.paragraphs
        assert sentence.text in response.paragraphs[index].translation
    assert client.model_info().default_summary_method == "model"


def test_unknown_summary_method(client):
    err = _error(lambda: client.summarize("The minister spoke.", summary_method="magic"))
    assert err.code == "INVALID_ARGUMENT" and "summary_method" in err.fields
