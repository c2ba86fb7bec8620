"""Names written into the source before translation: each name the checks know (a gazetteer
place, institution or nationality word with one English form; a person or organization the
finder sees, in a spelling the romanizer's index or data/foreign_names.tsv attests) is replaced in
the Arabic by its English form, which a model copies more reliably than it translates an Arabic
name. A name with no attested spelling stays in Arabic: the model's own rendering of it beats a
guessed one it would copy. The checks still run against the source as
sent, so a name the model drops or changes is flagged as before."""

from __future__ import annotations

from khulasa_server.pipeline.names import Names
from khulasa_server.pipeline.names.usual import attested

WHICH = ("places", "all")  # gazetteer names only, or people and organizations too


def english_in_source(text: str, names: Names, which: str = "all") -> str:
    """The text with its names in English (an ambiguous form, عمان: Oman or Amman, is left as
    it is). A clitic before a name stays, set apart by a space: وبالقاهرة → وب Cairo."""
    spans = [(h.start, h.end, h.english[0]) for h in names.places if not h.ambiguous]
    if which == "all":
        people = ((c, attested(c.text)) for c in names.others)
        spans += [(c.start, c.end, english) for c, english in people if english]
    out, at = [], 0
    for start, end, english in sorted(spans):
        if start < at:
            continue  # overlapping spans: the first wins
        out.append(text[at:start])
        if start and text[start - 1].isalpha():
            out.append(" ")
        out.append(english)
        at = end
    out.append(text[at:])
    return "".join(out)
