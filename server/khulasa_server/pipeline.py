"""The article pipeline, usable without gRPC:

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
from dataclasses import asdict, replace
from pathlib import Path

from . import bundle as bundle_mod
from . import extractive, names
from . import glossary as glossary_mod
from .attribution import attribute
from .checks import cut_repetition, missing_names, missing_numbers
from .core.options import SUMMARY_METHODS, ArticleOptions, GatheringOptions
from .engines import Engine, Runtime, load_engine
from .engines.gather import GatheringEngine
from .errors import InvalidArgument, echo
from .names import repair
from .names import source as name_source
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
from .scope import checked, checkpoint
from .text.detect import SUPPORTED, detect, has_arabic
from .text.normalize import normalize
from .text.original import Original
from .text.segment import Paragraph, Piece, fit_budget, segment, sentences_of, split_paragraphs, split_sentences

_LANGUAGE_NAMES = {
    "fa": "Persian or Urdu",
    "latn": "a Latin-script language other than English",
    "other": "a script other than Arabic or Latin",
}
_PARAGRAPH_GROUP_TOKENS = 2048  # source tokens per streamed paragraph group after the first paragraph
# Summary sentences are cut at this many summarizer tokens (marked " …"): a model that never
# ends a sentence, or rounds that stop shrinking, must not return a summary longer than the article.
SUMMARY_SENTENCE_TOKENS = 80


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
    def __init__(self, bundle: bundle_mod.Bundle, translator: Engine, summarizer: Engine, glossary: dict[str, str] | None = None):
        self.bundle = bundle
        self.translator = translator
        self.summarizer = summarizer
        self.glossary = glossary_mod.check(glossary or {})  # applies to every request
        self.name_repairs = repair.RepairStats()
        self.repair_names = True  # decode flagged segments again with their names as terms
        # Gazetteer names as terms in every first prompt too, not only when repairing: measured on
        # both eval sets it lowered chrF and kept fewer names (docs/quality.md), so off.
        self.name_terms_first = False
        # Names replaced by their English in the source the model reads (names/source.py):
        # measured against the default on the eval sets in docs/quality.md.
        self.names_in_source = ""  # "", or one of names/source.py WHICH

    @classmethod
    def load(
        cls,
        name_or_path: str | Path,
        runtime: Runtime | None = None,
        verify: bool = True,
        gathering: GatheringOptions | None = None,
        glossary: dict[str, str] | None = None,
    ) -> Pipeline:
        """gathering: with it, calls from concurrent requests share
        decoding calls (a server wants this; a single-threaded bulk job does not need it)."""
        runtime = runtime or Runtime()
        loaded = bundle_mod.load(name_or_path, verify_checksums=verify)
        engines: dict[str, Engine] = {}
        for role in bundle_mod.ROLES:
            name = loaded.roles[role]
            if name not in engines:  # one model serving both roles is loaded once
                engine = load_engine(loaded.models[name], runtime)
                if gathering is not None:
                    engine = GatheringEngine(engine, workers=runtime.inter_threads, **asdict(gathering))
                engines[name] = engine
        return cls(loaded, engines[loaded.roles["translate"]], engines[loaded.roles["summarize"]], glossary)

    def close(self) -> None:
        for engine in {id(e): e for e in (self.translator, self.summarizer)}.values():
            if isinstance(engine, GatheringEngine):
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
                    f"source_language '{echo(requested)}' is not supported; supported: {', '.join(self.languages)} "
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

    @staticmethod
    def _to_translate(paragraphs: list[Paragraph], requested: str) -> list[bool]:
        """Which paragraphs go to the translator: all when the caller said "ar", none when it
        said "en", else each paragraph detected as Arabic (so an Arabic article's English
        quote is kept as it is, and a text detected as English has its Arabic paragraphs
        translated all the same)."""
        code = requested.strip().lower()
        if code:
            return [code == "ar"] * len(paragraphs)
        return [detect(p.text) == "ar" for p in paragraphs]

    def _pieces(self, paragraph: Paragraph) -> list[Piece]:
        """The paragraph cut to the translator's budget, each piece with its tokens: those of
        the texts counted on the way are kept (only ones that fit can become pieces), so a
        piece is tokenized once, here, and the engine and the counts below reuse them."""
        engine = self.translator
        budget = engine.entry.input_tokens("translate")
        known: dict[str, list[str]] = {}

        def count(text: str) -> int:
            checkpoint()
            tokens = known.get(text)
            if tokens is None:
                tokens = engine.tokenize(text)
                if len(tokens) <= budget:
                    known[text] = tokens
            return len(tokens)

        pieces = segment(paragraph.text, count, budget)
        if engine.unit == "paragraph":
            pieces = _group(pieces, count, budget)
        return [replace(p, tokens=tuple(known.get(p.content) or engine.tokenize(p.content))) for p in pieces]

    @staticmethod
    def _tokens(piece: Piece) -> list[str]:
        assert piece.tokens is not None, "pieces come from _pieces, which tokenizes them"
        return list(piece.tokens)

    def terms(self, requested: Mapping[str, str] | None) -> dict[str, str]:
        """The server's glossary with the request's entries over it."""
        return {**self.glossary, **glossary_mod.check(dict(requested or {}))}

    def _translate(self, units: list[tuple[int, Piece]], timings: Timings, glossary: dict[str, str]) -> list[Segment]:
        checkpoint()
        if not units:
            return []
        terms = [glossary_mod.terms_in(glossary, piece.content) for _, piece in units]
        found = [names.find(piece.content) for _, piece in units]
        notes = [
            glossary_mod.note(t + (names.terms(f, skip=dict(t)) if self.name_terms_first else [])) for t, f in zip(terms, found)
        ]
        texts, tokens = self._model_inputs(units, found)
        start = time.perf_counter()
        outputs = self.translator.run("translate", texts, notes, tokens=tokens)
        timings.translate_ms += _ms(start)
        segments = []
        for unit, out, t, f in zip(units, outputs, terms, found):
            timings.source_tokens += len(self._tokens(unit[1]))
            timings.target_tokens += out.tokens
            segments.append(self._segment(unit, out, t, f))
        return self._repair_names(units, segments, terms, found, timings)

    def _model_inputs(self, units: list[tuple[int, Piece]], found: list[names.Names]) -> tuple[list[str], list[list[str]]]:
        """What the model reads of each piece: the piece, or with names_in_source its names in
        English (kept only while it fits the input budget the piece was cut to)."""
        texts = [piece.content for _, piece in units]
        tokens = [self._tokens(piece) for _, piece in units]
        if not self.names_in_source:
            return texts, tokens
        budget = self.translator.entry.input_tokens("translate")
        for k, f in enumerate(found):
            if f:
                text = name_source.english_in_source(texts[k], f, self.names_in_source)
                counted = self.translator.tokenize(text)
                if len(counted) <= budget:
                    texts[k], tokens[k] = text, counted
        return texts, tokens

    @staticmethod
    def _segment(unit: tuple[int, Piece], out, terms: list[tuple[str, str]], found: names.Names) -> Segment:
        index, piece = unit
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
        warnings += [f"missing_term:{t}" for t in glossary_mod.missing(terms, text)]
        warnings += names.check(found, text)
        return Segment(piece.content, text, out.score, index, warnings)

    def _repair_names(self, units, segments: list[Segment], terms, found, timings: Timings) -> list[Segment]:
        """Segments with a name flag decoded again with their names as terms (prompted engines
        only: others ignore notes); the new output replaces the old when it has fewer problems."""
        todo = [k for k, s in enumerate(segments) if repair.flagged(s.warnings)]
        if not todo or not self.repair_names or self.translator.entry.engine != "generator":
            return segments
        checkpoint()  # a caller that has gone gets no second decoding
        notes = [repair.note(terms[k] + names.repair_terms(found[k], skip=dict(terms[k]))) for k in todo]
        start = time.perf_counter()
        outputs = self.translator.run(
            "translate", [units[k][1].content for k in todo], notes, tokens=[self._tokens(units[k][1]) for k in todo]
        )
        seconds = time.perf_counter() - start
        timings.translate_ms += seconds * 1000
        log = []
        for k, out in zip(todo, outputs):
            timings.target_tokens += out.tokens
            candidate = self._segment(units[k], out, terms[k], found[k])
            better = repair.problems(candidate.warnings) < repair.problems(segments[k].warnings)
            log.append((candidate.source, segments[k].translation, candidate.translation, better))
            if better:
                segments[k] = candidate
        self.name_repairs.add(len(todo), sum(entry[3] for entry in log), seconds, log)
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
        """A paragraph returned as it is; a sentence of it in Arabic script says so
        ("untranslated_arabic"): the caller forced "en", or the paragraph was not detected as Arabic."""
        segments = [
            Segment(s.strip(), s.strip(), 0.0, index, ["untranslated_arabic"] if has_arabic(s) else [])
            for s in split_sentences(paragraph.text)
            if s.strip()
        ]
        return ParagraphResult(index, paragraph.text, paragraph.text, segments, paragraph.separator)

    def _translate_paragraphs(
        self, paragraphs: list[Paragraph], timings: Timings, glossary: dict[str, str], chosen: list[bool], stream: bool = True
    ) -> Iterator[ParagraphResult]:
        """Paragraphs in order, the chosen ones translated. stream: in paragraph groups, the
        first paragraph alone (so a stream shows progress at once), then groups of about
        _PARAGRAPH_GROUP_TOKENS source tokens; otherwise all in one call (the engine splits it as
        its budget requires): for an LLM a decoding step costs about as much for one paragraph
        as for ten."""
        group: list[tuple[int, Paragraph, bool]] = []
        units: list[tuple[int, Piece]] = []
        tokens = 0
        for index, paragraph in enumerate(paragraphs):
            group.append((index, paragraph, chosen[index]))
            if chosen[index]:
                pieces = self._pieces(paragraph)
                units.extend((index, piece) for piece in pieces)
                tokens += sum(len(self._tokens(p)) for p in pieces)
            last = index == len(paragraphs) - 1
            if last or (stream and (index == 0 or tokens >= _PARAGRAPH_GROUP_TOKENS)):
                translated = iter(self._assemble([(i, p) for i, p, t in group if t], self._translate(units, timings, glossary)))
                for i, p, t in group:
                    yield next(translated) if t else self._unchanged(i, p)
                group, units, tokens = [], [], 0

    def translate(self, texts: list[str], options: ArticleOptions | None = None) -> list[TranslationResult]:
        """Each text translated independently; all their sentences share batches (options:
        source_language and glossary)."""
        options = options or ArticleOptions()
        source_language = options.source_language
        timings = Timings()
        terms = self.terms(options.glossary)
        plans = []
        units: list[tuple[int, Piece]] = []
        for t, text in enumerate(texts):
            checkpoint()
            original = Original(text)
            language = self.language(original.normalized, source_language, f"texts[{t}]")
            paragraphs = split_paragraphs(original.normalized)
            chosen = self._to_translate(paragraphs, source_language)
            offset = len(units)
            for p, paragraph in enumerate(paragraphs):
                if chosen[p]:
                    units.extend((p, piece) for piece in self._pieces(paragraph))
            plans.append((original, "ar" if any(chosen) else language, paragraphs, chosen, offset, len(units)))
        segments = self._translate(units, timings, terms)
        results = []
        for original, language, paragraphs, chosen, lo, hi in plans:
            if not any(chosen):
                unchanged = original.restore([self._unchanged(i, p) for i, p in enumerate(paragraphs)], paragraphs, True)
                results.append(TranslationResult(original.text, language, [s for p in unchanged for s in p.segments]))
                continue
            translated = iter(self._assemble([(i, p) for i, p in enumerate(paragraphs) if chosen[i]], segments[lo:hi]))
            assembled = [
                original.restore([next(translated) if chosen[i] else self._unchanged(i, p)], paragraphs, unchanged=not chosen[i])[
                    0
                ]
                for i, p in enumerate(paragraphs)
            ]
            joined = "".join(p.translation + p.separator for p in assembled)
            results.append(TranslationResult(joined, language, [s for p in assembled for s in p.segments]))
        return results

    # -- summary -------------------------------------------------------------------------

    def _chunks(self, texts: list[str]) -> list[str]:
        """English texts packed into chunks within the summarizer's input budget (one chunk,
        and so one pass, when the article fits)."""
        engine = self.summarizer
        count = checked(engine.count_tokens)
        budget = engine.entry.input_tokens("summarize")
        chunks: list[str] = []
        current = ""
        for text in texts:
            for paragraph in split_paragraphs(text):
                for n, piece in enumerate(segment(paragraph.text, count, budget)):
                    content = piece.content
                    joiner = "\n" if n == 0 else " "
                    candidate = f"{current}{joiner}{content}" if current else content
                    if count(candidate) <= budget:
                        current = candidate
                    else:
                        chunks.append(current)
                        current = content
        if current:
            chunks.append(current)
        return chunks

    def _reduce(self, texts: list[str], timings: Timings, max_sentences: int = 0) -> str:
        """One summary of texts too long for the summarizer: summarize chunks, then the
        summaries, until one chunk remains. The last pass may stop after max_sentences
        sentences (0: no limit): the caller keeps no more, and the rest would be decoded for
        nothing."""
        start = time.perf_counter()
        try:
            chunks = self._chunks(texts)
            while True:
                checkpoint()
                limit = [max_sentences] if len(chunks) == 1 else None
                outputs = [o.text for o in self.summarizer.run("summarize", chunks, sentences=limit) if o.text]
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
                "summary_method",
                f"summary_method '{echo(requested)}' is not one of {', '.join(SUMMARY_METHODS)} "
                "(or empty for the bundle's default)",
            )
        return method

    def summarize_english(
        self, english: list[str], max_sentences: int, method: str = "", timings: Timings | None = None
    ) -> SummaryResult:
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
        summary = normalize(self._reduce(english, timings, max_sentences))
        sentences = [self._bounded(s) for s in sentences_of(summary)][:max_sentences]
        return SummaryResult(" ".join(sentences), [SummarySentence(s, attribute(s, english)) for s in sentences])

    def _bounded(self, sentence: str) -> str:
        count = checked(self.summarizer.count_tokens)
        if count(sentence) <= SUMMARY_SENTENCE_TOKENS:
            return sentence
        budget = SUMMARY_SENTENCE_TOKENS - count(" …")
        return fit_budget(sentence, count, budget)[0].rstrip() + " …"

    # -- articles ------------------------------------------------------------------------

    def _article(self, text: str, source_language: str) -> tuple[str, list[Paragraph], list[bool], Original]:
        """The language to report, the paragraphs, which of them to translate, and the text as sent."""
        original = Original(text)
        checkpoint()
        language = self.language(original.normalized, source_language, "text")
        paragraphs = split_paragraphs(original.normalized)
        if not paragraphs:
            raise InvalidArgument("text", "text has no content after removing invisible characters")
        chosen = self._to_translate(paragraphs, source_language)
        return ("ar" if any(chosen) else language), paragraphs, chosen, original

    def summarize(self, text: str, options: ArticleOptions | None = None) -> SummaryResult:
        options = options or ArticleOptions()
        timings = Timings()
        terms = self.terms(options.glossary)
        self.summary_method(options.summary_method)  # refuse a bad method before translating
        language, paragraphs, chosen, _ = self._article(text, options.source_language)
        english = [p.translation for p in self._translate_paragraphs(paragraphs, timings, terms, chosen, stream=False)]
        result = self.summarize_english(english, options.max_sentences, options.summary_method, timings)
        result.detected_language = language
        return result

    def iter_digest(
        self, text: str, options: ArticleOptions | None = None, stream: bool = True
    ) -> Iterator[ParagraphResult | SummaryResult | Done]:
        """Paragraphs in order as they are translated, then the summary, then Done. stream=False
        trades the early first paragraph for one batch (digest() wants the whole anyway)."""
        options = options or ArticleOptions()
        start = time.perf_counter()
        timings = Timings()
        self.summary_method(options.summary_method)
        terms = self.terms(options.glossary)
        language, paragraphs, chosen, original = self._article(text, options.source_language)
        translated = self._translate_paragraphs(paragraphs, timings, terms, chosen, stream)
        english = []
        for result in translated:
            original.restore([result], paragraphs, unchanged=not chosen[result.index])  # readers see the text as sent
            english.append(result.translation)
            yield result
        summary = self.summarize_english(english, options.max_sentences, options.summary_method, timings)
        summary.detected_language = language
        yield summary
        timings.total_ms = _ms(start)
        yield Done(language, timings)

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
