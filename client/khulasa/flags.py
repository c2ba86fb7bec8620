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
    segment: int = -1  # its sentence's place in the paragraph's segments

    @property
    def explanation(self) -> str:
        return explain(self.kind, self.value)

    @property
    def severity(self) -> str:
        return severity(self.kind)


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
    "direction": "“{value}”: the Arabic says the opposite here (a fall, not a rise; undermining, not support; scarcity, "
    "not plenty, or the other way round): the English may say the opposite",
    "saying": "the Arabic says the speaker {value}; the English does not: check who said what",
    "number": "number “{value}” of the Arabic is not in the English as written (another value, scale or day)",
    "low_confidence": "the model was unsure of this sentence: check it against the Arabic",
    "unsupported": "“{value}” in the summary is not in the paragraphs it cites",
    "flagged_paragraph": "a paragraph this summary sentence draws on is flagged or unsure: check it there",
}
# Informational notes, not flags: nothing is missing.
NOTES = {
    "split_long_sentence": "a very long sentence was cut into pieces to fit the model and joined back; nothing was left out",
}


# How much each kind matters to a reader, for the header that counts flags: "high" where a fact
# of the English may be wrong or missing, "medium" where a reader should look, "low" for hints.
# A kind not listed here counts as DEFAULT_SEVERITY, so a new warning is shown and counted as it comes.
SEVERITIES = ("high", "medium", "low")
DEFAULT_SEVERITY = "medium"
SEVERITY = {
    "missing_number": "high",
    "missing_name": "high",
    "added_name": "high",
    "changed_role": "high",
    "repetition_cut": "high",
    "output_length_limit": "high",
    "empty_output": "high",
    "untranslated_arabic": "high",
    "unsupported": "high",
    "negation": "high",  # the English may say the opposite of the Arabic
    "direction": "high",  # the English may say the opposite of the Arabic
    "saying": "high",  # a denial or warning reported as a plain statement changes who said what
    "number": "high",
    "unverified_name": "medium",
    "missing_term": "medium",
    "low_confidence": "medium",  # a measured signal (docs/quality.md), not a found error
    "flagged_paragraph": "medium",  # the summary may carry its paragraph's error; the flag is there
}


def severity(kind: str) -> str:
    return SEVERITY.get(kind, DEFAULT_SEVERITY)


def label(kind: str) -> str:
    """A kind as a header names it: "missing number"."""
    return kind.replace("_", " ")


def explain(kind: str, value: str) -> str:
    template = EXPLANATIONS.get(kind) or NOTES.get(kind)
    if template is None:
        return f"{kind}: {value}" if value else kind
    return template.replace("{value}", value)


def _segment_flags(segment: pb.Segment, paragraph: int, place: int = -1) -> list[Flag]:
    flags = []
    for warning in segment.warnings:
        kind, _, value = warning.partition(":")
        if kind in NOTES:
            continue
        if kind == "missing_number":
            value = as_written(value, segment.source)
        flags.append(Flag(paragraph, kind, value, segment.source, place))
    return flags


def of(message: Message) -> list[Flag]:
    """The flags of a DigestResponse or TranslateResponse, in text order."""
    if isinstance(message, pb.DigestResponse):
        return [f for p in message.paragraphs for k, s in enumerate(p.segments) for f in _segment_flags(s, p.index, k)]
    if isinstance(message, pb.TranslateResponse):
        found = []
        for t in message.translations:
            places: dict[int, int] = {}
            for s in t.segments:
                place = places[s.paragraph] = places.get(s.paragraph, -1) + 1
                found += _segment_flags(s, s.paragraph, place)
        return found
    return []


def of_summary(sentence: pb.SummarySentence) -> list[Flag]:
    """The flags of a summary sentence ("unsupported:SPAN"); paragraph -1: the summary's own."""
    flags = []
    for warning in sentence.warnings:
        kind, _, value = warning.partition(":")
        if kind not in NOTES:
            flags.append(Flag(-1, kind, value, sentence.text))
    return flags


def tally(flags: list[Flag]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(severity, [(kind, count), ...]) from the most to the least severe, kinds by count: the
    header's groups. Severities and kinds come from this file, so a new kind needs no code."""
    by: dict[str, dict[str, int]] = {}
    for flag in flags:
        kinds = by.setdefault(flag.severity, {})
        kinds[flag.kind] = kinds.get(flag.kind, 0) + 1
    order = list(SEVERITIES) + sorted(set(by) - set(SEVERITIES))
    return [(level, sorted(by[level].items(), key=lambda kv: (-kv[1], kv[0]))) for level in order if level in by]


def summary_line(flags: list[Flag]) -> str:
    """ "7 flags to check: high 5 (3 missing number, 2 missing name); low 2 (2 low confidence)"."""
    groups = "; ".join(
        f"{level} {sum(n for _, n in kinds)} ({', '.join(f'{n} {label(kind)}' for kind, n in kinds)})"
        for level, kinds in tally(flags)
    )
    return f"{count(flags)}: {groups}" if flags else count(flags)


def grouped(flags: list[Flag], by_segment: bool = False) -> list[tuple[Flag, int]]:
    """Flags with the same paragraph and explanation (a loop cut in two sentences) as one row,
    with how many there are, in text order; by_segment: rows of one sentence each."""
    rows: dict[tuple[int, int, str], list[Flag]] = {}
    for flag in flags:
        rows.setdefault((flag.paragraph, flag.segment if by_segment else 0, flag.explanation), []).append(flag)
    return [(same[0], len(same)) for same in rows.values()]


def times(n: int) -> str:
    return f" (×{n})" if n > 1 else ""


def count(flags: list[Flag]) -> str:
    return f"{len(flags)} flag{'s' if len(flags) != 1 else ''} to check"
