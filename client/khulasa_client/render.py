"""Responses rendered for people (text) and programs (json)."""

from __future__ import annotations

import json

from google.protobuf import json_format
from google.protobuf.message import Message


def as_dict(message: Message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def as_json(message: Message) -> str:
    return json.dumps(as_dict(message), ensure_ascii=False, indent=2)


def _heading(title: str) -> str:
    return f"{title}\n{'=' * len(title)}\n"


def digest_text(response) -> str:
    lines = [_heading("Summary")]
    for sentence in response.summary_sentences:
        refs = ", ".join(f"¶{i + 1}" for i in sentence.paragraphs)
        lines.append(f"- {sentence.text}" + (f"  [{refs}]" if refs else ""))
    lines.append("")
    lines.append(_heading("Translation"))
    lines.append(response.translation.rstrip("\n"))
    return "\n".join(lines) + "\n"


def translate_text(response) -> str:
    return "\n\n".join(t.text.rstrip("\n") for t in response.translations) + "\n"


def summarize_text(response) -> str:
    return response.summary + "\n"
