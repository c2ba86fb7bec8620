"""Responses rendered as text, json, jsonl, markdown or a self-contained bilingual HTML page.
JSON is protobuf's JSON mapping (as /v1 and grpcurl give it). Faithfulness flags (flags.py) are
shown in text, markdown and HTML where the reader looks: a short header counting them by
severity and kind (collapsible in HTML), each flag beside its sentence (⚑n), and the words the
model was least sure of marked (⟦ ⟧ in text and Markdown, <mark> in HTML). Paragraphs are
numbered from 1, as people count them."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from google.protobuf import json_format
from google.protobuf.message import Message
from khulasa import flags as flags_mod
from khulasa.flags import Flag
from khulasa.v1 import khulasa_pb2 as pb

FORMATS = ("text", "json", "jsonl", "markdown", "html")
EXTENSIONS = {"text": ".txt", "json": ".json", "jsonl": ".jsonl", "markdown": ".md", "html": ".html"}
# Around the English words the model was least sure of (Segment.unsure), in text and Markdown:
# plain characters, so the marks survive a copy into an editor or a mail.
UNSURE = ("⟦", "⟧")
FLAG = "⚑"


def as_dict(message: Message, snake: bool = False) -> dict:
    """protobuf's JSON mapping (lowerCamelCase keys, as grpcurl and /v1 give); snake: the proto's
    own field names, the CLI's keys before 0.2 (--json-keys snake)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=snake, always_print_fields_with_no_presence=True)


def record(message: Message, id: str = "", snake: bool = False) -> dict:
    """The JSON object of a response; `translation` and `summary` are top-level keys."""
    data = as_dict(message, snake)
    if isinstance(message, pb.TranslateResponse):
        first = message.translations[0] if message.translations else pb.Translation()
        language = "detected_language" if snake else "detectedLanguage"
        data = {"translation": first.text, language: first.detected_language, **data}
    if id and not data.get("id"):
        data["id"] = id
    return data


def _refs(sentence) -> str:
    return ", ".join(f"¶{i + 1}" for i in sentence.paragraphs)


def _marked(segment: pb.Segment, before: str | Callable[[pb.Span], str], after: str, escape=lambda t: t) -> str:
    """A segment's English with its unsure spans wrapped (spans in code points, as Python indexes)."""
    text, out, at = segment.translation, [], 0
    for span in sorted(segment.unsure, key=lambda s: s.start):
        start, end = max(span.start, at), min(span.end, len(text))
        if start >= end:
            continue
        out += [escape(text[at:start]), before(span) if callable(before) else before, escape(text[start:end]), after]
        at = end
    return "".join(out) + escape(text[at:])


def _english(p: pb.Paragraph, own: list[Flag], sentence, escape=lambda t: t) -> str:
    """A paragraph's English, each flagged sentence followed by its mark, unsure words marked:
    `sentence(k, segment)` gives a sentence's final form. Each segment is found in the
    paragraph's English, so nothing between them is lost; the marks of a flagged one not found
    there go at the end. "" when there is nothing to mark."""
    if not p.segments or not (own or any(s.unsure for s in p.segments)):
        return ""
    text, out, at, unplaced = p.translation, [], 0, []
    for k, s in enumerate(p.segments):
        found = text.find(s.translation, at) if s.translation else -1
        if found < 0:
            if any(f.segment == k for f in own):
                unplaced.append(sentence(k, pb.Segment()))
            continue
        out += [escape(text[at:found]), sentence(k, s)]
        at = found + len(s.translation)
    out.append(escape(text[at:]))
    return "".join(out).strip() + "".join(f" {mark}" for mark in unplaced)


def _digest_flags(message: pb.DigestResponse) -> list[Flag]:
    return flags_mod.of(message) + [f for s in message.summary_sentences for f in flags_mod.of_summary(s)]


def _legend(flags: list[Flag], unsure: bool, mark: str) -> list[str]:
    lines = [f"{FLAG} {flags_mod.summary_line(flags)}"] if flags else []
    if unsure:
        lines.append(f"{mark} marks the words the model was least sure of")
    return lines


def _has_unsure(paragraphs) -> bool:
    return any(s.unsure for p in paragraphs for s in p.segments)


