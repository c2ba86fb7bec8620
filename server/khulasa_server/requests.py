"""Checks of a request's fields that every front end makes before any work (the gRPC servicer
today, an HTTP one tomorrow): each failure is an InvalidArgument naming the field and the limit.
What needs the bundle (languages, summary methods) or the text's content (glossary terms,
detected language) is checked by the pipeline itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from . import glossary as glossary_mod
from .errors import InvalidArgument
from .pipeline import DEFAULT_SUMMARY_SENTENCES


class Limits(Protocol):  # config.Settings is one
    max_text_chars: int
    max_texts: int
    max_summary_sentences: int


def text(value: str, field: str, limits: Limits) -> None:
    if not value.strip():
        raise InvalidArgument(field, f"{field} is empty")
    if len(value) > limits.max_text_chars:
        raise InvalidArgument(
            field,
            f"{field} has {len(value)} characters; the limit is {limits.max_text_chars} "
            f"(max_text_chars). Split the text or raise the server's limit.",
        )


def texts(values: Sequence[str], limits: Limits) -> None:
    if not values:
        raise InvalidArgument("texts", "texts must hold at least one text")
    if len(values) > limits.max_texts:
        raise InvalidArgument("texts", f"texts holds {len(values)} texts; the limit is {limits.max_texts} (max_texts)")
    for i, value in enumerate(values):
        text(value, f"texts[{i}]", limits)


def max_sentences(value: int, limits: Limits) -> int:
    """The number of summary sentences to make: 0 means the default."""
    if value == 0:
        return DEFAULT_SUMMARY_SENTENCES
    limit = limits.max_summary_sentences
    if not 1 <= value <= limit:
        raise InvalidArgument("max_sentences", f"max_sentences must be between 1 and {limit} (0 for the default), got {value}")
    return value


def glossary(entries: dict[str, str]) -> dict[str, str]:
    """The request's glossary, normalized; refused when an entry is empty, too long, or a key
    that normalizes to nothing."""
    return glossary_mod.check(entries)
