"""Flags where the reader looks, in every format: beside their sentence, counted by severity and
kind in a short header, the unsure words marked. Rendered from protobuf messages built here."""

from __future__ import annotations

import html.parser
import json

from khulasa import flags
from khulasa.v1 import khulasa_pb2 as pb

from khulasa_client.render import render


def _digest() -> pb.DigestResponse:
    p1 = pb.Paragraph(
        index=0,
        source="قال الوزير. ووصل ١٢ وفدا.",
        translation="The minister spoke. Some delegations came.",
        segments=[
            pb.Segment(source="قال الوزير.", translation="The minister spoke.", paragraph=0, confidence=0.9),
            pb.Segment(
                source="ووصل ١٢ وفدا.",
                translation="Some delegations came.",
                paragraph=0,
                warnings=["missing_number:12"],
                confidence=0.3,
                unsure=[pb.Span(start=0, end=4, log_prob=-3.5)],
            ),
        ],
    )
    p2 = pb.Paragraph(
        index=1,
        source="وأعلن بيسكوف الخبر.",
        translation="Peskov announced the news.",
        segments=[
            pb.Segment(
                source="وأعلن بيسكوف الخبر.",
                translation="Peskov announced the news.",
                paragraph=1,
                warnings=["missing_name:Peskov", "repetition_cut", "future_check:x", "split_long_sentence"],
            )
        ],
    )
    return pb.DigestResponse(
        id="a",
        translation="The minister spoke. Some delegations came.\nPeskov announced the news.\n",
        summary="The minister spoke in Paris.",
        paragraphs=[p1, p2],
        summary_sentences=[pb.SummarySentence(text="The minister spoke in Paris.", paragraphs=[0], warnings=["unsupported:Paris"])],
        detected_language="ar",
    )


def test_text_puts_each_flag_beside_its_sentence_under_a_counted_header():
    text = render(_digest(), "text")
    head, body = text.split("Translation\n===========\n")
    # The header: one line, counted by severity then kind (the summary's flag counted too; a
    # kind flags.py does not know counts as its default severity; notes are not flags).
    assert (
        "⚑ 5 flags to check: high 4 (1 missing name, 1 missing number, 1 repetition cut, 1 unsupported); "
        "medium 1 (1 future check)\n" in head
    )
    assert "- The minister spoke in Paris.  [¶1] ⚑ “Paris” in the summary is not in the paragraphs it cites" in head
    assert "⟦ ⟧ marks the words the model was least sure of" in head
    # The paragraph numbered from 1, the flagged sentence marked where it is, the unsure word bracketed.
    assert "¶1  The minister spoke. ⟦Some⟧ delegations came. ⚑1\n    ⚑1 number ١٢ not found in the English\n" in body
    assert "¶2  Peskov announced the news. ⚑1\n" in body
    assert "split" not in body  # a note, not a flag


def test_markdown_and_html_mark_in_place_and_collapse():
    message = _digest()
    markdown = render(message, "markdown", "a")
    assert "> ⚑ 5 flags to check: high 4" in markdown
    assert "**¶1** The minister spoke. ⟦Some⟧ delegations came. **⚑1**" in markdown
    assert "⚑1 *number ١٢ not found in the English*" in markdown

    page = render(message, "html", "a", title="عنوان")
    assert '<h1 dir="auto">عنوان</h1>' in page
    # The header is collapsible and counts by severity and kind.
    assert '<details class="check" id="check" open><summary>⚑ 5 flags to check</summary>' in page
    assert '<li class="high"><strong>high 4</strong>: 1 missing name, 1 missing number, 1 repetition cut, 1 unsupported</li>' in page
    assert '<li class="medium"><strong>medium 1</strong>: 1 future check</li>' in page
    # The unsure words in <mark> with a title; the flagged sentence followed by its mark, linked to its note.
    assert '<mark class="unsure" title="the model was least sure of these words (log-probability -3.50)">Some</mark>' in page
    assert '<a class="flag-mark" href="#p1-f1"><sup>⚑1</sup></a>' in page
    assert '<details class="flags" open><summary>1 flag to check</summary><ul><li id="p1-f1" class="high"' in page
    parser = html.parser.HTMLParser()
    parser.feed(page)  # well-formed enough to parse


def test_a_new_kind_in_the_vocabulary_is_grouped_without_code(monkeypatch):
    monkeypatch.setitem(flags.SEVERITY, "future_check", "low")
    monkeypatch.setitem(flags.EXPLANATIONS, "future_check", "something new about “{value}”")
    text = render(_digest(), "text")
    assert "1 unsupported); low 1 (1 future check)\n" in text
    assert "⚑1 something new about “x”" in text


def test_json_is_protobufs_mapping_with_the_new_fields():
    data = json.loads(render(_digest(), "json"))
    segment = data["paragraphs"][0]["segments"][1]
    assert segment["unsure"] == [{"start": 0, "end": 4, "logProb": -3.5}] and abs(segment["confidence"] - 0.3) < 1e-6
    assert data["summarySentences"][0]["warnings"] == ["unsupported:Paris"]
    snake = json.loads(render(_digest(), "json", snake=True))
    assert snake["paragraphs"][0]["segments"][1]["unsure"][0]["log_prob"] == -3.5


def test_unsure_spans_count_code_points():
    segment = pb.Segment(source="x", translation="𝐀 big claim", paragraph=0, unsure=[pb.Span(start=2, end=5)])
    message = pb.TranslateResponse(translations=[pb.Translation(text="𝐀 big claim", segments=[segment])])
    assert "𝐀 ⟦big⟧ claim" in render(message, "text")
