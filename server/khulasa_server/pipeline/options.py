"""What a request asks of an article, as one value built once, and the settings the server and
khulasa-bulk share for loading models: each built from config.Settings by one factory, so a
default lives in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from khulasa_server.errors import InvalidArgument
from khulasa_server.models.engines import Runtime
from khulasa_server.models.scheduler import GatheringOptions

DEFAULT_SUMMARY_SENTENCES = 3


class Limits(Protocol):  # config.Settings is one
    max_text_chars: int
    max_texts: int
    max_summary_sentences: int


@dataclass(frozen=True, kw_only=True)
class ArticleOptions:
    """The options of one Translate, Summarize or Digest call, with the names the proto and the
    client library give them. Built as sent (`of`), checked against the server's limits by the
    service (`within`) and against the bundle by the pipeline (`Pipeline.resolve`), each option
    once; the stages take it whole.
    Keyword-only: four options of like types must not be matched up by their order."""

    source_language: str = ""  # empty: detected
    max_sentences: int = DEFAULT_SUMMARY_SENTENCES  # 0 as sent means the default
    summary_method: str = ""  # empty: the bundle's
    glossary: Mapping[str, str] = field(default_factory=dict)  # arabic → english, over the server's

    @classmethod
    def of(cls, request: Any) -> ArticleOptions:
        """The options a request message carries (fields it lacks keep their defaults)."""
        return cls(
            source_language=getattr(request, "source_language", ""),
            max_sentences=getattr(request, "max_sentences", 0),
            summary_method=getattr(request, "summary_method", ""),
            glossary=dict(getattr(request, "glossary", {})),
        )

    def within(self, limits: Limits) -> ArticleOptions:
        """max_sentences resolved (0: the default) and within the server's limit, an
        InvalidArgument naming the field and the limit otherwise. What needs the bundle (the
        glossary over the server's, the summary method, the source language) Pipeline.resolve
        checks, once."""
        count = self.max_sentences
        if count == 0:
            count = DEFAULT_SUMMARY_SENTENCES
        elif not 1 <= count <= limits.max_summary_sentences:
            raise InvalidArgument(
                "max_sentences",
                f"max_sentences must be between 1 and {limits.max_summary_sentences} (0 for the default), got {count}",
            )
        return replace(self, max_sentences=count)


@dataclass(frozen=True)
class NameOptions:
    """How names are handled (config.Settings: name_repair, names_in_source)."""

    # Decode flagged segments again with their names as terms (engines that take notes only).
    repair: bool = True
    # Gazetteer names as terms in every first prompt too, not only when repairing: measured on
    # both eval sets it lowered chrF and kept fewer names (docs/quality.md), so off.
    terms_first: bool = False
    # Names replaced by their English in the source the model reads (pipeline/names/source.py):
    # "all" (people in their usual spelling too) keeps 4–8 points more names than none on every
    # eval set, the held-out one included, with chrF no lower (docs/quality.md). "" (off),
    # "places" or "all".
    in_source: str = "all"


def runtime(settings: Any) -> Runtime:
    """Where and how the models run, from config.Settings."""
    return Runtime(
        device=settings.device,
        compute_type=settings.compute_type,
        inter_threads=settings.inter_threads,
        intra_threads=settings.intra_threads,
        max_batch_tokens=settings.max_batch_tokens,
    )


def names(settings: Any) -> NameOptions:
    """How names are handled, from config.Settings."""
    return NameOptions(repair=settings.name_repair, in_source=settings.names_in_source)


def gathering(settings: Any) -> GatheringOptions:
    """The gathering options, from config.Settings."""
    return GatheringOptions(
        max_batch_tokens=settings.max_batch_tokens,
        max_delay=settings.batch_delay_ms / 1000,
        max_queue_tokens=settings.max_queue_tokens,
        cache_size=settings.cache_size,
    )
