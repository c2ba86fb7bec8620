"""Lossless segmentation: text → paragraphs → sentences → pieces that fit a model's input.

Every function here returns pieces whose concatenation is exactly its input (whitespace stays
attached to the piece before it), so nothing can be dropped on the way to the model and back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

TokenCounter = Callable[[str], int]

_PARAGRAPH_BREAK = re.compile(r"\n+")
# A match starts only at the beginning of a run of end marks and never gives characters back
# (possessive quantifiers): a run of 100,000 dots is then one linear scan, not a quadratic one.
_SENTENCE_END = re.compile(r"(?<![.!?\u061f\u061b\u2026])([.!?\u061f\u061b\u2026]++)([\"'\u00bb\u201d\u2019)\]}]*+)(\s+|$)")
_CLAUSE_END = re.compile(r"[\u060c,;:\u2014]\s+")
_WORD_END = re.compile(r"\s+")
_TOKEN_SCAN = 32  # characters looked back for the word before a period; abbreviations are shorter
_OPENERS = "\"'(«“‘[{"
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr inc ltd co corp vs gen col lt sgt capt cmdr rep sen gov pres "
    "no nos vol fig approx dept est jan feb mar apr jun jul aug sep sept oct nov dec "
    "u.s u.k u.n e.g i.e a.m p.m".split()
)
MIN_BUDGET = 8  # one character can cost several byte-fallback tokens plus an end token


@dataclass(frozen=True)
class Paragraph:
    text: str
    separator: str  # the newlines that followed it in the source ("" for the last one)


@dataclass(frozen=True)
class Piece:
    text: str  # exact source characters, trailing whitespace included
    split: bool = False  # True when a sentence was cut to fit the model's input budget
    # The model's tokens of `content`, once counted against the budget: carried to the engine
    # so that a piece is tokenized once. None: not known yet.
    tokens: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def content(self) -> str:
        return self.text.strip()


def split_paragraphs(text: str) -> list[Paragraph]:
    """Paragraphs are the non-empty lines of normalized text."""
    text = text.strip("\n")
    if not text:
        return []
    bodies = _PARAGRAPH_BREAK.split(text)
    separators = _PARAGRAPH_BREAK.findall(text) + [""]
    return [Paragraph(b, s) for b, s in zip(bodies, separators)]


def _is_abbreviation(text: str, match: re.Match[str]) -> bool:
    if match.group(1) != ".":
        return False
    # Scanned backwards a bounded distance: searching from the start of the paragraph at every
    # period made a paragraph of many short sentences quadratic.
    end = begin = match.start()
    while begin > 0 and end - begin < _TOKEN_SCAN and not text[begin - 1].isspace():
        begin -= 1
    if begin == end:
        return False
    token = text[begin:end].lstrip(_OPENERS)
    if len(token) == 1 and token.isalpha():
        return True  # an initial: "J. K. Rowling", "د. محمد"
    if token.lower() in _ABBREVIATIONS:
        return True
    following = text[match.end() : match.end() + 1]
    return following.isascii() and following.islower()


def split_sentences(paragraph: str) -> list[str]:
    """Split after . ! ? ؟ ؛ … (with closing quotes) followed by whitespace or the end,
    but not after initials or known abbreviations; decimals never match (no space)."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        if match.end() == start or _is_abbreviation(paragraph, match):
            continue
        pieces.append(paragraph[start : match.end()])
        start = match.end()
    if start < len(paragraph):
        pieces.append(paragraph[start:])
    return _merge_blank(pieces)


def sentences_of(text: str) -> list[str]:
    """A text's sentences, paragraph by paragraph, stripped (a summary is cut to these). Text
    appended later never changes any but the last one (the boundaries before it are settled by
    what follows them), which lets a decoder stop once enough sentences are complete."""
    return [s.strip() for p in split_paragraphs(text) for s in split_sentences(p.text) if s.strip()]


