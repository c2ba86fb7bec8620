"""Engines turn a bundle's model entry into a callable: texts in, English out. Each engine
registers under the name manifests give it (base.register), each tokenizer kind likewise
(tokenizer.register_tokenizer)."""

from __future__ import annotations

from . import generator, seq2seq  # noqa: F401 - each registers its engine
from .base import ENGINES, Engine, Output, Runtime, load_engine
from .tokenizer import TOKENIZERS

__all__ = ["ENGINES", "TOKENIZERS", "Engine", "Output", "Runtime", "load_engine"]
