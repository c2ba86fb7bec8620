"""The article pipeline, usable without gRPC:

    text → normalize → language → paragraphs → sentences → pieces within the model's input
    budget → batched translation → paragraphs reassembled → summary of the English → each
    summary sentence tied to the paragraphs it draws on.

Nothing is truncated: over-long sentences are cut into pieces that are translated and joined
back, and every cut or length-bounded output is reported in the segment's warnings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from . import bundle as bundle_mod
from . import extractive, glossary as glossary_mod
from .attribution import attribute
from .checks import cut_repetition, missing_names, missing_numbers
from .engines import Engine, Runtime, load_engine
from .engines.batcher import BatchingEngine
from .errors import InvalidArgument
from .results import (
    DigestResult,
    Done,
    ParagraphResult,
    Segment,
    SummaryResult,
    SummarySentence,
    Timings,
    TranslationResult,
)
from .text.detect import SUPPORTED, detect
from .text.normalize import normalize
from .text.original import Original
from .text.segment import Paragraph, Piece, segment, split_paragraphs, split_sentences

DEFAULT_SUMMARY_SENTENCES = 3
SUMMARY_METHODS = ("model", "extractive")
_LANGUAGE_NAMES = {"fa": "Persian or Urdu", "latn": "a Latin-script language other than English", "other": "a script other than Arabic or Latin"}
_STREAM_GROUP_TOKENS = 2048  # source tokens per streamed batch after the first paragraph


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _group(pieces: list[Piece], count, budget: int) -> list[Piece]:
    """Consecutive pieces merged while they fit the budget (for engines that want paragraphs)."""
    grouped: list[Piece] = []
    for piece in pieces:
        if grouped and count((grouped[-1].text + piece.text).strip()) <= budget:
            last = grouped.pop()
            piece = Piece(last.text + piece.text, split=last.split or piece.split)
        grouped.append(piece)
    return grouped


class Pipeline:
    def __init__(self, bundle: bundle_mod.Bundle, translator: Engine, summarizer: Engine,
                 glossary: dict[str, str] | None = None):
        self.bundle = bundle
        self.translator = translator
        self.summarizer = summarizer
        self.glossary = glossary_mod.check(glossary or {})  # applies to every request

    @classmethod
    def load(cls, name_or_path: str | Path, runtime: Runtime | None = None, verify: bool = True,
             batching: dict | None = None, glossary: dict[str, str] | None = None) -> "Pipeline":
        """batching: BatchingEngine options; with them, calls from concurrent requests share
        batches (a server wants this; a single-threaded bulk job does not need it)."""
        runtime = runtime or Runtime()
        loaded = bundle_mod.load(name_or_path, verify_checksums=verify)
        engines: dict[str, Engine] = {}
        for role in bundle_mod.ROLES:
            name = loaded.roles[role]
            if name not in engines:  # one model serving both roles is loaded once
                engine = load_engine(loaded.models[name], runtime)
                if batching is not None:
                    engine = BatchingEngine(engine, workers=runtime.inter_threads, **batching)
                engines[name] = engine
        return cls(loaded, engines[loaded.roles["translate"]], engines[loaded.roles["summarize"]], glossary)

    def close(self) -> None:
        for engine in {id(e): e for e in (self.translator, self.summarizer)}.values():
            if isinstance(engine, BatchingEngine):
                engine.close()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.bundle.source_languages, self.bundle.target_language]))

    def language(self, text: str, requested: str, field: str) -> str:
        """The language to treat `text` as: the requested one, or the detected one."""
        if requested:
            code = requested.strip().lower()
            if code not in self.languages:
                raise InvalidArgument(
                    "source_language",
                    f"source_language '{requested}' is not supported; supported: {', '.join(self.languages)} "
                    f"(or empty to detect)",
                )
            return code
        found = detect(text)
        if found in SUPPORTED or found == "und":
            return found
        raise InvalidArgument(
            field,
            f"{field}: detected {_LANGUAGE_NAMES.get(found, found)} ('{found}'), which is not supported; "
            f"supported: {', '.join(self.languages)}",
        )

    # -- translation ---------------------------------------------------------------------

    def _pieces(self, paragraph: Paragraph) -> list[Piece]:
        engine = self.translator
        pieces = segment(paragraph.text, engine.count_tokens, engine.max_input_tokens)
        if engine.unit == "paragraph":
            pieces = _group(pieces, engine.count_tokens, engine.max_input_tokens)
        return pieces

    def terms(self, requested: dict[str, str] | None) -> dict[str, str]:
        """The server's glossary with the request's entries over it."""
        return {**self.glossary, **glossary_mod.check(dict(requested or {}))}

    def _translate(self, units: list[tuple[int, Piece]], timings: Timings, glossary: dict[str, str]) -> list[Segment]:
        if not units:
            return []
        terms = [glossary_mod.terms_in(glossary, piece.content) for _, piece in units]
        start = time.perf_counter()
        outputs = self.translator.run("translate", [piece.content for _, piece in units], [glossary_mod.note(t) for t in terms])
        timings.translate_ms += _ms(start)
        segments = []
        for (index, piece), out, found in zip(units, outputs, terms):
            text, looped = cut_repetition(out.text)
            warnings = []
            if piece.split:
                warnings.append("split_long_sentence")
            if looped:
                warnings.append("repetition_cut")
            elif out.hit_limit:
                warnings.append("output_length_limit")
            if not text:
                warnings.append("empty_output")
            warnings += [f"missing_number:{n}" for n in missing_numbers(piece.content, text)]
            warnings += [f"missing_name:{n}" for n in missing_names(piece.content, text)]
            warnings += [f"missing_term:{t}" for t in glossary_mod.missing(found, text)]
            timings.source_tokens += self.translator.count_tokens(piece.content)
            timings.target_tokens += out.tokens
            segments.append(Segment(piece.content, text, out.score, index, warnings))
        return segments

    @staticmethod
    def _assemble(paragraphs: list[tuple[int, Paragraph]], segments: list[Segment]) -> list[ParagraphResult]:
        results = []
        for index, paragraph in paragraphs:
            own = [s for s in segments if s.paragraph == index]
            text = " ".join(s.translation for s in own if s.translation)
            results.append(ParagraphResult(index, paragraph.text, text, own, paragraph.separator))
        return results

    @staticmethod
    def _unchanged(index: int, paragraph: Paragraph) -> ParagraphResult:
        segments = [
            Segment(s.strip(), s.strip(), 0.0, index) for s in split_sentences(paragraph.text) if s.strip()
        ]
        return ParagraphResult(index, paragraph.text, paragraph.text, segments, paragraph.separator)

    def _translate_paragraphs(self, paragraphs: list[Paragraph], timings: Timings,
                              glossary: dict[str, str]) -> Iterator[ParagraphResult]:
        """Translated paragraphs in order, in batches: the first paragraph alone (so a stream
        shows progress at once), then groups of about _STREAM_GROUP_TOKENS source tokens."""
        group: list[tuple[int, Paragraph]] = []
        units: list[tuple[int, Piece]] = []
        tokens = 0
        for index, paragraph in enumerate(paragraphs):
            pieces = self._pieces(paragraph)
            group.append((index, paragraph))
            units.extend((index, piece) for piece in pieces)
            tokens += sum(self.translator.count_tokens(p.content) for p in pieces)
            if index == 0 or tokens >= _STREAM_GROUP_TOKENS or index == len(paragraphs) - 1:
                yield from self._assemble(group, self._translate(units, timings, glossary))
                group, units, tokens = [], [], 0

    def translate(self, texts: list[str], source_language: str = "", glossary: dict[str, str] | None = None) -> list[TranslationResult]:
        """Each text translated independently; all their sentences share batches."""
        timings = Timings()
        terms = self.terms(glossary)
        plans = []
        units: list[tuple[int, Piece]] = []
        for t, text in enumerate(texts):
            original = Original(text)
            language = self.language(original.normalized, source_language, f"texts[{t}]")
            paragraphs = split_paragraphs(original.normalized)
            offset = len(units)
            if language == "ar":
                for p, paragraph in enumerate(paragraphs):
                    units.extend((p, piece) for piece in self._pieces(paragraph))
            plans.append((original, language, paragraphs, offset, len(units)))
        segments = self._translate(units, timings, terms)
        results = []
        for original, language, paragraphs, lo, hi in plans:
            if language != "ar":
                unchanged = original.restore([self._unchanged(i, p) for i, p in enumerate(paragraphs)], paragraphs, True)
                results.append(TranslationResult(original.text, language, [s for p in unchanged for s in p.segments]))
                continue
            assembled = original.restore(self._assemble(list(enumerate(paragraphs)), segments[lo:hi]), paragraphs)
            joined = "".join(p.translation + p.separator for p in assembled)
            results.append(TranslationResult(joined, language, [s for p in assembled for s in p.segments]))
        return results

    # -- summary -------------------------------------------------------------------------

    def _chunks(self, texts: list[str]) -> list[str]:
        """English texts packed into chunks within the summarizer's input budget."""
        engine = self.summarizer
        budget = engine.max_input_tokens
        chunks: list[str] = []
        current = ""
        for text in texts:
            for paragraph in split_paragraphs(text):
                for n, piece in enumerate(segment(paragraph.text, engine.count_tokens, budget)):
                    content = piece.content
                    joiner = "\n" if n == 0 else " "
                    candidate = f"{current}{joiner}{content}" if current else content
                    if engine.count_tokens(candidate) <= budget:
                        current = candidate
                    else:
                        chunks.append(current)
                        current = content
        if current:
            chunks.append(current)
        return chunks

    def _reduce(self, texts: list[str], timings: Timings) -> str:
        """One summary of texts too long for the summarizer: summarize chunks, then the
        summaries, until one chunk remains."""
        start = time.perf_counter()
        try:
            chunks = self._chunks(texts)
            while True:
                outputs = [o.text for o in self.summarizer.run("summarize", chunks) if o.text]
                if len(chunks) == 1:
                    return outputs[0] if outputs else ""
                shorter = self._chunks(outputs)
                if len(shorter) >= len(chunks):  # summaries no shorter than their input
                    return " ".join(outputs)
                chunks = shorter
        finally:
            timings.summarize_ms += _ms(start)

    def summary_method(self, requested: str) -> str:
        method = requested.strip().lower() or self.bundle.summary_method
        if method not in SUMMARY_METHODS:
            raise InvalidArgument(
                "summary_method", f"summary_method '{requested}' is not one of {', '.join(SUMMARY_METHODS)} (or empty for the bundle's default)"
            )
        return method

    def summarize_english(self, english: list[str], max_sentences: int, method: str = "", timings: Timings | None = None) -> SummaryResult:
        """Summary of English paragraphs. "model": the bundle's summarizer, each sentence tied
        to paragraphs by word overlap; "extractive": whole sentences of the text, each tied
        to the paragraph it came from."""
        timings = timings or Timings()
        method = self.summary_method(method)
        if not any(t.strip() for t in english):
            return SummaryResult("", [])
        if method == "extractive":
            start = time.perf_counter()
            picked = extractive.summarize(english, max_sentences)
            timings.summarize_ms += _ms(start)
            return SummaryResult(" ".join(s for s, _ in picked), [SummarySentence(s, [i]) for s, i in picked])
        summary = normalize(self._reduce(english, timings))
        sentences = [
            s.strip() for p in split_paragraphs(summary) for s in split_sentences(p.text) if s.strip()
        ][:max_sentences]
        return SummaryResult(
            " ".join(sentences), [SummarySentence(s, attribute(s, english)) for s in sentences]
        )

    # -- articles ------------------------------------------------------------------------

    def _article(self, text: str, source_language: str) -> tuple[str, list[Paragraph], Original]:
        original = Original(text)
        language = self.language(original.normalized, source_language, "text")
        paragraphs = split_paragraphs(original.normalized)
        if not paragraphs:
            raise InvalidArgument("text", "text has no content after removing invisible characters")
        return language, paragraphs, original

    def summarize(
        self, text: str, source_language: str = "", max_sentences: int = DEFAULT_SUMMARY_SENTENCES, summary_method: str = "",
        glossary: dict[str, str] | None = None,
    ) -> SummaryResult:
        timings = Timings()
        terms = self.terms(glossary)
        self.summary_method(summary_method)  # refuse a bad method before translating
        language, paragraphs, _ = self._article(text, source_language)
        if language == "ar":
            english = [p.translation for p in self._translate_paragraphs(paragraphs, timings, terms)]
        else:
            english = [p.text for p in paragraphs]
        result = self.summarize_english(english, max_sentences, summary_method, timings)
        result.detected_language = language
        return result

    def iter_digest(
        self, text: str, source_language: str = "", max_sentences: int = DEFAULT_SUMMARY_SENTENCES, summary_method: str = "",
        glossary: dict[str, str] | None = None,
    ) -> Iterator[ParagraphResult | SummaryResult | Done]:
        """Paragraphs in order as they are translated, then the summary, then Done."""
        start = time.perf_counter()
        timings = Timings()
        self.summary_method(summary_method)
        terms = self.terms(glossary)
        language, paragraphs, original = self._article(text, source_language)
        if language == "ar":
            translated = self._translate_paragraphs(paragraphs, timings, terms)
        else:
            translated = (self._unchanged(i, p) for i, p in enumerate(paragraphs))
        english = []
        for result in translated:
            original.restore([result], paragraphs, unchanged=language != "ar")  # readers see the text as sent
            english.append(result.translation)
            yield result
        summary = self.summarize_english(english, max_sentences, summary_method, timings)
        summary.detected_language = language
        yield summary
        timings.total_ms = _ms(start)
        yield Done(language, timings)

    def digest(
        self, text: str, source_language: str = "", max_sentences: int = DEFAULT_SUMMARY_SENTENCES, summary_method: str = "",
        glossary: dict[str, str] | None = None,
    ) -> DigestResult:
        paragraphs: list[ParagraphResult] = []
        summary = SummaryResult("", [])
        done = None
        for event in self.iter_digest(text, source_language, max_sentences, summary_method, glossary):
            if isinstance(event, ParagraphResult):
                paragraphs.append(event)
            elif isinstance(event, SummaryResult):
                summary = event
            else:
                done = event
        assert done is not None
        translation = "".join(p.translation + p.separator for p in paragraphs)
        return DigestResult(translation, summary, paragraphs, done.detected_language, done.timings)
