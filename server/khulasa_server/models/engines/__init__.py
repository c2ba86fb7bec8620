"""Engines turn a bundle's model entry into a callable: texts in, English out. Each engine
registers under the name manifests give it (base.register), each tokenizer kind likewise
(tokenizer.register_tokenizer)."""

from __future__ import annotations

from khulasa_server.models.engines import generator, seq2seq  # noqa: F401 - each registers its engine
from khulasa_server.models.engines.base import ENGINES, Engine, Output, Row, Runtime, load_engine
from khulasa_server.models.tokenizers import TOKENIZERS

__all__ = ["ENGINES", "TOKENIZERS", "Engine", "Output", "Row", "Runtime", "load_engine"]
