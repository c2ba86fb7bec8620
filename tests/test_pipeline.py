"""The pipeline as a library, without gRPC (what a bulk job calls)."""

import pytest

from khulasa_server.errors import InvalidArgument
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.pipeline import Pipeline
from khulasa_server.pipeline.results import Done, ParagraphResult, SummaryResult


def test_library_digest(bundles, seed_text):
    pipeline = Pipeline.load(bundles["tiny"])
    result = pipeline.digest(seed_text, ArticleOptions(max_sentences=2))
    assert len(result.paragraphs) == 11 and result.detected_language == "ar"
    assert len(result.summary.sentences) <= 2
    events = list(pipeline.iter_digest(seed_text))
    assert isinstance(events[-1], Done) and isinstance(events[-2], SummaryResult)
    assert all(isinstance(e, ParagraphResult) for e in events[:-2])


def test_translate_batches_texts_and_keeps_order(pipeline):
    texts = ["الخبر الأول.", "Second item.", "الخبر الثالث.\n\nفقرة أخرى."]
    results = pipeline.translate(texts)
    assert [r.detected_language for r in results] == ["ar", "en", "ar"]
    assert results[1].text == "Second item."
    assert results[2].text.count("\n\n") == 1  # paragraph break kept
    assert {s.paragraph for s in results[2].segments} == {0, 1}


def test_persian_is_refused_with_the_field(pipeline):
    with pytest.raises(InvalidArgument) as info:
        pipeline.translate(["سلام", "این یک گزارش خبری کوتاه است که امروز منتشر شد"])
    assert info.value.field == "texts[1]" and "Persian" in info.value.message


def test_long_english_article_is_summarized_in_rounds(pipeline, monkeypatch):
    paragraph = " ".join(f"Sentence number {i} reports on the economy and the elections." for i in range(40))
    article = "\n\n".join([paragraph] * 3)
    assert pipeline.summary.engine.count_tokens(article) > 2 * pipeline.summary.engine.max_input_tokens
    rounds: list[int] = []
    summarize = pipeline.summary.engine.run

    def counted(task, rows):  # the real summarizer; each call is one round
        rounds.append(len(rows))
        return summarize(task, rows)

    monkeypatch.setattr(pipeline.summary.engine, "run", counted)
    summary = pipeline.summarize(article, ArticleOptions(max_sentences=3))
    assert summary.detected_language == "en" and 1 <= len(summary.sentences) <= 3
    # Several chunks summarized first, then their summaries: more than one round.
    assert len(rounds) >= 2 and rounds[0] > 1, rounds


class Spy:
    """An engine that records what the pipeline asks of it, then runs the real one."""

    def __init__(self, engine):
        self.engine, self.calls = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def run(self, task, rows):
        self.calls.append({"task": task, "texts": [r.text for r in rows], "max_sentences": [r.max_sentences for r in rows]})
        return self.engine.run(task, rows)


@pytest.fixture(scope="module")
def llm_pipeline(bundles):
    return Pipeline.load(bundles["tiny-llm"])


def test_an_article_that_fits_is_summarized_in_one_pass(llm_pipeline):
    pipeline = llm_pipeline
    entry = pipeline.summary.engine.entry
    assert entry.input_tokens("summarize") > entry.input_tokens("translate")  # the bundle's own budgets
    paragraph = " ".join(f"Sentence {i} reports on the economy and the elections." for i in range(6))
    article = "\n\n".join([paragraph] * 2)
    assert entry.input_tokens("translate") < pipeline.summary.engine.count_tokens(article) < entry.input_tokens("summarize")
    spy = pipeline.summary.engine = Spy(pipeline.summary.engine)
    try:
        pipeline.summarize(article, ArticleOptions(max_sentences=2))
    finally:
        pipeline.summary.engine = spy.engine
    [call] = spy.calls  # one pass, not chunks and then a summary of their summaries
    assert len(call["texts"]) == 1 and call["max_sentences"] == [2]  # and it may stop after 2 sentences


def test_digest_translates_the_article_in_one_call_and_a_stream_starts_alone(llm_pipeline, seed_text):
    pipeline = llm_pipeline
    spy = pipeline.translation.engine = Spy(pipeline.translation.engine)
    repairing, pipeline.translation.repair_names = pipeline.translation.repair_names, False  # a name repair is a second call
    try:
        result = pipeline.digest(seed_text, ArticleOptions(summary_method="extractive"))
        [call] = spy.calls  # every piece of every paragraph
        assert len(call["texts"]) == sum(len(p.segments) for p in result.paragraphs) > len(result.paragraphs)
        spy.calls.clear()
        list(pipeline.iter_digest(seed_text, ArticleOptions(summary_method="extractive")))
        assert len(spy.calls[0]["texts"]) == 1 and len(spy.calls) >= 2  # the stream shows paragraph 0 first
    finally:
        pipeline.translation.engine, pipeline.translation.repair_names = spy.engine, repairing
