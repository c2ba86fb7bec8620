"""The summary stage: English paragraphs summarized by the bundle's summarizer (map-reduce when
the article is over its input budget, each sentence bounded and tied to the paragraphs it draws
on), or extractively, without a model. It owns the summarizer engine and the bundle's default
method."""

from __future__ import annotations

import time

from khulasa_server.errors import InvalidArgument, echo
from khulasa_server.models.engines import Engine, Row
from khulasa_server.models.schema import SUMMARY_METHODS
from khulasa_server.pipeline import extractive
from khulasa_server.pipeline.attribution import attribute, content_share
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.pipeline.results import ParagraphResult, SummaryResult, SummarySentence, Timings, elapsed_ms
from khulasa_server.pipeline.support import cite_support, unsupported
from khulasa_server.scope import checked, checkpoint
from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import fit_budget, segment, sentences_of, split_paragraphs

# Summary sentences are cut at this many summarizer tokens (marked " …"): a model that never
# ends a sentence, or rounds that stop shrinking, must not return a summary longer than the article.
SUMMARY_SENTENCE_TOKENS = 80


# A summary is short: at most this many words unless the bundle's summarize decoding sets
# max_words. Sentences are dropped from the end to fit; a first sentence longer than that is cut.
SUMMARY_WORDS = 60


def lead(english: list[str]) -> tuple[str, int] | None:
    """The article's main event as its first sentence says it: the first sentence of the first
    paragraph that has one of at least extractive.MIN_WORDS words (a headline of fewer words is
    skipped for the lead paragraph under it)."""
    for index, paragraph in enumerate(english):
        for sentence in sentences_of(normalize(paragraph)):
            if len(sentence.split()) >= extractive.MIN_WORDS:
                return sentence.strip(), index
    return None


# A first sentence drawn from the lead's paragraph still says the news only if it keeps this
# share of the lead sentence's content words; the small model's own opening often keeps the
# place and drops who did what. Chosen on the three tuning sets' stored summaries
# (docs/quality.md): 0.5 and 0.7 kept the lead of 24 and 26 articles of 37, none of them 23.
LEAD_KEPT = 0.7


def lead_first(chosen: list[SummarySentence], english: list[str], max_sentences: int) -> list[SummarySentence]:
    """The summary led by the news: when its first sentence does not draw on the lead's
    paragraph (a model that opens with background), or draws on it but keeps less than
    LEAD_KEPT of the lead sentence's content words, the lead sentence goes first and the
    summary keeps max_sentences."""
    found = lead(english)
    if found is None or max_sentences < 1:
        return chosen
    text, index = found
    if chosen and index in chosen[0].paragraphs and _keeps(chosen[0].text, text):
        return chosen
    rest = [s for s in chosen if s.text != text]
    return [SummarySentence(text, [index]), *rest][:max_sentences]


def _keeps(sentence: str, lead_sentence: str) -> bool:
    share = content_share(sentence, lead_sentence)
    return share is None or share >= LEAD_KEPT


def within_words(chosen: list[SummarySentence], max_words: int) -> list[SummarySentence]:
    kept: list[SummarySentence] = []
    words = 0
    for sentence in chosen:
        count = len(sentence.text.split())
        if not kept and count > max_words:
            cut = " ".join(sentence.text.split()[:max_words]).rstrip(",;:") + " …"
            return [SummarySentence(cut, sentence.paragraphs, sentence.warnings)]
        if words + count > max_words:
            break
        kept.append(sentence)
        words += count
    return kept


# A summary sentence drawing on a paragraph whose English is flagged or unsure may carry the same
# error (the summary reads the English, not the Arabic): it says so, and the reader checks the
# paragraphs it cites. Notes that question nothing do not count.
FLAGGED_PARAGRAPH = "flagged_paragraph"
_NOT_QUESTIONING = {"split_long_sentence"}


def mark_flagged_paragraphs(summary: SummaryResult, paragraphs: list[ParagraphResult]) -> SummaryResult:
    """Each summary sentence citing a paragraph with a flag or low_confidence gets
    FLAGGED_PARAGRAPH (once)."""
    flagged = {
        p.index for p in paragraphs if any(w.partition(":")[0] not in _NOT_QUESTIONING for s in p.segments for w in s.warnings)
    }
    for sentence in summary.sentences:
        if flagged.intersection(sentence.paragraphs) and FLAGGED_PARAGRAPH not in sentence.warnings:
            sentence.warnings.append(FLAGGED_PARAGRAPH)
    return summary


