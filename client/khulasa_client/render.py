"""Responses rendered as text, json, jsonl, markdown or a self-contained bilingual HTML page.
Faithfulness flags (flags.py) are shown in text, markdown and HTML: a count on top, and each
flag beside its paragraph saying what to check."""

from __future__ import annotations

import html
import json

from google.protobuf import json_format
from google.protobuf.message import Message
from khulasa import flags as flags_mod
from khulasa.flags import Flag
from khulasa.v1 import khulasa_pb2 as pb

FORMATS = ("text", "json", "jsonl", "markdown", "html")
EXTENSIONS = {"text": ".txt", "json": ".json", "jsonl": ".jsonl", "markdown": ".md", "html": ".html"}


def as_dict(message: Message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def record(message: Message, id: str = "") -> dict:
    """The JSON object of a response; `translation` and `summary` are top-level keys."""
    data = as_dict(message)
    if isinstance(message, pb.TranslateResponse):
        first = data["translations"][0] if data["translations"] else {}
        data = {"translation": first.get("text", ""), "detected_language": first.get("detected_language", ""), **data}
    if id and not data.get("id"):
        data["id"] = id
    return data


def _refs(sentence) -> str:
    return ", ".join(f"¶{i + 1}" for i in sentence.paragraphs)


def _check(flags: list[Flag], heading: str) -> list[str]:
    """The flags section that opens text and markdown output (nothing when there is no flag)."""
    if not flags:
        return []
    title = f"Check ({len(flags)} flag{'s' if len(flags) != 1 else ''})"
    head = [f"{heading} {title}"] if heading else [title, "=" * len(title)]
    return [*head, "", *(f"- ¶{f.paragraph + 1}: {f.explanation}{flags_mod.times(n)}" for f, n in flags_mod.grouped(flags)), ""]


def _text(message: Message) -> str:
    lines = []
    if isinstance(message, pb.DigestResponse):
        lines += ["Summary", "=======", ""]
        for s in message.summary_sentences:
            lines.append(f"- {s.text}" + (f"  [{_refs(s)}]" if s.paragraphs else ""))
        lines += ["", *_check(flags_mod.of(message), ""), "Translation", "===========", "", message.translation.rstrip("\n")]
        return "\n".join(lines) + "\n"
    if isinstance(message, pb.TranslateResponse):
        lines = _check(flags_mod.of(message), "")
        return "\n".join(lines) + ("\n" if lines else "") + "\n\n".join(t.text.rstrip("\n") for t in message.translations) + "\n"
    assert isinstance(message, pb.SummarizeResponse)
    return message.summary + "\n"


def _markdown(message: Message, title: str) -> str:
    flags = flags_mod.of(message)
    lines = [f"# {title}", ""]
    if isinstance(message, pb.DigestResponse):
        lines += ["## Summary", ""]
        lines += [f"- {s.text}" + (f" ({_refs(s)})" if s.paragraphs else "") for s in message.summary_sentences]
        lines += ["", *_check(flags, "##"), "## Translation", ""]
        for p in message.paragraphs:
            own = [f for f in flags if f.paragraph == p.index]
            lines += [f"**¶{p.index + 1}**{' ⚑' if own else ''} {p.translation}", "", f"> {p.source}", ""]
            lines += [f"⚑ *{f.explanation}*{flags_mod.times(n)}  " for f, n in flags_mod.grouped(own)] + ([""] if own else [])
    elif isinstance(message, pb.TranslateResponse):
        lines += [*_check(flags, "##"), *(t.text.strip() + "\n" for t in message.translations)]
    else:
        assert isinstance(message, pb.SummarizeResponse)
        lines += [message.summary]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.55; color: #1d1d1f; background: #fff; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #666; font-size: .85rem; }
.summary { background: #f4f6f8; border-radius: 6px; padding: .75rem 1rem .75rem 2rem; }
.refs a, .check a { color: #0b5cad; text-decoration: none; font-size: .85rem; white-space: nowrap; }
.check { background: #fff4e5; border-left: 4px solid #d9822b; border-radius: 6px; padding: .5rem 1rem; }
.check strong { color: #8a4b08; }
.check ul { margin: .25rem 0; padding-left: 1.25rem; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .25rem 2rem; padding: .75rem 0;
        border-top: 1px solid #e3e3e3; }
.pair.flagged { border-left: 4px solid #d9822b; padding-left: .75rem; padding-right: .5rem; background: #fffaf3; }
.pair:target { background: #fff8d6; }
.pair .flags { grid-column: 1 / -1; margin: .25rem 0 0; padding: 0; list-style: none; color: #8a4b08; font-size: .9rem; }
.num { color: #999; font-size: .8rem; }
.ar { font-family: "DejaVu Sans", "Noto Naskh Arabic", "Amiri", serif; font-size: 1.1rem; text-align: right; }
@media (max-width: 40rem) {
  body { margin: 1rem auto; padding: 0 .75rem; }
  .pair { grid-template-columns: minmax(0, 1fr); gap: .5rem; }
}
"""


def _pair(index: int, english: str, source: str, own: list[Flag], rtl: bool) -> str:
    e = html.escape
    side = 'lang="ar" dir="rtl"' if rtl else 'dir="auto"'
    marked = " flagged" if own else ""
    items = "".join(f'<li title="{e(f.source)}">⚑ {_explained(f)}{flags_mod.times(n)}</li>' for f, n in flags_mod.grouped(own))
    return (
        f'<section class="pair{marked}" id="p{index + 1}">\n'
        f'<div class="en" lang="en" dir="ltr"><span class="num">¶{index + 1}</span> <bdi>{e(english)}</bdi></div>\n'
        f'<div class="ar" {side}>{e(source)}</div>\n' + (f'<ul class="flags">{items}</ul>\n' if own else "") + "</section>\n"
    )


def _explained(flag: Flag) -> str:
    """The explanation with the source's own words isolated, so Arabic inside English keeps its order."""
    text = html.escape(flag.explanation)
    if flag.value:
        value = html.escape(flag.value)
        text = text.replace(value, f"<bdi>{value}</bdi>", 1)
    return text


def _check_html(flags: list[Flag]) -> str:
    if not flags:
        return ""
    items = "".join(
        f'<li><a href="#p{f.paragraph + 1}">¶{f.paragraph + 1}</a> {_explained(f)}{flags_mod.times(n)}</li>\n'
        for f, n in flags_mod.grouped(flags)
    )
    return f'<div class="check" id="check"><strong>⚑ {flags_mod.count(flags)}</strong>\n<ul>\n{items}</ul>\n</div>\n'


def _translation_pairs(t: pb.Translation) -> list[tuple[int, str, str]]:
    """(paragraph, English, source) from a translation's segments: the response has no paragraphs."""
    grouped: dict[int, tuple[list[str], list[str]]] = {}
    for s in t.segments:
        english, source = grouped.setdefault(s.paragraph, ([], []))
        english.append(s.translation)
        source.append(s.source)
    return [(i, " ".join(x for x in en if x), " ".join(src)) for i, (en, src) in sorted(grouped.items())]


def _html(message: Message, title: str) -> str:
    e = html.escape
    flags = flags_mod.of(message)
    parts = [
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{e(title)}</h1>\n"
    ]
    if isinstance(message, pb.DigestResponse):
        parts.append(f'<p class="meta">source language: {e(message.detected_language)}</p>\n')
        parts.append(_check_html(flags))
        parts.append('<h2>Summary</h2>\n<ol class="summary">\n')
        for s in message.summary_sentences:
            # Each marker is isolated left-to-right: next to Arabic, "¶2" would otherwise show as "2¶".
            links = " ".join(f'<a href="#p{i + 1}"><bdi dir="ltr">¶{i + 1}</bdi></a>' for i in s.paragraphs)
            parts.append(f'<li><bdi>{e(s.text)}</bdi> <span class="refs" dir="ltr">{links}</span></li>\n')
        parts.append("</ol>\n<h2>Translation</h2>\n")
        rtl = message.detected_language != "en"
        for p in message.paragraphs:
            parts.append(_pair(p.index, p.translation, p.source, [f for f in flags if f.paragraph == p.index], rtl))
    elif isinstance(message, pb.TranslateResponse):
        parts.append(_check_html(flags))
        for t in message.translations:
            parts.append(f'<p class="meta">source language: {e(t.detected_language)}</p>\n')
            for index, english, source in _translation_pairs(t):
                own = [f for f in flags if f.paragraph == index]
                parts.append(_pair(index, english, source, own, t.detected_language != "en"))
    else:
        assert isinstance(message, pb.SummarizeResponse)
        parts.append(f'<h2>Summary</h2>\n<p lang="en">{e(message.summary)}</p>\n')
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def render(message: Message, fmt: str, id: str = "") -> str:
    if fmt == "json":
        return json.dumps(record(message, id), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return json.dumps(record(message, id), ensure_ascii=False) + "\n"
    title = id or "khulasa"
    if fmt == "markdown":
        return _markdown(message, title)
    if fmt == "html":
        return _html(message, title)
    return _text(message)
