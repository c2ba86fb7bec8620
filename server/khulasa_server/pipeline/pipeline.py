"""The article pipeline, usable without gRPC: the facade over the translation stage
(pipeline/translation.py) and the summary stage (pipeline/summary.py), with the language policy and the
plan of each text or article:

    text → normalize → language → paragraphs → sentences → pieces within the model's input
    budget → batched translation → paragraphs reassembled → summary of the English → each
    summary sentence tied to the paragraphs it draws on.

Nothing is truncated: over-long sentences are cut into pieces that are translated and joined
back, and every cut or length-bounded output is reported in the segment's warnings.

Every stage checks the request's scope (scope.py) as it goes, through the token counter that
segmentation and chunking call in their loops and between paragraphs, texts and summary
rounds, so work stops soon after its caller has gone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from khulasa_server.errors import InvalidArgument, echo
from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.engines import Engine, Runtime, load_engine
from khulasa_server.models.memory import release_freed
from khulasa_server.models.scheduler import GatheringEngine
from khulasa_server.pipeline.options import ArticleOptions, GatheringOptions, NameOptions
from khulasa_server.pipeline.original import Original
from khulasa_server.pipeline.results import (
    DigestResult,
    Done,
    ParagraphResult,
    SummaryResult,
    Timings,
    TranslationResult,
    elapsed_ms,
)
from khulasa_server.pipeline.summary import SummaryStage, mark_flagged_paragraphs
from khulasa_server.pipeline.translation import TranslationStage, Unit
from khulasa_server.scope import checkpoint
from khulasa_server.text.detect import SUPPORTED, detect
from khulasa_server.text.segment import Paragraph, split_paragraphs

_NAMES = {"ar": "Arabic", "en": "English"}
_LANGUAGE_NAMES = {
    "fa": "Persian or Urdu",
    "latn": "German or another Latin-script language",
    "other": "a script other than Arabic or Latin",
}


@dataclass
class TextPlan:
    """One text of a Translate call: as sent, the language to report, its paragraphs, which of
    them go to the translator, and its units' slice of the call's shared list."""

    original: Original
    language: str
    paragraphs: list[Paragraph]
    chosen: list[bool]
    start: int
    end: int


@dataclass
class ArticlePlan:
    """An article: the language to report, its paragraphs, which of them to translate, and the
    text as sent."""

    language: str
    paragraphs: list[Paragraph]
    chosen: list[bool]
    original: Original


class Pipeline:
    def __init__(self, bundle: bundle_mod.Bundle, translation: TranslationStage, summary: SummaryStage):
        self.bundle = bundle
        self.translation = translation
        self.summary = summary

    @classmethod
    def from_settings(cls, settings: Any, glossary: Mapping[str, str] | None = None, gather: bool = True) -> Pipeline:
        """The pipeline config.Settings describe: runtime, gathering and name options alike. The
        server, khulasa-bulk and khulasa-models eval all build theirs here, so an option reaches
        every one. gather=False: no gatherer, for a single caller (eval) that has nothing to
        decode together with."""
        from khulasa_server.pipeline import options

        return cls.load(
            settings.bundle,
            options.runtime(settings),
            verify=settings.verify_bundle,
            gathering=options.gathering(settings) if gather else None,
            glossary=glossary,
            names=options.names(settings),
        )

    @classmethod
    def load(
        cls,
        name_or_path: str | Path,
        runtime: Runtime | None = None,
        verify: bool = True,
        gathering: GatheringOptions | None = None,
        glossary: Mapping[str, str] | None = None,
        names: NameOptions | None = None,
    ) -> Pipeline:
        """gathering: with it, calls from concurrent requests share decoding calls (a server
        wants this; a single-threaded bulk job does not need it)."""
        runtime = runtime or Runtime()
        loaded = bundle_mod.load(name_or_path, verify_checksums=verify)
        engines: dict[str, Engine] = {}
        for role in bundle_mod.ROLES:
            name = loaded.roles[role]
            if name not in engines:  # one model serving both roles is loaded once
                engine = load_engine(loaded.models[name], runtime)
                if gathering is not None:
                    engine = GatheringEngine(engine, gathering, workers=runtime.inter_threads)
                engines[name] = engine
        pipeline = cls(
            loaded,
            TranslationStage(engines[loaded.roles["translate"]], glossary, names),
            SummaryStage(engines[loaded.roles["summarize"]], loaded.summary_method),
        )
        release_freed()  # the loaders' temporary buffers (memory.py)
        return pipeline

    def close(self) -> None:
        for engine in {id(e): e for e in (self.translation.engine, self.summary.engine)}.values():
            if isinstance(engine, GatheringEngine):
                engine.close()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.bundle.source_languages, self.bundle.target_language]))

    def resolve(self, options: ArticleOptions | None = None) -> ArticleOptions:
        """The request's options checked against the bundle, once, before any work: the
        glossary normalized and laid over the server's, the summary method named (the bundle's
        when empty), the source language one the bundle serves (empty: detected). The stages
        take the result whole and check none of it again."""
        options = options or ArticleOptions()
        glossary = self.translation.terms(options.glossary)
        method = self.summary.method(options.summary_method)
        return replace(options, glossary=glossary, summary_method=method, source_language=self.requested(options.source_language))

    def requested(self, source_language: str) -> str:
        """A requested source language as the bundle names it, or InvalidArgument when it does
        not serve it (empty: detect)."""
        code = source_language.strip().lower()
        if code and code not in self.languages:
            raise InvalidArgument(
                "source_language",
                f"source_language '{echo(source_language)}' is not supported; supported: "
                f"{', '.join(self.languages)} (or empty to detect)",
            )
        return code

    def language(self, text: str, requested: str, field: str) -> str:
        """The language to treat `text` as: the requested one (as resolve() gives it), or the
        detected one, refused naming `field` when the bundle does not serve it."""
        if requested:
            return requested
        found = detect(text)
        if found in SUPPORTED or found == "und":
            return found
        raise InvalidArgument(
            field,
            f"{field}: detected {_LANGUAGE_NAMES.get(found, found)}, which is not supported; "
            f"supported: {', '.join(f'{_NAMES.get(c, c)} ({c})' for c in self.languages)}",
        )

    def translate(
        self, texts: list[str], options: ArticleOptions | None = None, fields: list[str] | None = None
    ) -> list[TranslationResult]:
        """Each text translated independently; all their sentences share batches (options:
        source_language and glossary). `fields`: how a refusal names each text (texts[i])."""
        options = self.resolve(options)
        source_language = options.source_language
        timings = Timings()
        plans: list[TextPlan] = []
        units: list[Unit] = []
        for t, text in enumerate(texts):
            checkpoint()
            original = Original(text)
            language = self.language(original.normalized, source_language, fields[t] if fields else f"texts[{t}]")
            paragraphs = split_paragraphs(original.normalized)
            chosen = self.translation.chosen(paragraphs, source_language)
            offset = len(units)
            for p, paragraph in enumerate(paragraphs):
                if chosen[p]:
                    units.extend(Unit(p, piece, t) for piece in self.translation.pieces(paragraph))
            plans.append(TextPlan(original, "ar" if any(chosen) else language, paragraphs, chosen, offset, len(units)))
        segments = self.translation.run(units, options, timings)
        results = []
        for plan in plans:
            original, language, paragraphs, chosen = plan.original, plan.language, plan.paragraphs, plan.chosen
            if not any(chosen):
                unchanged = original.restore(
                    [self.translation.unchanged(i, p) for i, p in enumerate(paragraphs)], paragraphs, True
                )
                results.append(TranslationResult(original.text, language, [s for p in unchanged for s in p.segments]))
                continue
            translated = iter(
                self.translation.assemble(
                    [(i, p) for i, p in enumerate(paragraphs) if chosen[i]], segments[plan.start : plan.end]
                )
            )
            assembled = [
                original.restore(
                    [next(translated) if chosen[i] else self.translation.unchanged(i, p)], paragraphs, unchanged=not chosen[i]
                )[0]
                for i, p in enumerate(paragraphs)
            ]
            joined = "".join(p.translation + p.separator for p in assembled)
            results.append(TranslationResult(joined, language, [s for p in assembled for s in p.segments]))
        return results

    # -- articles ------------------------------------------------------------------------

    def _article(self, text: str, source_language: str) -> ArticlePlan:
        """The language to report, the paragraphs, which of them to translate, and the text as sent."""
        original = Original(text)
        checkpoint()
        language = self.language(original.normalized, source_language, "text")
        paragraphs = split_paragraphs(original.normalized)
        if not paragraphs:
            raise InvalidArgument("text", "text has no content after removing invisible characters")
        chosen = self.translation.chosen(paragraphs, source_language)
        return ArticlePlan("ar" if any(chosen) else language, paragraphs, chosen, original)

    def summarize(self, text: str, options: ArticleOptions | None = None) -> SummaryResult:
        options = self.resolve(options)  # a bad option refused before translating
        timings = Timings()
        plan = self._article(text, options.source_language)
        translated = list(self.translation.paragraphs(plan.paragraphs, plan.chosen, options, timings, stream=False))
        return self._summary(translated, options, timings, plan.language)

    def _summary(
        self, paragraphs: list[ParagraphResult], options: ArticleOptions, timings: Timings, language: str
    ) -> SummaryResult:
        """The summary of the paragraphs' English, each sentence drawing on a flagged paragraph
        saying so."""
        summary = self.summary.summarize([p.translation for p in paragraphs], options, timings)
        summary.detected_language = language
        return mark_flagged_paragraphs(summary, paragraphs)

    def iter_digest(
        self, text: str, options: ArticleOptions | None = None, stream: bool = True
    ) -> Iterator[ParagraphResult | SummaryResult | Done]:
        """Paragraphs in order as they are translated, then the summary, then Done. stream=False
        trades the early first paragraph for one batch (digest() wants the whole anyway)."""
        options = self.resolve(options)
        start = time.perf_counter()
        timings = Timings()
        plan = self._article(text, options.source_language)
        translated = self.translation.paragraphs(plan.paragraphs, plan.chosen, options, timings, stream)
        done = []
        for result in translated:
            # readers see the text as sent
            plan.original.restore([result], plan.paragraphs, unchanged=not plan.chosen[result.index])
            done.append(result)
            yield result
        yield self._summary(done, options, timings, plan.language)
        timings.total_ms = elapsed_ms(start)
        yield Done(plan.language, timings)

    def digest(self, text: str, options: ArticleOptions | None = None) -> DigestResult:
        paragraphs: list[ParagraphResult] = []
        summary = SummaryResult("", [])
        done = None
        for event in self.iter_digest(text, options, stream=False):
            if isinstance(event, ParagraphResult):
                paragraphs.append(event)
            elif isinstance(event, SummaryResult):
                summary = event
            else:
                done = event
        assert done is not None
        translation = "".join(p.translation + p.separator for p in paragraphs)
        return DigestResult(translation, summary, paragraphs, done.detected_language, done.timings)
