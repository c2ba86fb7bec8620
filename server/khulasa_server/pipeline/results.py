"""Plain result records of the pipeline; the gRPC layer copies them into messages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def elapsed_ms(start: float) -> float:
    """Milliseconds since start (a time.perf_counter() reading), for Timings."""
    return (time.perf_counter() - start) * 1000.0


@dataclass
class Segment:
    source: str
    translation: str
    score: float
    paragraph: int
    warnings: list[str] = field(default_factory=list)
    confidence: float = 1.0  # 1: no model was called (text passed through)
    unsure: list[tuple[int, int, float]] = field(default_factory=list)  # (start, end, log-prob) in translation


@dataclass
class ParagraphResult:
    index: int
    source: str
    translation: str
    segments: list[Segment]
    separator: str = "\n"  # what followed the paragraph in the source


@dataclass
class TranslationResult:
    text: str
    detected_language: str
    segments: list[Segment]


@dataclass
class SummarySentence:
    text: str
    paragraphs: list[int]
    warnings: list[str] = field(default_factory=list)  # "unsupported:SPAN" (pipeline/support.py)


@dataclass
class SummaryResult:
    text: str
    sentences: list[SummarySentence]
    detected_language: str = ""


@dataclass
class Timings:
    total_ms: float = 0.0
    translate_ms: float = 0.0
    summarize_ms: float = 0.0
    source_tokens: int = 0
    target_tokens: int = 0
    # Spent checking outputs (names, numbers, meaning, confidence, the summary's citations and
    # support), within total_ms: what the checks cost a request.
    checks_ms: float = 0.0


@dataclass
class Done:
    detected_language: str
    timings: Timings


@dataclass
class DigestResult:
    translation: str
    summary: SummaryResult
    paragraphs: list[ParagraphResult]
    detected_language: str
    timings: Timings
