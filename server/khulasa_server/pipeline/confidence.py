"""How sure the model was of a segment, from its own per-token log-probabilities (kept during
decoding by the engines' step callback: no second pass).

confidence: a logistic model over the tokens' mean and lowest log-probability and the share of
tokens below UNSURE_LOG_PROB, fitted on hand-labelled outputs of the default model
(`khulasa-models flags --fit`, docs/quality.md): the estimated probability that the segment holds
no major error. unsure: the words whose tokens were least likely, merged into spans."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# A token below this log-probability (p < 0.14) marks its word unsure. On the labelled first
# decodings, the lowest token inside an invented name or a major meaning error is below it far
# more often than other tokens are (docs/quality.md).
UNSURE_LOG_PROB = -2.0
MAX_UNSURE = 4  # spans per segment: the lowest ones; a reader checks a few words, not every one
# Fitted by `khulasa-models flags --fit` (logistic regression, labelled first decodings of the
# default model): intercept and weights of mean, min and share below UNSURE_LOG_PROB.
COEFFICIENTS = (1.011, 1.667, 0.619, -0.152)
# The bundle's threshold when its manifest sets none (schema.ModelEntry.low_confidence): chosen
# on the three tuned sets, where below it low_confidence alone finds 77 % of the sentences with a
# major error at 86 % precision (docs/quality.md, "How sure the model was").
LOW_CONFIDENCE = 0.3

_WORD = re.compile(r"[\w'’-]+")

TokenLogProbs = Sequence[tuple[int, int, float]]


def features(log_probs: Sequence[float]) -> tuple[float, float, float]:
    """(mean, lowest, share below UNSURE_LOG_PROB) of the tokens' log-probabilities."""
    if not log_probs:
        return 0.0, 0.0, 0.0
    low = sum(1 for x in log_probs if x < UNSURE_LOG_PROB)
    return sum(log_probs) / len(log_probs), min(log_probs), low / len(log_probs)


def score(mean: float, lowest: float, share: float, coefficients: Sequence[float] = COEFFICIENTS) -> float:
    b, w_mean, w_min, w_share = coefficients
    z = b + w_mean * mean + w_min * max(lowest, -30.0) + w_share * share
    return 1.0 / (1.0 + math.exp(-z))


def of(tokens: TokenLogProbs, text: str, mean_log_prob: float) -> float:
    """The segment's confidence from the tokens that made `text` (those past a cut loop are
    not counted); from the mean log-probability alone where the engine gave no tokens."""
    kept = [lp for start, _, lp in tokens if start < len(text)]
    if not kept:
        return score(mean_log_prob, mean_log_prob, 0.0)
    return score(*features(kept))


def unsure(
    tokens: TokenLogProbs, text: str, limit: float = UNSURE_LOG_PROB, most: int = MAX_UNSURE
) -> list[tuple[int, int, float]]:
    """Spans (start, end, lowest log-probability) of the words of `text` holding a token below
    `limit`: a token widened to its whole word, neighbouring words joined (a name of two
    words is one span), the `most` lowest kept, in reading order."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    marked: dict[int, float] = {}
    for start, end, lp in tokens:
        if lp >= limit or start >= len(text):
            continue
        for k, (ws, we) in enumerate(words):
            if ws < max(end, start + 1) and start < we:
                marked[k] = min(lp, marked.get(k, 0.0))
    spans: list[list[float]] = []
    last = -2
    for k in sorted(marked):
        ws, we = words[k]
        if spans and k == last + 1 and not text[int(spans[-1][1]) : ws].strip():
            spans[-1][1] = we
            spans[-1][2] = min(spans[-1][2], marked[k])
        else:
            spans.append([ws, we, marked[k]])
        last = k
    lowest = sorted(spans, key=lambda s: s[2])[:most]
    return [(int(s), int(e), float(lp)) for s, e, lp in sorted(lowest)]
