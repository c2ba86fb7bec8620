"""Responses rendered as text, json, jsonl, markdown or a self-contained bilingual HTML page."""

from __future__ import annotations

import html
import json

from google.protobuf import json_format
from google.protobuf.message import Message
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


def _text(message: Message) -> str:
    if isinstance(message, pb.DigestResponse):
        lines = ["Summary", "=======", ""]
        for s in message.summary_sentences:
            lines.append(f"- {s.text}" + (f"  [{_refs(s)}]" if s.paragraphs else ""))
        lines += ["", "Translation", "===========", "", message.translation.rstrip("\n")]
        return "\n".join(lines) + "\n"
    if isinstance(message, pb.TranslateResponse):
        return "\n\n".join(t.text.rstrip("\n") for t in message.translations) + "\n"
    return message.summary + "\n"


def _markdown(message: Message, title: str) -> str:
    lines = [f"# {title}", ""]
    if isinstance(message, pb.DigestResponse):
        lines += ["## Summary", ""]
        lines += [f"- {s.text}" + (f" ({_refs(s)})" if s.paragraphs else "") for s in message.summary_sentences]
        lines += ["", "## Translation", ""]
        for p in message.paragraphs:
            lines += [f"**¶{p.index + 1}** {p.translation}", "", f"> {p.source}", ""]
    elif isinstance(message, pb.TranslateResponse):
        lines += [t.text.strip() + "\n" for t in message.translations]
    else:
        lines += [message.summary]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.55; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #666; font-size: .85rem; }
.summary { background: #f4f6f8; border-radius: 6px; padding: .75rem 1rem .75rem 2rem; }
.summary a { color: #0b5cad; text-decoration: none; font-size: .85rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 2rem; padding: .75rem 0; border-top: 1px solid #e3e3e3; }
.pair:target { background: #fff8d6; }
.num { color: #999; font-size: .8rem; }
.ar { font-family: "DejaVu Sans", "Noto Naskh Arabic", "Amiri", serif; font-size: 1.1rem; text-align: right; }
"""


def _html(message: Message, title: str) -> str:
    e = html.escape
    parts = [f"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{e(title)}</h1>\n"]
    if isinstance(message, pb.DigestResponse):
        parts.append(f"<p class=\"meta\">source language: {e(message.detected_language)}</p>\n")
        parts.append("<h2>Summary</h2>\n<ol class=\"summary\">\n")
        for s in message.summary_sentences:
            links = " ".join(f"<a href=\"#p{i + 1}\">¶{i + 1}</a>" for i in s.paragraphs)
            parts.append(f"<li>{e(s.text)} {links}</li>\n")
        parts.append("</ol>\n<h2>Translation</h2>\n")
        for p in message.paragraphs:
            parts.append(
                f"<section class=\"pair\" id=\"p{p.index + 1}\">\n"
                f"<div class=\"en\" lang=\"en\"><span class=\"num\">¶{p.index + 1}</span> {e(p.translation)}</div>\n"
                f"<div class=\"ar\" lang=\"ar\" dir=\"rtl\">{e(p.source)}</div>\n</section>\n"
            )
    elif isinstance(message, pb.TranslateResponse):
        for t in message.translations:
            for paragraph in t.text.split("\n"):
                if paragraph.strip():
                    parts.append(f"<p lang=\"en\">{e(paragraph)}</p>\n")
    else:
        parts.append(f"<h2>Summary</h2>\n<p lang=\"en\">{e(message.summary)}</p>\n")
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
