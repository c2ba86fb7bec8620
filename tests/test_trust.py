"""Trust beyond names: per-token confidence from the decoding itself (both engines), meaning
checks (negation, verbs of saying, numbers in words and scales, weekdays), and summaries that
lead with the news, stay short and say which of their words the cited paragraphs do not support.
Sentences here were written for these tests."""

from __future__ import annotations

import dataclasses
import json
import urllib.request

import pytest
from conftest import flags_command

from khulasa_server.models.engines.base import Output, Row
from khulasa_server.models.scheduler import LRUCache
from khulasa_server.pipeline import confidence, meaning, numbers, support
from khulasa_server.pipeline.summary import SummarySentence, lead_first, within_words
from khulasa_server.text.normalize import normalize

DENIAL = "نفى المتحدث باسم الحكومة يوم الاثنين أن يكون الوزير قد استقال من منصبه."
NO_TALKS = "قال الوزير إن بلاده لن تشارك في المحادثات المقبلة."
WELCOME = "رحب الكرملين بجولة جديدة من المحادثات مع إدارة الرئيس الأمريكي."
TROOPS = "أرسلت الحكومة ثلاثا وعشرين شاحنة مساعدات إلى المدينة للمرة الثانية عشرة."
BUDGET = "وتبلغ قيمة الميزانية 4 ملايين دولار، بزيادة 12 في المئة."

MEANING_CASES = [
    # a denial rendered as a statement: the reader learns the opposite
    (DENIAL, "The government spokesman said on Monday that the minister had resigned from his post.", ["saying:denied"]),
    (DENIAL, "The government spokesman on Monday denied that the minister had resigned from his post.", []),
    (DENIAL, "The government spokesman said on Monday that the minister had not resigned from his post.", []),
    # a negation lost, and one added
    (NO_TALKS, "The minister said his country would take part in the coming talks.", ["negation:لن تشارك"]),
    (NO_TALKS, "The minister said his country would not take part in the coming talks.", []),
    (WELCOME, "The Kremlin welcomed a new round of talks without the American president.", ["negation:without the American"]),
    (WELCOME, "The Kremlin welcomed a new round of talks with the administration of the US president.", []),
    # numbers in words, scales, weekdays
    (TROOPS, "The government sent 23 aid trucks to the city for the twelfth time.", []),
    (TROOPS, "The government sent twenty-three aid trucks to the city for the second time.", ["number:الثانية عشرة"]),
    (TROOPS, "The government sent 32 aid trucks to the city for the 12th time.", ["number:ثلاثا وعشرين"]),
    (BUDGET, "The budget is worth 4 million dollars, an increase of 12 percent.", []),
    (BUDGET, "The budget is worth 4 billion dollars, an increase of 12 percent.", ["number:4 million"]),
    (DENIAL, "The government spokesman on Tuesday denied that the minister had resigned.", ["number:Monday"]),
]


@pytest.mark.parametrize("source,english,expected", MEANING_CASES)
def test_meaning_checks_fire_and_stay_silent(source, english, expected):
    assert meaning.check(normalize(source), english) == expected


def test_idioms_and_restrictions_are_not_negations():
    """لا يزال "still", لا سيما "especially", لم … إلا "only", بلا حدود of a name, غير + adjective."""
    assert meaning.arabic_negations("لا يزال الوضع صعبا لا سيما في الشمال.") == []
    assert meaning.arabic_negations("لم يحضر الاجتماع إلا ثلاثة وزراء.") == []
    assert meaning.arabic_negations("قالت منظمة أطباء بلا حدود إن المفاوضات غير المباشرة مستمرة.") == []
    assert meaning.english_negations("Doctors Without Borders said indirect talks go on.") == []
    assert meaning.arabic_negations("ولم يصل أي وفد.") == ["ولم يصل"]


def test_a_listed_name_that_opens_with_a_particle_is_no_negation():
    """غير بيدرسن is Geir Pedersen (data/foreign_names.tsv), not "not Pedersen"; غير ممكن stays "not possible"."""
    assert meaning.arabic_negations("ودعا المبعوث الأممي إلى سوريا غير بيدرسن إلى دعم عملية سياسية.") == []
    assert meaning.check("ودعا المبعوث غير بيدرسن إلى الحوار.", "Envoy Geir Pedersen called for dialogue.") == []
    assert meaning.arabic_negations("وقال إن الحل غير ممكن.") == ["غير ممكن"]


