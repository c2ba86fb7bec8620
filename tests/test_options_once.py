"""One request record carried down: the service checks ArticleOptions against its limits
(`within`), the pipeline against the bundle (`Pipeline.resolve`), each option once, and the
stages take the resolved record whole (no option unpacked by position on the way)."""

from __future__ import annotations

from collections import Counter

from khulasa_server.pipeline import glossary, summary, translation
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.service.config import Settings
from khulasa_server.service.core import Core

TEXT = "رحب الكرملين بجولة جديدة من المحادثات.\n\nوقال المتحدث إن الجولة ستعقد الأسبوع المقبل."


def test_each_option_is_checked_once_and_reaches_the_stages_whole(pipeline, monkeypatch):
    checks: Counter[str] = Counter()
    seen: dict[str, ArticleOptions] = {}
    check, method = glossary.check, summary.SummaryStage.method
    summarize, run = summary.SummaryStage.summarize, translation.TranslationStage.run

    def counted_check(entries, field="glossary"):
        checks["glossary"] += 1
        return check(entries, field)

    def counted_method(self, requested):
        checks["summary_method"] += 1
        return method(self, requested)

    def seen_summarize(self, english, options, timings=None):
        seen["summary"] = options
        return summarize(self, english, options, timings)

    def seen_run(self, units, options, timings, *rest):
        seen["translation"] = options
        return run(self, units, options, timings, *rest)

    monkeypatch.setattr(glossary, "check", counted_check)
    monkeypatch.setattr(summary.SummaryStage, "method", counted_method)
    monkeypatch.setattr(summary.SummaryStage, "summarize", seen_summarize)
    monkeypatch.setattr(translation.TranslationStage, "run", seen_run)
    core = Core(Settings())
    core.serve(pipeline, {})
    asked = ArticleOptions(
        source_language=" AR ", max_sentences=0, summary_method="Extractive", glossary={"الكرملين": "the Kremlin"}
    )
    core.digest(TEXT, asked)

    assert checks == {"glossary": 1, "summary_method": 1}
    resolved = seen["summary"]
    assert seen["translation"] is resolved  # one record down both stages
    assert resolved.source_language == "ar" and resolved.summary_method == "extractive"
    assert resolved.max_sentences == 3  # 0 as sent: the default, resolved by the service
    assert resolved.glossary["الكرملين"] == "the Kremlin"
