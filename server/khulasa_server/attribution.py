"""Which paragraphs a summary sentence draws on: content-word overlap with each paragraph of
the English translation. Cheap, deterministic, and good enough to point a reader at the source."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
_STOP = frozenset(
    "a an the of and or to in on at by for from with as is are was were be been has have had "
    "it its this that these those he she they his her their we our you your i not no but if "
    "than then so such into over after before about also will would can could said says".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOP and len(w) > 1}


def attribute(sentence: str, paragraphs: list[str], limit: int = 3) -> list[int]:
    """Indexes of the paragraphs that share the most content words with the sentence, best
    first; a paragraph must score at least half the best to be listed. Empty when no
    paragraph shares a word."""
    words = content_words(sentence)
    if not words:
        return []
    scores = [(len(words & content_words(p)) / len(words), i) for i, p in enumerate(paragraphs)]
    best = max((s for s, _ in scores), default=0.0)
    if best == 0.0:
        return []
    ranked = sorted((pair for pair in scores if pair[0] >= best / 2), key=lambda pair: (-pair[0], pair[1]))
    return [i for _, i in ranked[:limit]]
