"""Extractive summary: no model, no hallucination. Picks whole sentences of the English by
position (news leads with its point) and centrality (sentences that share the most content
with the rest), skipping near-duplicates, and keeps them in article order."""

from __future__ import annotations

import math
from collections import Counter

from khulasa_server.pipeline.attribution import content_words
from khulasa_server.scope import checkpoint
from khulasa_server.text.segment import split_sentences

LEAD_WEIGHT = 0.5
REDUNDANT = 0.5  # cosine above which a candidate repeats a chosen sentence
MIN_WORDS = 5


def _vectors(bags: list[Counter]) -> list[dict[str, float]]:
    df = Counter(w for bag in bags for w in bag)
    n = len(bags)
    vectors = []
    for bag in bags:
        v = {w: c * math.log((1 + n) / (1 + df[w])) + c * 1e-3 for w, c in bag.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({w: x / norm for w, x in v.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items())


def summarize(paragraphs: list[str], max_sentences: int) -> list[tuple[str, int]]:
    """(sentence, paragraph index) pairs, at most max_sentences, in article order."""
    sentences = [(s.strip(), i) for i, p in enumerate(paragraphs) for s in split_sentences(p) if s.strip()]
    if not sentences:
        return []
    bags = [Counter(content_words(s)) for s, _ in sentences]
    vectors = _vectors(bags)
    n = len(sentences)
    similarity = []
    for i in range(n):  # n² comparisons: a long text of short sentences takes a while
        checkpoint()
        similarity.append([_cosine(vectors[i], vectors[j]) for j in range(n)])
    # A repeated sentence must not vote for its own copy.
    centrality = [
        sum(x for j, x in enumerate(row) if j != i and x <= REDUNDANT) / max(1, n - 1) for i, row in enumerate(similarity)
    ]
    top = max(centrality) or 1.0
    scores = [(1 - LEAD_WEIGHT) * centrality[i] / top + LEAD_WEIGHT * (1 - i / n) for i in range(n)]
    eligible = [i for i, (s, _) in enumerate(sentences) if len(s.split()) >= MIN_WORDS] or list(range(n))
    chosen: list[int] = []
    for i in sorted(eligible, key=lambda i: -scores[i]):
        if len(chosen) == max_sentences:
            break
        if all(similarity[i][j] <= REDUNDANT for j in chosen):
            chosen.append(i)
    return [sentences[i] for i in sorted(chosen)]