def _paragraphs_text(message: pb.DigestResponse | pb.TranslateResponse) -> list[pb.Paragraph]:
    if isinstance(message, pb.DigestResponse):
        return list(message.paragraphs)
    return [p for t in message.translations for p in _translation_paragraphs(t)]


def _translation_paragraphs(t: pb.Translation) -> list[pb.Paragraph]:
    """A translation's segments as paragraphs: the response has no paragraphs of its own."""
    grouped: dict[int, pb.Paragraph] = {}
    for s in t.segments:
        p = grouped.setdefault(s.paragraph, pb.Paragraph(index=s.paragraph))
        p.segments.append(s)
    for p in grouped.values():
        p.source = " ".join(s.source for s in p.segments)
        p.translation = " ".join(s.translation for s in p.segments if s.translation)
    return [grouped[i] for i in sorted(grouped)]


def text_paragraph(p: pb.Paragraph, flags: list[Flag]) -> str:
    """`¶N English`, a flagged sentence followed by ⚑n, and under it the flags, numbered."""
    own = [f for f in flags if f.paragraph == p.index]
    numbers = {k: n for n, k in enumerate(dict.fromkeys(f.segment for f in own), 1)}

    def sentence(k: int, s: pb.Segment) -> str:
        text = _marked(s, *UNSURE)
        return f"{text} {FLAG}{numbers[k]}".strip() if k in numbers else text

    english = _english(p, own, sentence) or p.translation.strip()
    lines = [f"¶{p.index + 1}  {english}"]
    for f, n in flags_mod.grouped(own, by_segment=True):
        lines.append(f"    {FLAG}{numbers.get(f.segment, '')} {f.explanation}{flags_mod.times(n)}")
    return "\n".join(lines) + "\n"


def _summary_lines(sentences, bullet: str, refs) -> list[str]:
    lines = []
    for s in sentences:
        own = flags_mod.of_summary(s)
        mark = "".join(f" {FLAG} {f.explanation}" for f in own)
        lines.append(f"{bullet}{s.text}" + (refs(s) if s.paragraphs else "") + mark)
    return lines


def text_summary(message: pb.DigestResponse) -> str:
    """The summary and the flags' header: what text output opens with."""
    lines = ["Summary", "=======", ""]
    lines += _summary_lines(message.summary_sentences, "- ", lambda s: f"  [{_refs(s)}]")
    legend = _legend(_digest_flags(message), _has_unsure(message.paragraphs), "⟦ ⟧")
    return "\n".join([*lines, "", *legend, *([""] if legend else [])]) + "\n"


def _text(message: Message) -> str:
    if isinstance(message, pb.DigestResponse):
        flags = flags_mod.of(message)
        body = "\n".join(text_paragraph(p, flags) for p in message.paragraphs)
        return text_summary(message) + "Translation\n===========\n\n" + body
    if isinstance(message, pb.TranslateResponse):
        flags = flags_mod.of(message)
        paragraphs = _paragraphs_text(message)
        if not flags and not _has_unsure(paragraphs):  # a plain translation stays plain text
            return "\n\n".join(t.text.rstrip("\n") for t in message.translations) + "\n"
        legend = _legend(flags, _has_unsure(paragraphs), "⟦ ⟧")
        return "\n".join([*legend, ""]) + "\n" + "\n".join(text_paragraph(p, flags) for p in paragraphs)
    assert isinstance(message, pb.SummarizeResponse)
    return message.summary + "\n"


