"""The text as it was sent, beside the normalized text the model sees.

Normalization rewrites digits, removes tatweel and bidi marks, unfolds presentation forms. That
is right for the model and wrong for a reader: every field that shows source text (a
paragraph's or a segment's `source`) is cut from the original with the offsets that
normalization reports."""

from __future__ import annotations

from khulasa_server.pipeline.results import ParagraphResult
from khulasa_server.text.normalize import normalize_with_offsets, strip_controls
from khulasa_server.text.segment import Paragraph


class Original:
    def __init__(self, text: str):
        self.text = text
        self.normalized, self._positions = normalize_with_offsets(text)
        self._starts: tuple[list[Paragraph], list[int]] | None = None

    def span(self, start: int, end: int) -> str:
        """The original characters behind normalized[start:end], without surrounding whitespace
        or control characters (never part of news text; they could drive a reader's terminal)."""
        return strip_controls(self.text[self._positions[start] : self._positions[end]]).strip()

    def starts(self, paragraphs: list[Paragraph]) -> list[int]:
        """Where each paragraph of split_paragraphs(self.normalized) starts in the normalized text."""
        if self._starts is not None and self._starts[0] is paragraphs:
            return self._starts[1]  # a stream restores paragraph by paragraph
        at = len(self.normalized) - len(self.normalized.lstrip("\n"))
        starts = []
        for paragraph in paragraphs:
            assert self.normalized.startswith(paragraph.text, at), "paragraphs are not this text's"
            starts.append(at)
            at += len(paragraph.text) + len(paragraph.separator)
        self._starts = (paragraphs, starts)
        return starts

    def restore(
        self, results: list[ParagraphResult], paragraphs: list[Paragraph], unchanged: bool = False
    ) -> list[ParagraphResult]:
        """Put the original characters into each result's `source` and its segments' `source`
        (and `translation`, for text passed through unchanged). Results are changed in place."""
        starts = self.starts(paragraphs)
        for result in results:
            start, paragraph = starts[result.index], paragraphs[result.index].text
            result.source = self.span(start, start + len(paragraph))
            cursor = 0
            for segment in result.segments:
                at = paragraph.find(segment.source, cursor)  # segments are consecutive pieces of the paragraph
                if at < 0:
                    continue
                cursor = at + len(segment.source)
                segment.source = self.span(start + at, start + cursor)
                if unchanged:
                    segment.translation = segment.source
            if unchanged:
                result.translation = result.source
        return results