class SummaryStage:
    def __init__(self, engine: Engine, default_method: str):
        self.engine = engine
        self.default_method = default_method  # the bundle's, for a request that names none

    @property
    def max_words(self) -> int:
        """The most words a summary keeps: the bundle's, else SUMMARY_WORDS."""
        return self.engine.entry.options("summarize").max_words or SUMMARY_WORDS

    def chunks(self, texts: list[str]) -> list[str]:
        """English texts packed into chunks within the summarizer's input budget (one chunk,
        and so one pass, when the article fits)."""
        engine = self.engine
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

    def reduce(self, texts: list[str], timings: Timings, max_sentences: int = 0, max_words: int = 0) -> str:
        """One summary of texts too long for the summarizer: summarize chunks, then the
        summaries, until one chunk remains. The last pass may stop after max_sentences
        sentences or past max_words words (0: no limit): the caller keeps no more, and the
        rest would be decoded for nothing."""
        start = time.perf_counter()
        try:
            chunks = self.chunks(texts)
            while True:
                checkpoint()
                # Only the last pass may stop early: a chunk's summary feeds the next pass whole.
                last = len(chunks) == 1
                rows = [Row(c, max_sentences=max_sentences if last else 0, max_words=max_words if last else 0) for c in chunks]
                outputs = [o.text for o in self.engine.run("summarize", rows) if o.text]
                if len(chunks) == 1:
                    return outputs[0] if outputs else ""
                shorter = self.chunks(outputs)
                if len(shorter) >= len(chunks):  # summaries no shorter than their input
                    return " ".join(outputs)
                chunks = shorter
        finally:
            timings.summarize_ms += elapsed_ms(start)

    def method(self, requested: str) -> str:
        method = requested.strip().lower() or self.default_method
        if method not in SUMMARY_METHODS:
            raise InvalidArgument(
                "summary_method",
                f"summary_method '{echo(requested)}' is not one of {', '.join(SUMMARY_METHODS)} "
                "(or empty for the bundle's default)",
            )
        return method

    def summarize(self, english: list[str], options: ArticleOptions, timings: Timings | None = None) -> SummaryResult:
        """Summary of English paragraphs, of options.max_sentences sentences at most, by
        options.summary_method (as Pipeline.resolve names it; empty: the bundle's). "model": the
        bundle's summarizer, each sentence tied to paragraphs by word overlap; "extractive":
        whole sentences of the text, each tied to the paragraph it came from."""
        timings = timings or Timings()
        method = options.summary_method or self.default_method
        max_sentences = options.max_sentences
        max_words = self.max_words
        if not any(t.strip() for t in english):
            return SummaryResult("", [])
        if method == "extractive":
            start = time.perf_counter()
            chosen = [SummarySentence(s, [i]) for s, i in extractive.summarize(english, max_sentences)]
            timings.summarize_ms += elapsed_ms(start)
        else:
            # Decoding stops once whole sentences are past max_words words: within_words below
            # keeps none after them, so they would be decoded for nothing. Words are counted
            # before each sentence's 80-token cut, as the decoder counts them.
            summary = normalize(self.reduce(english, timings, max_sentences, max_words))
            start = time.perf_counter()
            texts = sentences_of(summary)[:max_sentences]
            chosen = [SummarySentence(s, cite_support(s, english, attribute(s, english))) for s in texts]
            timings.checks_ms += elapsed_ms(start)
        start = time.perf_counter()
        chosen = within_words(lead_first(chosen, english, max_sentences), max_words)
        if method != "extractive":
            # Each sentence, the lead taken from the translation too, under the bound of the
            # model's own sentences (a sentence that never ends must still stop).
            chosen = [SummarySentence(self._bounded(s.text), s.paragraphs, s.warnings) for s in chosen]
        for sentence in chosen:
            sentence.warnings = unsupported(sentence.text, [english[i] for i in sentence.paragraphs if i < len(english)])
        timings.checks_ms += elapsed_ms(start)
        return SummaryResult(" ".join(s.text for s in chosen), chosen)

    def _bounded(self, sentence: str) -> str:
        count = checked(self.engine.count_tokens)
        if count(sentence) <= SUMMARY_SENTENCE_TOKENS:
            return sentence
        budget = SUMMARY_SENTENCE_TOKENS - count(" …")
        return fit_budget(sentence, count, budget)[0].rstrip() + " …"