def _markdown(message: Message, title: str) -> str:
    lines = [f"# {title}", ""]
    if isinstance(message, pb.SummarizeResponse):
        return "\n".join([*lines, message.summary]).rstrip() + "\n"
    assert isinstance(message, pb.DigestResponse | pb.TranslateResponse)
    paragraphs = _paragraphs_text(message)
    flags = flags_mod.of(message)
    everything = _digest_flags(message) if isinstance(message, pb.DigestResponse) else flags
    legend = _legend(everything, _has_unsure(paragraphs), "⟦ ⟧")
    lines += [f"> {line}  " for line in legend] + ([""] if legend else [])
    if isinstance(message, pb.DigestResponse):
        lines += ["## Summary", ""]
        lines += _summary_lines(message.summary_sentences, "- ", lambda s: f" ({_refs(s)})")
        lines += ["", "## Translation", ""]
    for p in paragraphs:
        own = [f for f in flags if f.paragraph == p.index]
        numbers = {k: n for n, k in enumerate(dict.fromkeys(f.segment for f in own), 1)}

        def sentence(k: int, s: pb.Segment, numbers=numbers) -> str:
            text = _marked(s, *UNSURE)
            return text + (f" **{FLAG}{numbers[k]}**" if k in numbers else "")

        english = _english(p, own, sentence) or p.translation.strip()
        lines += [f"**¶{p.index + 1}** {english}", "", f"> {p.source}", ""]
        rows = [
            f"{FLAG}{numbers.get(f.segment, '')} *{f.explanation}*{flags_mod.times(n)}  "
            for f, n in flags_mod.grouped(own, by_segment=True)
        ]
        lines += rows + ([""] if rows else [])
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.55; color: #1d1d1f; background: #fff; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #666; font-size: .85rem; }
.summary { background: #f4f6f8; border-radius: 6px; padding: .75rem 1rem .75rem 2rem; }
.refs a, .check a { color: #0b5cad; text-decoration: none; font-size: .85rem; white-space: nowrap; }
.check { background: #fff4e5; border-left: 4px solid #d9822b; border-radius: 6px; padding: .5rem 1rem; }
.check summary, .flags summary { cursor: pointer; color: #8a4b08; font-weight: 600; }
.check strong { color: #8a4b08; }
.check ul { margin: .25rem 0; padding-left: 1.25rem; }
.hint { color: #666; font-size: .85rem; margin: .25rem 0; }
mark.unsure { background: #fff0a8; text-decoration: underline dotted #8a4b08; }
.seg.flagged { text-decoration: underline wavy #d9822b; text-underline-offset: 3px; }
.flag-mark { color: #8a4b08; text-decoration: none; font-size: .85rem; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .25rem 2rem; padding: .75rem 0;
        border-top: 1px solid #e3e3e3; }
.pair.flagged { border-left: 4px solid #d9822b; padding-left: .75rem; padding-right: .5rem; background: #fffaf3; }
.pair:target { background: #fff8d6; }
.pair .flags { grid-column: 1 / -1; margin: .25rem 0 0; color: #8a4b08; font-size: .9rem; }
.pair .flags ul { margin: .25rem 0; padding: 0; list-style: none; }
.num { color: #999; font-size: .8rem; }
.ar { font-family: "DejaVu Sans", "Noto Naskh Arabic", "Amiri", serif; font-size: 1.1rem; text-align: right; }
@media (max-width: 40rem) {
  body { margin: 1rem auto; padding: 0 .75rem; }
  .pair { grid-template-columns: minmax(0, 1fr); gap: .5rem; }
}
"""


def _unsure_title(span: pb.Span) -> str:
    return f'<mark class="unsure" title="the model was least sure of these words (log-probability {span.log_prob:.2f})">'


def _pair(p: pb.Paragraph, own: list[Flag], rtl: bool) -> str:
    e = html.escape
    n = p.index + 1
    side = 'lang="ar" dir="rtl"' if rtl else 'dir="auto"'
    numbers = {k: i for i, k in enumerate(dict.fromkeys(f.segment for f in own), 1)}

    def sentence(k: int, s: pb.Segment) -> str:
        text = _marked(s, _unsure_title, "</mark>", e)
        if k not in numbers:
            return text
        said = e("; ".join(f.explanation for f in own if f.segment == k))
        return (
            f'<span class="seg flagged" title="{said}">{text}</span>'
            f'<a class="flag-mark" href="#p{n}-f{numbers[k]}"><sup>{FLAG}{numbers[k]}</sup></a>'
        )

    english = _english(p, own, sentence, e) or e(p.translation)
    items = "".join(
        f'<li id="p{n}-f{numbers.get(f.segment, 0)}" class="{e(f.severity)}" title="{e(f.source)}">'
        f"{FLAG}{numbers.get(f.segment, '')} {_explained(f)}{flags_mod.times(c)}</li>"
        for f, c in flags_mod.grouped(own, by_segment=True)
    )
    notes = f'<details class="flags" open><summary>{flags_mod.count(own)}</summary><ul>{items}</ul></details>\n' if own else ""
    return (
        f'<section class="pair{" flagged" if own else ""}" id="p{n}">\n'
        f'<div class="en" lang="en" dir="ltr"><span class="num">¶{n}</span> <bdi>{english}</bdi></div>\n'
        f'<div class="ar" {side}>{e(p.source)}</div>\n{notes}</section>\n'
    )


def _explained(flag: Flag) -> str:
    """The explanation with the source's own words isolated, so Arabic inside English keeps its order."""
    text = html.escape(flag.explanation)
    if flag.value:
        value = html.escape(flag.value)
        text = text.replace(value, f"<bdi>{value}</bdi>", 1)
    return text


def _check_html(flags: list[Flag], unsure: bool) -> str:
    """The header: flags counted by severity and kind, collapsible; each flag is in place below."""
    if not flags and not unsure:
        return ""
    rows = "".join(
        f'<li class="{html.escape(level)}"><strong>{html.escape(level)} {sum(n for _, n in kinds)}</strong>: '
        + ", ".join(f"{n} {html.escape(flags_mod.label(kind))}" for kind, n in kinds)
        + "</li>\n"
        for level, kinds in flags_mod.tally(flags)
    )
    hint = '<p class="hint"><mark class="unsure">marked words</mark>: the model was least sure of them.</p>\n' if unsure else ""
    return (
        f'<details class="check" id="check" open><summary>{FLAG} {flags_mod.count(flags)}</summary>\n'
        f'<ul>\n{rows}</ul>\n{hint}<p class="hint">Each flag is beside its sentence ({FLAG}), below.</p>\n</details>\n'
    )


def _html(message: Message, title: str) -> str:
    e = html.escape
    parts = [
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1 dir="auto">{e(title)}</h1>\n'
    ]
    if isinstance(message, pb.SummarizeResponse):
        parts.append(f'<h2>Summary</h2>\n<p lang="en">{e(message.summary)}</p>\n</body>\n</html>\n')
        return "".join(parts)
    assert isinstance(message, pb.DigestResponse | pb.TranslateResponse)
    flags = flags_mod.of(message)
    paragraphs = _paragraphs_text(message)
    if isinstance(message, pb.DigestResponse):
        language = message.detected_language
        parts.append(f'<p class="meta">source language: {e(language)}</p>\n')
        parts.append(_check_html(_digest_flags(message), _has_unsure(paragraphs)))
        parts.append('<h2>Summary</h2>\n<ol class="summary">\n')
        for s in message.summary_sentences:
            # Each marker is isolated left-to-right: next to Arabic, "¶2" would otherwise show as "2¶".
            links = " ".join(f'<a href="#p{i + 1}"><bdi dir="ltr">¶{i + 1}</bdi></a>' for i in s.paragraphs)
            own = flags_mod.of_summary(s)
            said = "".join(f' <span class="flag-mark {e(f.severity)}">{FLAG} {_explained(f)}</span>' for f in own)
            parts.append(f'<li><bdi>{e(s.text)}</bdi> <span class="refs" dir="ltr">{links}</span>{said}</li>\n')
        parts.append("</ol>\n<h2>Translation</h2>\n")
    else:
        language = message.translations[0].detected_language if message.translations else ""
        parts.append(f'<p class="meta">source language: {e(language)}</p>\n')
        parts.append(_check_html(flags, _has_unsure(paragraphs)))
    for p in paragraphs:
        parts.append(_pair(p, [f for f in flags if f.paragraph == p.index], language != "en"))
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def render(message: Message, fmt: str, id: str = "", title: str = "", snake: bool = False) -> str:
    """title: the document's heading (an HTML or Word file's headline), else the id."""
    if fmt == "json":
        return json.dumps(record(message, id, snake), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return json.dumps(record(message, id, snake), ensure_ascii=False) + "\n"
    heading = title or id or "khulasa"
    if fmt == "markdown":
        return _markdown(message, heading)
    if fmt == "html":
        return _html(message, heading)
    return _text(message)