def _merge_blank(pieces: list[str]) -> list[str]:
    """Attach whitespace- or punctuation-only pieces to a neighbour."""
    merged: list[str] = []
    for piece in pieces:
        if merged and not any(c.isalnum() for c in piece):
            merged[-1] += piece
        else:
            merged.append(piece)
    if len(merged) > 1 and not any(c.isalnum() for c in merged[0]):
        merged[1] = merged[0] + merged[1]
        merged.pop(0)
    return merged


def _split_after(text: str, pattern: re.Pattern[str]) -> list[str]:
    parts, start = [], 0
    for match in pattern.finditer(text):
        if match.end() > start:
            parts.append(text[start : match.end()])
            start = match.end()
    if start < len(text):
        parts.append(text[start:])
    return parts


def _longest(fits: Callable[[int], bool], lo: int, hi: int, step: int) -> int:
    """The largest k in [lo, hi] with fits(k), lo taken as given: gallop up from lo (step,
    doubling) until a probe fails, then bisect. Probes are never longer than twice the answer,
    so cutting a whole text this way costs time linear in its length (times a log), where
    bisecting over the rest of the text made a long run without spaces quadratic."""
    good, probe = lo, min(hi, lo + step)
    while probe > good and fits(probe):
        good = probe
        step *= 2
        probe = min(hi, lo + step)
    bad = probe if probe > good else good
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return good


def _split_chars(text: str, count: TokenCounter, budget: int) -> list[str]:
    pieces, start = [], 0
    while start < len(text):
        # At least one character per piece; a first guess of one character per token.
        # _longest runs the test only before it returns, so it sees this iteration's `start`.
        end = _longest(lambda k: count(text[start:k].strip()) <= budget, start + 1, len(text), budget)  # noqa: B023
        pieces.append(text[start:end])
        start = end
    return pieces


_LEVELS = (_CLAUSE_END, _WORD_END)


def fit_budget(sentence: str, count: TokenCounter, budget: int, level: int = 0) -> list[str]:
    """Cut a sentence into pieces of at most `budget` tokens each: at clause punctuation
    first, then between words, then between characters. Pieces are packed greedily so
    that as few cuts as possible are made."""
    if budget < MIN_BUDGET:
        raise ValueError(f"input budget {budget} is below the minimum of {MIN_BUDGET} tokens")
    if count(sentence.strip()) <= budget:
        return [sentence]
    while level < len(_LEVELS):
        parts = _split_after(sentence, _LEVELS[level])
        level += 1
        if len(parts) > 1:
            return _pack(parts, count, budget, level)
    return _split_chars(sentence, count, budget)


def _pack(parts: list[str], count: TokenCounter, budget: int, level: int) -> list[str]:
    text = "".join(parts)
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    pieces: list[str] = []
    i = 0
    while i < len(parts):
        first = offsets[i]
        if count(parts[i].strip()) > budget:  # one part alone is too long: cut it finer
            pieces.extend(fit_budget(parts[i], count, budget, level))
            i += 1
            continue
        # As in _split_chars, the test runs only inside this call, with this iteration's `first`.
        k = _longest(lambda k: count(text[first : offsets[k]].strip()) <= budget, i + 1, len(parts), 1)  # noqa: B023
        pieces.append(text[first : offsets[k]])
        i = k
    # Whitespace left alone by a cut rides with the piece before it.
    out: list[str] = []
    for piece in pieces:
        if out and not piece.strip():
            out[-1] += piece
        else:
            out.append(piece)
    return out


def segment(paragraph: str, count: TokenCounter, budget: int) -> list[Piece]:
    """Sentences of a paragraph, each cut further where it exceeds the budget."""
    pieces: list[Piece] = []
    for sentence in split_sentences(paragraph):
        fitted = fit_budget(sentence, count, budget)
        pieces.extend(Piece(text, split=len(fitted) > 1) for text in fitted)
    return pieces
