"""The pipeline as a library, without gRPC (what a bulk job calls)."""

import pytest

from khulasa_server.errors import InvalidArgument
from khulasa_server.pipeline import Pipeline
from khulasa_server.results import Done, ParagraphResult, SummaryResult


def test_library_digest(bundles, seed_text):
    pipeline = Pipeline.load(bundles["tiny"])
    result = pipeline.digest(seed_text, max_sentences=2)
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
    assert pipeline.summarizer.count_tokens(article) > 2 * pipeline.summarizer.max_input_tokens
    rounds: list[int] = []
    summarize = pipeline.summarizer.run

    def counted(task, texts, notes=None):  # the real summarizer; each call is one round
        rounds.append(len(texts))
        return summarize(task, texts, notes)

    monkeypatch.setattr(pipeline.summarizer, "run", counted)
    summary = pipeline.summarize(article, max_sentences=3)
    assert summary.detected_language == "en" and 1 <= len(summary.sentences) <= 3
    # Several chunks summarized first, then their summaries: more than one round.
    assert len(rounds) >= 2 and rounds[0] > 1, rounds
