"""What the CLI reads: files, directories (recursive, filtered by a glob), standard input, and
JSONL files of {"id": ..., "text": ...} records."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Item:
    id: str
    text: str = ""
    error: str = ""  # why the input could not be read; the item counts as failed


def _read(path: Path, id: str) -> Item:
    try:
        return Item(id, path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return Item(id, error=f"{path}: not UTF-8 text")
    except OSError as exc:
        return Item(id, error=f"{path}: {exc.strerror or exc}")


def _jsonl(path: Path) -> Iterator[Item]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        yield Item(str(path), error=f"{path}: {exc}")
        return
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Item(where, error=f"{where}: not JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield Item(str(record.get("id", where)) if isinstance(record, dict) else where,
                       error=f"{where}: needs a \"text\" string")
            continue
        yield Item(str(record.get("id") or where), record["text"])


def collect(paths: list[str], glob: str = "*.txt") -> Iterator[Item]:
    for raw in paths:
        if raw == "-":
            yield Item("stdin", sys.stdin.read())
            continue
        path = Path(raw)
        if path.is_dir():
            for file in sorted(p for p in path.rglob(glob) if p.is_file()):
                yield _read(file, file.relative_to(path).with_suffix("").as_posix())
        elif path.suffix == ".jsonl":
            yield from _jsonl(path)
        else:
            yield _read(path, path.stem)


def is_batch(paths: list[str]) -> bool:
    """More than one result may come back: several paths, a directory, or a JSONL file."""
    return len(paths) > 1 or any(p != "-" and (Path(p).is_dir() or p.endswith(".jsonl")) for p in paths)
