"""Faithfulness flags for readers: each segment warning of a response, with the paragraph it is
in and a sentence saying what to check. `split_long_sentence` is not a flag (the text was cut
to fit the model and joined back; nothing is missing); an unknown warning is shown as it is."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message
from khulasa.v1 import khulasa_pb2 as pb

_ARABIC_INDIC = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩٫٬")
_EASTERN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class Flag:
    paragraph: int  # 0-based index in its text
    kind: str  # missing_number, missing_name, ...
    value: str  # what is missing, as written in the source ("" for kinds without one)
    source: str  # the source sentence it concerns

    @property
    def explanation(self) -> str:
        return explain(self.kind, self.value)


def as_written(number: str, source: str) -> str:
    """A number as the source wrote it: flags carry ASCII digits ("12"), the article may say "١٢"."""
    for form in (number, number.translate(_ARABIC_INDIC), number.translate(_EASTERN)):
        if form in source:
            return form
    return number


# What each warning asks the reader to check, "{value}" standing for what is missing. The CLI's
# pages and the server's reading page (GET /flags.json) both say it in these words.
EXPLANATIONS = {
    "missing_number": "number {value} not found in the English",
    "missing_name": "name “{value}” not found in the English",
    "unverified_name": "name “{value}” of the Arabic not found in the English in any spelling",
    "added_name": "“{value}” is named in the English but not in the Arabic: check who or what the source names",
    "changed_role": "the English gives the title “{value}” but the Arabic does not give this person that role",
    "missing_term": "glossary term “{value}” not translated as the glossary requires",
    "repetition_cut": "the model repeated itself and the loop was cut: check that nothing is missing",
    "output_length_limit": "the English stopped at its length limit: the end of the sentence may be missing",
    "empty_output": "no English came back for this sentence",
    "untranslated_arabic": "Arabic returned untranslated (the request asked for English or the paragraph "
    "was not detected as Arabic)",
    "negation": "“{value}”: the English and the Arabic differ in negation here; the English may say the opposite",
    "saying": "the Arabic says the speaker {value}; the English does not: check who said what",
    "number": "number “{value}” of the Arabic is not in the English as written (another value, scale or day)",
    "low_confidence": "the model was unsure of this sentence: check it against the Arabic",
    "unsupported": "“{value}” in the summary is not in the paragraphs it cites",
}
# Informational notes, not flags: nothing is missing.
NOTES = {
    "split_long_sentence": "a very long sentence was cut into pieces to fit the model and joined back; nothing was left out",
}


def explain(kind: str, value: str) -> str:
    template = EXPLANATIONS.get(kind) or NOTES.get(kind)
    if template is None:
        return f"{kind}: {value}" if value else kind
    return template.replace("{value}", value)


def _segment_flags(segment: pb.Segment, paragraph: int) -> list[Flag]:
    flags = []
    for warning in segment.warnings:
        kind, _, value = warning.partition(":")
        if kind in NOTES:
            continue
        if kind == "missing_number":
            value = as_written(value, segment.source)
        flags.append(Flag(paragraph, kind, value, segment.source))
    return flags


def of(message: Message) -> list[Flag]:
    """The flags of a DigestResponse or TranslateResponse, in text order."""
    if isinstance(message, pb.DigestResponse):
        return [f for p in message.paragraphs for s in p.segments for f in _segment_flags(s, p.index)]
    if isinstance(message, pb.TranslateResponse):
        return [f for t in message.translations for s in t.segments for f in _segment_flags(s, s.paragraph)]
    return []


def grouped(flags: list[Flag]) -> list[tuple[Flag, int]]:
    """Flags with the same paragraph and explanation (a loop cut in two sentences) as one row,
    with how many there are, in text order."""
    rows: dict[tuple[int, str], list[Flag]] = {}
    for flag in flags:
        rows.setdefault((flag.paragraph, flag.explanation), []).append(flag)
    return [(same[0], len(same)) for same in rows.values()]


def times(n: int) -> str:
    return f" (×{n})" if n > 1 else ""


def count(flags: list[Flag]) -> str:
    return f"{len(flags)} flag{'s' if len(flags) != 1 else ''} to check"
