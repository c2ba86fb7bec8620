"""The translation stage: an article's paragraphs cut into pieces within the translator's input
budget, decoded in shared batches, checked (numbers, names, terms, loops), names repaired where
the engine takes notes, and reassembled into paragraphs. It owns the translator engine, the
server's glossary and the name settings; which paragraphs to translate is the pipeline's call."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import NamedTuple

from khulasa_server.models.engines import Engine, Row
from khulasa_server.pipeline import confidence, meaning, names
from khulasa_server.pipeline import glossary as glossary_mod
from khulasa_server.pipeline.checks import cut_repetition, missing_names, missing_numbers
from khulasa_server.pipeline.names import repair
from khulasa_server.pipeline.names import source as name_source
from khulasa_server.pipeline.options import ArticleOptions, NameOptions
from khulasa_server.pipeline.results import ParagraphResult, Segment, Timings, elapsed_ms
from khulasa_server.scope import carry, checkpoint
from khulasa_server.text.detect import detect, has_arabic
from khulasa_server.text.segment import Paragraph, Piece, segment, split_sentences

_PARAGRAPH_GROUP_TOKENS = 2048  # source tokens per streamed paragraph group after the first paragraph


class Unit(NamedTuple):
    """A piece to decode, the index of the paragraph it belongs to and of the request's text
    (an article: what its names are spelled consistently across)."""

    paragraph: int
    piece: Piece
    text: int = 0


def _group(pieces: list[Piece], count, budget: int) -> list[Piece]:
    """Consecutive pieces merged while they fit the budget (for engines that want paragraphs)."""
    grouped: list[Piece] = []
    for piece in pieces:
        if grouped and count((grouped[-1].text + piece.text).strip()) <= budget:
            last = grouped.pop()
            piece = Piece(last.text + piece.text, split=last.split or piece.split)
        grouped.append(piece)
    return grouped


class TranslationStage:
    def __init__(self, engine: Engine, glossary: Mapping[str, str] | None = None, options: NameOptions | None = None):
        self.engine = engine
        self.glossary = glossary_mod.check(dict(glossary or {}))  # applies to every request
        self.name_repairs = repair.RepairStats()
        options = options or NameOptions()
        # Plain attributes, read on every call: khulasa-models eval and the tests turn them per run.
        self.repair_names = options.repair
        self.name_terms_first = options.terms_first
        self.names_in_source = options.in_source

    @staticmethod
    def chosen(paragraphs: list[Paragraph], source_language: str) -> list[bool]:
        """Which paragraphs go to the translator: all when the caller said "ar", none when it
        said "en", else each paragraph detected as Arabic (so an Arabic article's English
        quote is kept as it is, and a text detected as English has its Arabic paragraphs
        translated all the same)."""
        if source_language:
            return [source_language == "ar"] * len(paragraphs)
        return [detect(p.text) == "ar" for p in paragraphs]

    def pieces(self, paragraph: Paragraph) -> list[Piece]:
        """The paragraph cut to the translator's budget, each piece with its tokens: those of
        the texts counted on the way are kept (only ones that fit can become pieces), so a
        piece is tokenized once, here, and the engine and the counts below reuse them."""
        engine = self.engine
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
        assert piece.tokens is not None, "pieces come from pieces(), which tokenizes them"
        return list(piece.tokens)

    def terms(self, requested: Mapping[str, str] | None) -> dict[str, str]:
        """The server's glossary with the request's entries over it."""
        return {**self.glossary, **glossary_mod.check(dict(requested or {}))}

    def run(
        self, units: list[Unit], options: ArticleOptions, timings: Timings, article: Mapping[str, str] | None = None
    ) -> list[Segment]:
        """The units translated, checked and their names repaired; options.glossary is the
        server's glossary with the request's over it (Pipeline.resolve). `article`: the surnames
        of the whole article when the units are only part of it (a streamed group), else each
        text's own units give them."""
        checkpoint()
        if not units:
            return []
        terms = [glossary_mod.terms_in(options.glossary, unit.piece.content) for unit in units]
        start = time.perf_counter()
        found = [names.find(unit.piece.content) for unit in units]
        timings.checks_ms += elapsed_ms(start)
        notes = [
            glossary_mod.note(t + (names.terms(f, skip=dict(t)) if self.name_terms_first else [])) for t, f in zip(terms, found)
        ]
        spelled = self._surnames(units, found, article)
        texts, tokens = self._model_inputs(units, found, spelled)
        if len(units) > 1 and self.repair_names and self.engine.takes_notes and getattr(self.engine, "answers_as_done", False):
            return self._run_each(units, texts, tokens, notes, terms, found, spelled, timings)
        start = time.perf_counter()
        outputs = self.engine.run("translate", [Row(t, tokens=k, note=n) for t, k, n in zip(texts, tokens, notes)])
        timings.translate_ms += elapsed_ms(start)
        segments = []
        for unit, out, t, f in zip(units, outputs, terms, found):
            timings.source_tokens += len(self._tokens(unit[1]))
            timings.target_tokens += out.tokens
            segments.append(self._segment(unit, out, t, f, timings))
        return self._repair_names(units, segments, terms, found, spelled, list(zip(texts, tokens)), timings)

    def _surnames(
        self, units: list[Unit], found: list[names.Names], article: Mapping[str, str] | None
    ) -> list[Mapping[str, str]]:
        """Each unit's article surnames (name_source.surnames), for what the model reads and the
        repair's terms: `article` when given, else those of the units of its own text."""
        if not self.engine.takes_notes:
            return [{} for _ in units]
        if article is not None:
            return [article] * len(units)
        by_text: dict[int, list[names.Names]] = {}
        for unit, f in zip(units, found):
            by_text.setdefault(unit.text, []).append(f)
        spelled = {t: name_source.surnames(fs) for t, fs in by_text.items()}
        return [spelled[unit.text] for unit in units]

    def _run_each(self, units, texts, tokens, notes, terms, found, spelled, timings: Timings) -> list[Segment]:
        """Each piece a request of its own to an engine that answers each as soon as its rows
        are decoded, and its name repair sent at once: the repair joins the calls of the pieces
        still queued, instead of a call of its own after all of them."""

        def one(k: int) -> tuple[Segment, Timings]:
            own = Timings()
            [out] = self.engine.run("translate", [Row(texts[k], tokens=tokens[k], note=notes[k])])
            own.source_tokens, own.target_tokens = len(self._tokens(units[k][1])), out.tokens
            segment = self._segment(units[k], out, terms[k], found[k], own)
            read = [(texts[k], tokens[k])]
            return self._repair_names([units[k]], [segment], [terms[k]], [found[k]], [spelled[k]], read, own)[0], own

        start = time.perf_counter()
        calls = [carry(one) for _ in units]  # each in a copy of this request's context (its scope)
        with ThreadPoolExecutor(max_workers=min(len(units), 64), thread_name_prefix="piece") as pool:
            done = list(pool.map(lambda call, k: call(k), calls, range(len(units))))
        timings.translate_ms += elapsed_ms(start)
        for _, own in done:
            timings.source_tokens += own.source_tokens
            timings.target_tokens += own.target_tokens
            timings.checks_ms += own.checks_ms
        return [segment for segment, _ in done]

    def _model_inputs(
        self, units: list[Unit], found: list[names.Names], spelled: list[Mapping[str, str]]
    ) -> tuple[list[str], list[list[str]]]:
        """What the model reads of each piece: the piece, or with names_in_source its names in
        English (kept only while it fits the input budget the piece was cut to). A prompted
        engine (an LLM) only, as the repair: it was measured there (docs/quality.md), not on a
        sentence translator."""
        texts = [unit.piece.content for unit in units]
        tokens = [self._tokens(unit.piece) for unit in units]
        if not self.names_in_source or not self.engine.takes_notes:
            return texts, tokens
        budget = self.engine.entry.input_tokens("translate")
        for k, f in enumerate(found):
            if f:
                text = name_source.english_in_source(texts[k], f, self.names_in_source, spelled[k])
                counted = self.engine.tokenize(text)
                if len(counted) <= budget:
                    texts[k], tokens[k] = text, counted
        return texts, tokens

    def _segment(
        self, unit: Unit, out, terms: list[tuple[str, str]], found: names.Names, timings: Timings | None = None
    ) -> Segment:
        """The output checked: its warnings, confidence and unsure spans (their time is
        timings.checks_ms, what the checks cost a digest)."""
        start = time.perf_counter()
        index, piece = unit.paragraph, unit.piece
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
        meant = meaning.check(piece.content, text)
        warnings += meaning.one_flag_per_weekday(names.check(found, text), meant)
        warnings += meant
        sure = confidence.of(out.token_log_probs, text, out.score)
        threshold = self.engine.entry.low_confidence
        if text and sure < (confidence.LOW_CONFIDENCE if threshold is None else threshold):
            warnings.append("low_confidence")
        unsure = confidence.unsure(out.token_log_probs, text)
        if timings is not None:
            timings.checks_ms += elapsed_ms(start)
        return Segment(piece.content, text, out.score, index, warnings, round(sure, 4), unsure)

    def _repair_names(self, units, segments: list[Segment], terms, found, spelled, read, timings: Timings) -> list[Segment]:
        """Segments with a name flag decoded again with their names as terms (prompted engines
        only: others ignore notes); the new output replaces the old when it is better
        (repair.better). `read`: what the first pass read of each piece, with its tokens."""
        todo = [k for k, s in enumerate(segments) if repair.flagged(s.warnings)]
        if not todo or not self.repair_names or not self.engine.takes_notes:
            return segments
        checkpoint()  # a caller that has gone gets no second decoding
        rows: list[Row | None] = []
        for k in todo:
            given = terms[k] + names.repair_terms(found[k], skip=dict(terms[k]), article=spelled[k])
            # What the first pass read (names in English in the source), with a note of the names
            # it still holds in Arabic; where it holds none, the source as sent with all of them.
            text, counted = read[k]
            still = [(arabic, english) for arabic, english in given if arabic in text]
            if still and text != units[k].piece.content:
                rows.append(Row(text, tokens=counted, note=repair.note(still)))
            elif given:
                rows.append(Row(units[k].piece.content, tokens=self._tokens(units[k].piece), note=repair.note(given)))
            else:  # without a term to give, the prompt is the first pass's: greedy decoding would repeat it
                rows.append(None)
        todo, ready = [k for k, r in zip(todo, rows) if r], [r for r in rows if r]
        if not todo:
            return segments
        start = time.perf_counter()
        outputs = self.engine.run("translate", ready)
        seconds = time.perf_counter() - start
        timings.translate_ms += seconds * 1000
        log = []
        for k, out in zip(todo, outputs):
            timings.target_tokens += out.tokens
            candidate = self._segment(units[k], out, terms[k], found[k], timings)
            better = repair.better(segments[k].warnings, candidate.warnings)
            log.append((candidate.source, segments[k].translation, candidate.translation, better))
            if better:
                segments[k] = candidate
        self.name_repairs.add(len(todo), sum(entry[3] for entry in log), seconds, log)
        return segments

    @staticmethod
    def assemble(paragraphs: list[tuple[int, Paragraph]], segments: list[Segment]) -> list[ParagraphResult]:
        results = []
        for index, paragraph in paragraphs:
            own = [s for s in segments if s.paragraph == index]
            text = " ".join(s.translation for s in own if s.translation)
            results.append(ParagraphResult(index, paragraph.text, text, own, paragraph.separator))
        return results

    @staticmethod
    def unchanged(index: int, paragraph: Paragraph) -> ParagraphResult:
        """A paragraph returned as it is; a sentence of it in Arabic script says so
        ("untranslated_arabic"): the caller forced "en", or the paragraph was not detected as Arabic."""
        segments = [
            Segment(s.strip(), s.strip(), 0.0, index, ["untranslated_arabic"] if has_arabic(s) else [])
            for s in split_sentences(paragraph.text)
            if s.strip()
        ]
        return ParagraphResult(index, paragraph.text, paragraph.text, segments, paragraph.separator)

    def paragraphs(
        self, paragraphs: list[Paragraph], chosen: list[bool], options: ArticleOptions, timings: Timings, stream: bool = True
    ) -> Iterator[ParagraphResult]:
        """Paragraphs in order, the chosen ones translated. stream: in paragraph groups, the
        first paragraph alone (so a stream shows progress at once), then groups of about
        _PARAGRAPH_GROUP_TOKENS source tokens; otherwise all in one call (the engine splits it as
        its budget requires): for an LLM a decoding step costs about as much for one paragraph
        as for ten."""
        group: list[tuple[int, Paragraph, bool]] = []
        units: list[Unit] = []
        tokens = 0
        article = None  # streamed, a group is part of the article: its surnames come from all of it
        if stream and self.names_in_source == "all" and self.engine.takes_notes:
            start = time.perf_counter()
            article = name_source.surnames([names.find(p.text) for p, c in zip(paragraphs, chosen) if c])
            timings.checks_ms += elapsed_ms(start)
        for index, paragraph in enumerate(paragraphs):
            group.append((index, paragraph, chosen[index]))
            if chosen[index]:
                pieces = self.pieces(paragraph)
                units.extend(Unit(index, piece) for piece in pieces)
                tokens += sum(len(self._tokens(p)) for p in pieces)
            last = index == len(paragraphs) - 1
            if last or (stream and (index == 0 or tokens >= _PARAGRAPH_GROUP_TOKENS)):
                translated = iter(self.assemble([(i, p) for i, p, t in group if t], self.run(units, options, timings, article)))
                for i, p, t in group:
                    yield next(translated) if t else self.unchanged(i, p)
                group, units, tokens = [], [], 0