def test_number_words_have_values():
    assert numbers.arabic_values("خمسة عشر مليار دولار وسبعمئة ألف طن") == [("خمسة عشر مليار", 15e9), ("وسبعمئة ألف", 7e5)]
    assert numbers.arabic_values("12 ألف حالة") == []  # digits: the digit checks' concern
    assert {15e9, 7e5, 12, 6} <= numbers.english_values("15 billion, seven hundred thousand, the twelfth, Mohammed VI")


def test_a_number_in_words_in_the_english_is_not_missing():
    from khulasa_server.pipeline.checks import missing_numbers

    assert missing_numbers("منذ 3 أشهر", "for three months") == []
    assert missing_numbers("منذ 3 أشهر", "for four months") == ["3"]


def test_confidence_rises_with_the_tokens_log_probabilities_and_unsure_words_are_merged():
    text = "Peskov met Donald Trump in Istanbul."
    # characters of each token: Pes|kov| met| Donald| Trump| in| Istanbul|.
    cuts = [0, 3, 6, 10, 17, 23, 26, 35, 36]
    sure = [(a, b, -0.05) for a, b in zip(cuts, cuts[1:])]
    unsure = [(a, b, lp) for (a, b, _), lp in zip(sure, [-0.1, -0.2, -0.1, -3.0, -2.5, -0.1, -0.2, -0.1])]
    assert confidence.of(sure, text, 0.0) > confidence.LOW_CONFIDENCE > confidence.of(unsure, text, 0.0)
    assert confidence.unsure(unsure, text) == [(11, 23, -3.0)]  # "Donald Trump", one span
    assert text[11:23] == "Donald Trump"
    assert confidence.unsure(sure, text) == []
    # tokens past a cut loop do not count
    assert confidence.of(unsure, text[:10], 0.0) == pytest.approx(confidence.of(unsure[:3], text[:10], 0.0))


@pytest.mark.parametrize("kind", ["tiny", "tiny-llm"])
def test_both_engines_keep_each_tokens_log_probability_while_decoding(bundles, kind):
    """The step callback's log-probabilities: one per output token, spans covering the English in
    order, and their mean is CTranslate2's own score of the output."""
    from khulasa_server.models import bundle as bundle_mod
    from khulasa_server.models.engines import Runtime, load_engine

    loaded = bundle_mod.load(bundles[kind])
    engine = load_engine(loaded.model_for("translate"), Runtime())
    out = engine.run("translate", [Row(normalize(NO_TALKS)), Row(normalize(WELCOME))])
    for o in out:
        assert len(o.token_log_probs) == o.tokens > 0
        starts = [s for s, _, _ in o.token_log_probs]
        assert starts == sorted(starts) and all(0 <= s <= e <= len(o.text) for s, e, _ in o.token_log_probs)
        assert o.token_log_probs[-1][1] == len(o.text) or o.hit_limit
        mean = sum(lp for _, _, lp in o.token_log_probs) / len(o.token_log_probs)
        assert mean == pytest.approx(o.score, abs=0.05)


def test_segments_carry_confidence_unsure_spans_and_low_confidence_by_the_bundles_threshold(llm_server, llm_client):
    """Random weights are unsure of every token: low confidence, unsure spans inside the English,
    and the warning; a bundle threshold of 0 silences the warning, not the measurement."""
    response = llm_client.translate([NO_TALKS])
    segment = response.translations[0].segments[0]
    assert 0.0 <= segment.confidence < confidence.LOW_CONFIDENCE
    assert "low_confidence" in segment.warnings
    assert segment.unsure and all(0 <= s.start < s.end <= len(segment.translation) and s.log_prob < -2 for s in segment.unsure)
    engine = llm_server.core.pipeline.translation.engine
    entry = engine.entry
    engine.entry = dataclasses.replace(entry, low_confidence=0.0)
    try:
        again = llm_client.translate([NO_TALKS]).translations[0].segments[0]
    finally:
        engine.entry = entry
    assert "low_confidence" not in again.warnings and again.confidence == pytest.approx(segment.confidence)


