"""Names written into the source before translation: each name the checks know (a gazetteer
place, institution or nationality word with one English form; a person or organization the
finder sees, in a spelling the romanizer's index or data/foreign_names.tsv attests) is replaced in
the Arabic by its English form, which a model copies more reliably than it translates an Arabic
name. A name with no attested spelling stays in Arabic: the model's own rendering of it beats a
guessed one it would copy. The checks still run against the source as
sent, so a name the model drops or changes is flagged as before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from khulasa_server.pipeline.names import Names, arabic, in_article
from khulasa_server.pipeline.names.usual import attested

WHICH = ("places", "all")  # gazetteer names only, or people and organizations too


def surnames(found: Sequence[Names]) -> dict[str, str]:
    """An article's spelling of each surname: the last word of a person named in two words or
    more, as that name's attested spelling writes it, by the folded Arabic word. A newspaper
    spells a person one way throughout an article, and the full name is the better evidence:
    أنس جابر is Ons Jabeur, so a later جابر alone is Jabeur, not the corpus's Gaber for the
    given name جابر. A name whose words the spelling joins or splits (عبد الله → Abdullah)
    gives nothing, and a surname two people share with different spellings is left out."""
    out: dict[str, str | None] = {}
    for names in found:
        for candidate in names.others:
            words = candidate.text.split()
            english = attested(candidate.text) if len(words) > 1 else None
            if not english or len(english.split()) != len(words):
                continue
            last, spelled = arabic.fold(words[-1]), english.split()[-1]
            out[last] = spelled if out.get(last, spelled) == spelled else None
    return {word: spelled for word, spelled in out.items() if spelled}


def english_in_source(text: str, names: Names, which: str = "all", article: Mapping[str, str] | None = None) -> str:
    """The text with its names in English (an ambiguous form, عمان: Oman or Amman, is left as
    it is). A clitic before a name stays, set apart by a space: وبالقاهرة → وب Cairo. `article`
    (surnames() of the whole article) spells a surname named alone as its full name does."""
    spans = [(h.start, h.end, h.english[0]) for h in names.places if not h.ambiguous]
    if which == "all":
        spans += [(c.start, c.end, english) for c in names.others if (english := _person(c.text, article))]
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


def _person(name: str, article: Mapping[str, str] | None) -> str | None:
    return in_article(name, article) or attested(name)
