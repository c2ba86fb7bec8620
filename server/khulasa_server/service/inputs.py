"""Checks of a request's texts that every front end gets from the core before any work: each
failure is an InvalidArgument naming the field and the limit. What needs the bundle (languages,
summary methods) or the text's content (glossary terms, detected language) is checked by the
pipeline itself."""

from __future__ import annotations

from collections.abc import Sequence

from khulasa_server.errors import InvalidArgument
from khulasa_server.pipeline.options import Limits


def text(value: str, field: str, limits: Limits) -> None:
    if not value.strip():
        raise InvalidArgument(field, f"{field} is empty")
    if len(value) > limits.max_text_chars:
        raise InvalidArgument(
            field,
            f"{field} has {len(value)} characters; the limit is {limits.max_text_chars} "
            f"(max_text_chars). Split the text or raise the server's limit.",
        )


def texts(values: Sequence[str], limits: Limits, fields: Sequence[str] | None = None) -> None:
    """`fields`: how a refusal names each text (default texts[i], as the proto's field)."""
    if not values:
        raise InvalidArgument("texts", "texts must hold at least one text")
    if len(values) > limits.max_texts:
        raise InvalidArgument("texts", f"texts holds {len(values)} texts; the limit is {limits.max_texts} (max_texts)")
    for i, value in enumerate(values):
        text(value, fields[i] if fields else f"texts[{i}]", limits)
