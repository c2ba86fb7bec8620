"""Engines turn a bundle's model entry into a callable: texts in, English out."""

from __future__ import annotations

from ..bundle import ModelEntry
from .base import Engine, Output, Runtime
from .generator import GeneratorEngine
from .seq2seq import Seq2SeqEngine


def load_engine(entry: ModelEntry, runtime: Runtime) -> Engine:
    if entry.engine == "generator":
        return GeneratorEngine(entry, runtime)
    return Seq2SeqEngine(entry, runtime)


__all__ = ["Engine", "Output", "Runtime", "load_engine"]
