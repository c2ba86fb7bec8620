"""Where batch results go (one file per input in a directory, or one JSONL stream), which
inputs are already done (so a rerun resumes), and a progress bar for terminals."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import IO

from google.protobuf.message import Message

from .render import EXTENSIONS, render


def safe_name(id: str) -> str:
    """A file name from an id: no directories, no hidden files, nothing outside the output."""
    return re.sub(r"[^\w.-]+", "_", id).strip("._") or "item"


class DirectorySink:
    def __init__(self, directory: str, fmt: str):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt

    def path(self, id: str) -> Path:
        return self.directory / (safe_name(id) + EXTENSIONS[self.fmt])

    def done(self, id: str) -> bool:
        return self.path(id).is_file()

    def write(self, id: str, message: Message) -> None:
        path = self.path(id)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(render(message, self.fmt, id), encoding="utf-8")
        os.replace(tmp, path)  # a result file is complete or absent, never half written


class JsonlSink:
    def __init__(self, path: str | None):
        self.finished: set[str] = set()
        if path and Path(path).is_file():
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                try:
                    self.finished.add(str(json.loads(line)["id"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from an interrupted run is redone
        self.stream: IO[str] = open(path, "a", encoding="utf-8") if path else sys.stdout

    def done(self, id: str) -> bool:
        return id in self.finished

    def write(self, id: str, message: Message) -> None:
        self.stream.write(render(message, "jsonl", id))
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not sys.stdout:
            self.stream.close()


class Progress:
    """`  7/12 [########--------]  58%  ETA 0:12` on a terminal's stderr; silent when piped."""

    def __init__(self, total: int, stream: IO[str] = sys.stderr, enabled: bool | None = None):
        self.total, self.stream = total, stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.count = 0

    def step(self) -> None:
        self.count += 1
        if not self.enabled or not self.total:
            return
        elapsed = time.monotonic() - self.start
        eta = int(elapsed / self.count * (self.total - self.count))
        filled = int(24 * self.count / self.total)
        self.stream.write(
            f"\r{self.count:>{len(str(self.total))}}/{self.total} [{'#' * filled}{'-' * (24 - filled)}] "
            f"{100 * self.count // self.total:3d}%  ETA {eta // 60}:{eta % 60:02d} "
        )
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")

    def close(self) -> None:
        if self.enabled and self.total:
            self.stream.write("\n")
