"""Which paragraphs a summary sentence draws on: content-word overlap with each paragraph of
the English translation. Cheap, deterministic, and good enough to point a reader at the source.

Every sentence gets at least one paragraph, so a reader can always check it: when no content
word is shared (a summary that paraphrases, or a model that writes nonsense), the paragraph
sharing the most letter trigrams is its best match, and the first paragraph (news leads with
its point) when nothing at all is shared."""

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


def content_share(text: str, reference: str) -> float | None:
    """The share of the reference's content words that `text` holds; None when it has none."""
    wanted = content_words(reference)
    return len(wanted & content_words(text)) / len(wanted) if wanted else None


def _trigrams(text: str) -> set[str]:
    letters = " ".join(m.group().lower() for m in _WORD.finditer(text))
    return {letters[i : i + 3] for i in range(len(letters) - 2)}


def _ranked(scores: list[tuple[float, int]], limit: int) -> list[int]:
    best = max((s for s, _ in scores), default=0.0)
    if best == 0.0:
        return []
    ranked = sorted((pair for pair in scores if pair[0] >= best / 2), key=lambda pair: (-pair[0], pair[1]))
    return [i for _, i in ranked[:limit]]


def attribute(sentence: str, paragraphs: list[str], limit: int = 3) -> list[int]:
    """Indexes of the paragraphs that share the most content words with the sentence, best
    first; a paragraph must score at least half the best to be listed. Never empty while a
    paragraph has text (see the module's docstring for the fallbacks)."""
    words = content_words(sentence)
    if words:
        found = _ranked([(len(words & content_words(p)) / len(words), i) for i, p in enumerate(paragraphs)], limit)
        if found:
            return found
    grams = _trigrams(sentence)
    if grams:
        found = _ranked([(len(grams & _trigrams(p)) / len(grams), i) for i, p in enumerate(paragraphs)], 1)
        if found:
            return found
    return next(([i] for i, p in enumerate(paragraphs) if p.strip()), [])
