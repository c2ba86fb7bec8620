"""Bundles are built in a temporary sibling directory and renamed into place, so an
interrupted build never leaves a half bundle where a server would look for it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; remove it or choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield work
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def tool_versions(*extra: str) -> dict[str, str]:
    import importlib.metadata as md

    names = ("ctranslate2", "sentencepiece", "tokenizers", *extra)
    return {name: md.version(name) for name in names}
