"""What the CLI reads: files (text, Markdown, HTML, .docx: khulasa/documents.py reads them),
directories (recursive: every readable file, or those a glob names), standard input, and JSONL
files of {"id": ..., "text": ...} records."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from khulasa import documents


@dataclass(frozen=True)
class Item:
    id: str
    text: str = ""
    error: str = ""  # why the input could not be read; the item counts as failed
    where: str = ""  # the file (and line) it came from, for messages
    title: str = ""  # the headline of an HTML or Word file


class NothingToRead(Exception):
    """A directory where no file can be read: an operator's mistake, not "0 done"."""


def _read(path: Path, id: str, encoding: str = "") -> Item:
    try:
        document = documents.read(path.read_bytes(), str(path), encoding)
    except documents.Unreadable as exc:
        return Item(id, error=str(exc), where=str(path))
    except OSError as exc:
        return Item(id, error=f"{path}: {exc.strerror or exc}", where=str(path))
    return Item(id, document.text, where=str(path), title=document.title)


def _unicode_problem(value: str) -> str:
    """Why a string cannot be sent (gRPC strings are UTF-8), or ""."""
    try:
        value.encode("utf-8")
        return ""
    except UnicodeEncodeError as exc:
        return f"lone surrogate {value[exc.start]!a} at character {exc.start}: not valid Unicode text"


def _printable(id: str) -> str:
    return id.encode("utf-8", "backslashreplace").decode("utf-8")


def _jsonl(path: Path) -> Iterator[Item]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        yield Item(str(path), error=f"{path}: {exc}", where=str(path))
        return
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Item(where, error=f"{where}: not JSON ({exc.msg})", where=where)
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield Item(
                _printable(str(record.get("id", where))) if isinstance(record, dict) else where,
                error=f'{where}: needs a "text" string',
                where=where,
            )
            continue
        id = str(record.get("id") or where)
        problems = [
            f"{where}: {name} has a {problem}"
            for name, value in (("id", id), ("text", record["text"]))
            if (problem := _unicode_problem(value))
        ]
        if problems:
            yield Item(_printable(id), error=problems[0], where=where)
        else:
            yield Item(id, record["text"], where=where)


def _stdin(encoding: str = "") -> Item:
    try:
        text, _ = documents.decode(sys.stdin.buffer.read(), encoding, "standard input")
    except documents.Unreadable as exc:
        return Item("stdin", error=str(exc), where="standard input")
    return Item("stdin", text, where="standard input")


def _files(path: Path, glob: str | None) -> list[Path]:
    """A directory's files: those the glob names, else every file of a supported type."""
    found = sorted(p for p in path.rglob(glob or "*") if p.is_file())
    readable = found if glob else [p for p in found if documents.supported(p.name) and p.suffix]
    if not readable:
        looked = f"files matching {glob!r}" if glob else f"files of a supported type ({documents.SUPPORTED})"
        raise NothingToRead(f"{path}: no {looked} in this directory" + (f" ({len(found)} other files)" if found else ""))
    return readable


def collect(paths: list[str], glob: str | None = None, encoding: str = "") -> Iterator[Item]:
    for raw in paths:
        if raw == "-":
            yield _stdin(encoding)
            continue
        path = Path(raw)
        if path.is_dir():
            for file in _files(path, glob):
                yield _read(file, file.relative_to(path).with_suffix("").as_posix(), encoding)
        elif path.suffix == ".jsonl":
            yield from _jsonl(path)
        else:
            yield _read(path, path.stem, encoding)


def is_batch(paths: list[str]) -> bool:
    """More than one result may come back: several paths, a directory, or a JSONL file."""
    return len(paths) > 1 or any(p != "-" and (Path(p).is_dir() or p.endswith(".jsonl")) for p in paths)
