"""Is a summary sentence supported by the paragraphs it cites? A name, number or negation it
states that those paragraphs do not contain is `unsupported:SPAN`: a summarizer that invents
("without Donald Trump", a figure from nowhere) or carries a claim to the wrong paragraph is
caught, and the reader is sent to the words to check."""

from __future__ import annotations

import re

from khulasa_server.pipeline.meaning import english_negations
from khulasa_server.pipeline.numbers import english_values

# A capitalized run: a name, or the sentence's first word (checked too, unless it is a word any
# sentence may start with).
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|the|de|al|bin|for|and)?\s*[A-Z][\w'’.-]*)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\s*(?:thousand|million|billion))?", re.IGNORECASE)
_STARTERS = frozenset(
    "a an the in on at as after before but and or while this that these those it its he she they his her their "
    "there here meanwhile however also according following earlier later since when where who what which "
    "some many most more several both all each one two three four five six seven eight nine ten over under "
    "nearly about almost only".split()
)
_NEGATION_HEADS = {"n't": "not", "cannot": "not", "never": "never", "no": "no", "none": "no", "nobody": "no", "nothing": "no"}


def _head(negation: str) -> str:
    word = negation.split()[0].lower()
    if word.endswith("n't"):
        return "not"
    word = _NEGATION_HEADS.get(word, word)
    return re.sub(r"(?:ied|ies|ial|ying|y|ed|es|s|ing|e|al)$", "", word)  # denied/denies/denial → den


def unsupported(sentence: str, cited: list[str]) -> list[str]:
    """`unsupported:SPAN` for each name, number or negation of `sentence` that the cited
    paragraphs do not contain (names and numbers in any case or grouping, negations by their
    head word: "denied" is supported by "denial")."""
    text = " ".join(cited)
    lowered = text.lower()
    flags = []
    for m in _NAME.finditer(sentence):
        words = [re.sub(r"['’]s$", "", w) for w in re.split(r"\s+", m.group().strip(".")) if w]  # Egypt's
        opening = not sentence[: m.start()].strip() or sentence[: m.start()].rstrip()[-1] in '.!?:"“'
        if opening and words and words[0].lower() in _STARTERS:
            words = words[1:]
        words = [w for w in words if w.lower() not in ("of", "the", "de", "al", "bin", "for", "and")]
        missing = [w for w in words if w.lower().strip("'’") not in lowered]
        if missing:
            flags.append(f"unsupported:{' '.join(missing)}")
    have = english_values(text)
    for m in _NUMBER.finditer(sentence):
        values = english_values(m.group())
        if values and not values & have:
            flags.append(f"unsupported:{m.group()}")
    heads = {_head(n) for n in english_negations(text)}
    for negation in english_negations(sentence):
        if _head(negation) not in heads:
            flags.append(f"unsupported:{negation}")
    return list(dict.fromkeys(flags))


def cite_support(sentence: str, paragraphs: list[str], cited: list[int], most: int = 5) -> list[int]:
    """The citations completed with the paragraphs that support what the cited ones do not (a
    summary sentence that joins two paragraphs cites both), up to `most`, in article order
    after the first ones."""
    cited = list(cited)
    flags = unsupported(sentence, [paragraphs[i] for i in cited])
    for i in range(len(paragraphs)):
        if not flags or len(cited) >= most:
            break
        if i in cited:
            continue
        fewer = unsupported(sentence, [paragraphs[k] for k in [*cited, i]])
        if len(fewer) < len(flags):
            cited.append(i)
            flags = fewer
    return cited