def test_the_threshold_is_checked_in_the_manifest():
    from khulasa_server.errors import BundleError
    from khulasa_server.models.schema import ModelEntry

    raw = {"engine": "generator", "path": "m", "family": "qwen2", "tokenizer": {"kind": "hf", "file": "t.json"},
           "max_input_tokens": 256, "low_confidence": 0.4, "decoding": {"summarize": {"max_words": 40}}}
    entry = ModelEntry.from_dict("m", raw, "models.m")
    assert entry.low_confidence == 0.4 and entry.options("summarize").max_words == 40
    assert entry.to_dict()["low_confidence"] == 0.4
    with pytest.raises(BundleError, match=r"models\.m\.low_confidence"):
        ModelEntry.from_dict("m", {**raw, "low_confidence": 1.5}, "models.m")
    with pytest.raises(BundleError, match=r"max_words"):
        ModelEntry.from_dict("m", {**raw, "decoding": {"summarize": {"max_words": 0}}}, "models.m")


def test_meaning_flags_and_confidence_reach_grpc_and_the_v1_json(server, client):
    """Through the real server: the translator's sentence cache holds a chosen English for two
    sources (as in test_attribution), so the server's own checks, confidence and wire format run
    on a known output."""
    cache = server.core.pipeline.translation.engine.cache
    flipped = "The minister said his country would take part in the coming talks."
    spans = tuple((i, min(i + 5, len(flipped)), -0.1 if i < 40 else -3.5) for i in range(0, len(flipped), 5))
    cache.put(LRUCache.key("translate", normalize(NO_TALKS)), Output(flipped, -0.6, len(spans), False, spans))
    faithful = "The Kremlin welcomed a new round of talks with the administration of the US president."
    tokens = ((0, 40, -0.01), (40, 60, -0.02), (60, len(faithful), -0.03))
    cache.put(LRUCache.key("translate", normalize(WELCOME)), Output(faithful, -0.02, 3, False, tokens))
    segments = client.translate([NO_TALKS + "\n" + WELCOME]).translations[0].segments
    assert [s.translation for s in segments] == [flipped, faithful]
    assert "negation:لن تشارك" in segments[0].warnings and "low_confidence" in segments[0].warnings
    (span,) = segments[0].unsure  # the words from character 40 on, one span, without the full stop
    assert span.start <= 41 and flipped[span.start - 1] == " " and span.end == len(flipped) - 1
    assert span.log_prob == pytest.approx(-3.5)
    assert list(segments[1].warnings) == [] and not segments[1].unsure
    assert segments[1].confidence > confidence.LOW_CONFIDENCE and segments[1].confidence > segments[0].confidence

    body = json.dumps({"texts": [NO_TALKS]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.http.port}/v1/translate", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        segment = json.load(answer)["translations"][0]["segments"][0]
    assert segment["confidence"] < confidence.LOW_CONFIDENCE and segment["unsure"][0]["logProb"] < -2
    assert "negation:لن تشارك" in segment["warnings"]


def test_the_flag_vocabulary_explains_the_new_kinds():
    from khulasa import flags

    for kind in ("negation", "saying", "number", "low_confidence", "unsupported"):
        assert kind in flags.EXPLANATIONS
    assert "denied" in flags.explain("saying", "denied")


# Summaries
ARTICLE = [
    "The Kremlin welcomed on Sunday a new round of talks with Ukraine in Istanbul.",
    "Kremlin spokesman Dmitry Peskov said the date had not been set.",
    "The last round was held in 2022 and ended without agreement.",
]


def test_summary_sentences_the_cited_paragraphs_do_not_support_are_flagged():
    assert support.unsupported("Peskov said the date had not been set.", [ARTICLE[1]]) == []
    assert support.unsupported("Peskov said the date was set for 2025 in Geneva.", [ARTICLE[1]]) == [
        "unsupported:Geneva", "unsupported:2025"]
    assert support.unsupported("The Kremlin welcomed talks without Ukraine.", [ARTICLE[0]]) == ["unsupported:without Ukraine"]
    # what another paragraph says is not support: the sentence must cite it
    assert support.unsupported("The last round was in 2022.", [ARTICLE[0]]) == ["unsupported:2022"]
    assert support.unsupported("The last round was in 2022.", [ARTICLE[0], ARTICLE[2]]) == []


def test_the_summary_leads_with_the_news_and_stays_short():
    background = SummarySentence("The last round was held in 2022 and ended without agreement.", [2])
    led = lead_first([background], ARTICLE, 2)
    assert [s.text for s in led] == [ARTICLE[0], background.text] and led[0].paragraphs == [0]
    already = SummarySentence("The Kremlin welcomed a new round of talks with Ukraine in Istanbul.", [0])
    assert lead_first([already, background], ARTICLE, 2) == [already, background]
    # drawn from the lead's paragraph, but without who did what: the lead goes first
    place = SummarySentence("Talks will be held in Istanbul.", [0])
    assert [s.text for s in lead_first([place, background], ARTICLE, 2)] == [ARTICLE[0], place.text]
    long = SummarySentence(" ".join(["word"] * 70) + ".", [0])
    assert len(within_words([long], 60)[0].text.split()) == 61  # 60 words and the mark "…"
    assert within_words([already, background, already], 30) == [already, background]


def _decoded_as(pipeline, sources: list[str], english: list[str], summary: str) -> None:
    """The tiny models write noise: each source's English and the 2-sentence summary of that
    English are put in the engines' caches, so a digest of the sources reads them back and the
    server's own checks run on them."""
    for source, text in zip(sources, english):
        pipeline.translation.engine.cache.put(LRUCache.key("translate", normalize(source)), Output(text, -0.1, 10, False))
    chunk = pipeline.summary.chunks(english)[0]
    key = LRUCache.key("summarize", chunk, "", 2, pipeline.summary.max_words)
    pipeline.summary.engine.cache.put(key, Output(summary, -0.1, 20, False))


def test_digest_summary_is_led_short_and_flagged_end_to_end(server, client):
    """The tiny summarizer writes noise, so its output for this article is put in its cache (the
    summary of a chunk comes from there when repeated): the server's own lead, bound and
    support checks run on it, through gRPC."""
    sources = [NO_TALKS, WELCOME, DENIAL]
    english = [
        "The minister said his country would not take part in the coming talks.",
        "The Kremlin welcomed a new round of talks with the administration of the US president.",
        "The government spokesman on Monday denied that the minister had resigned from his post.",
    ]
    invented = "The Kremlin welcomed talks without Donald Trump in 2031. The spokesman denied the minister resigned."
    _decoded_as(server.core.pipeline, sources, english, invented)
    response = client.digest("\n".join(sources), max_sentences=2, summary_method="model")
    assert [p.translation for p in response.paragraphs] == english
    first, second = response.summary_sentences
    assert first.text == english[0] and list(first.paragraphs) == [0] and list(first.warnings) == []
    assert second.text.startswith("The Kremlin welcomed talks")
    assert {"unsupported:Donald Trump", "unsupported:2031", "unsupported:without Donald Trump"} <= set(second.warnings)
    assert len(response.summary.split()) <= 60


def test_a_summary_sentence_drawing_on_a_flagged_paragraph_says_so(server, client):
    """The summary reads the English, not the Arabic: a sentence taken from a paragraph whose
    English is flagged (a city the source does not name) may repeat its error and says so; one
    drawing on a clean paragraph does not. Digest and Summarize alike."""
    sources = [NO_TALKS, WELCOME]
    english = [
        "The minister said his country would not take part in the coming talks.",
        "The Kremlin welcomed a new round of talks in Geneva with the administration of the US president.",
    ]
    written = "The minister said his country would not take part in the coming talks. The Kremlin welcomed new talks in Geneva."
    _decoded_as(server.core.pipeline, sources, english, written)
    response = client.digest("\n".join(sources), max_sentences=2, summary_method="model")
    clean, flagged = response.paragraphs
    assert not [w for s in clean.segments for w in s.warnings]
    assert "added_name:Geneva" in [w for s in flagged.segments for w in s.warnings]
    first, second = response.summary_sentences
    assert list(first.paragraphs) == [0] and "flagged_paragraph" not in first.warnings
    assert 1 in second.paragraphs and "flagged_paragraph" in second.warnings
    summarized = client.summarize("\n".join(sources), max_sentences=2, summary_method="model")
    assert [list(s.warnings) for s in summarized.sentences] == [list(first.warnings), list(second.warnings)]


def test_flags_command_scores_meaning_and_confidence(tmp_path):
    """khulasa-models flags: per meaning type, the flags that point at a label and the labels
    found, and the low_confidence curve from stored token log-probabilities."""
    rows = [
        {"set": "t", "n": 0, "ar": NO_TALKS, "hypothesis": MEANING_CASES[3][1], "added": [], "lost": [], "changed_role": [],
         "meaning": [{"type": "negation", "severity": "major", "span": "would take part"}]},
        {"set": "t", "n": 1, "ar": NO_TALKS, "hypothesis": MEANING_CASES[4][1], "added": [], "lost": [], "changed_role": [],
         "meaning": []},
    ]
    run, found = flags_command(tmp_path, rows)
    part = found["meaning"]["tuned (three sets)"]
    assert part["meaning_by_type"]["negation"]["recall_major"] == 100.0
    assert part["meaning_flags"]["precision"] == 100.0
    assert "negation recall" in run.stdout and "| threshold |" in run.stdout


def test_the_meaning_labels_are_whole():
    from khulasa_server.tools import name_scores, trust

    rows = name_scores.load(["tests/data/eval_flags.jsonl"])
    held = [r for r in rows if r["set"] == trust.HELD_OUT]
    assert len(held) >= 100
    for row in rows:
        for label in row["meaning"]:
            assert label["type"] in trust.TYPES and label["severity"] in ("major", "minor") and label["span"]


def test_a_summary_sentence_cites_the_paragraphs_that_support_it():
    sentence = "Egypt's Kremlin talks were held in 2022 and ended without agreement."
    assert support.cite_support(sentence, ["Egypt hosted the Kremlin talks.", *ARTICLE[1:]], [0]) == [0, 2]
    assert support.unsupported("Over 50 people met. Over 60 left.", ["50 people met and 60 left."]) == []


def test_a_weekday_written_as_another_is_one_flag(pipeline):
    """Sunday written Monday: the segment gets `number:Sunday`, which says what happened, and
    not the name check's `missing_name:Sunday` for the same word beside it; dropped, the weekday
    stays missing_name."""
    from khulasa_server.models.engines.base import Output
    from khulasa_server.pipeline import names
    from khulasa_server.pipeline.translation import Unit
    from khulasa_server.text.segment import Piece

    source = "وصل الوزير إلى القاهرة يوم الأحد لإجراء محادثات."
    stage = pipeline.translation

    def warnings(english: str) -> list[str]:
        out = Output(english, -0.1, 10, False)
        return stage._segment(Unit(0, Piece(source)), out, [], names.find(source)).warnings

    replaced = warnings("The minister arrived in Cairo on Monday for talks.")
    assert "number:Sunday" in replaced and "missing_name:Sunday" not in replaced
    assert "missing_name:Sunday" in warnings("The minister arrived in Cairo for talks.")


def test_an_english_run_of_dotted_digits_is_no_number_and_no_crash():
    """A model may write "5.5.5" (a random-weight NLLB did): the number checks read it as no
    number instead of failing the whole digest on float("5.5.5")."""
    from khulasa_server.pipeline.checks import missing_numbers
    from khulasa_server.pipeline.numbers import english_values

    assert english_values("It rose 5.5.5 for 5,000 people and 2.5 percent") == {5000.0, 2.5}
    assert missing_numbers("ارتفع بنسبة 5.5 في المئة", "It rose 5.5.5 for") == ["5.5"]


def test_summary_scores_count_the_lead_and_what_the_translation_allows(pipeline, tmp_path):
    """`khulasa-models flags --summaries` on stored English: lead covered for a method, and the
    ceiling the English sets (its first sentence covers the reference lead; any sentence does)."""
    from khulasa_server.tools.trust import summary_scores

    articles = [
        {"id": "a", "summary": "The Kremlin welcomed new talks with Ukraine in Istanbul.",
         "sentences": [{"ar": "س", "en": "x"}, {"ar": "س", "en": "x"}]},
        {"id": "b", "summary": "Egypt denied closing the Rafah crossing.",
         "sentences": [{"ar": "س", "en": "x"}, {"ar": "س", "en": "x"}]},
        {"id": "c", "summary": "Flour stocks in Gaza will run out within ten days.",
         "sentences": [{"ar": "س", "en": "x"}, {"ar": "س", "en": "x"}]},
    ]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    english = [
        "The Kremlin welcomed new talks with Ukraine, to be held in Istanbul.", "Moscow said so on Tuesday.",
        "The minister travelled to Cairo on Friday.", "Egypt denied that it had closed the Rafah crossing.",
        "The weather was mild.", "Officials met in Geneva.",
    ]
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps({"sets": [{"data": str(data), "outputs": [{"hypothesis": e} for e in english]}]}))
    [part] = summary_scores(pipeline, [stored], ["extractive"], max_sentences=1).values()
    assert part["translation"]["first_sentence_covers"] == 1 and part["translation"]["any_sentence_covers"] == 2
    assert part["translation"]["any_sentence_covers_pct"] == pytest.approx(66.7)
    assert part["extractive"]["articles"] == 3 and part["extractive"]["lead_covered"] <= 2
