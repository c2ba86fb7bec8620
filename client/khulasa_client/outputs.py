"""Where batch results go (one file per input in a directory, or one JSONL stream), which
inputs are already done (so a rerun resumes), and a progress bar for terminals.

Every id leaves a record: a result, or its error ({"id", "error": {"code", "message"}} in
JSONL; NAME.error.json beside the results in a directory). A rerun skips ids with a result and
retries ids with an error."""

from __future__ import annotations

import json
import os
import sys
import time
import unicodedata
from hashlib import sha256
from pathlib import Path
from typing import IO

from google.protobuf.message import Message
from khulasa import flags as flags_mod
from khulasa.v1 import khulasa_pb2 as pb

from .render import EXTENSIONS, render, text_paragraph

ERROR_SUFFIX = ".error.json"
_MAX_NAME_BYTES = 200  # under every common file system's 255


def _component(part: str) -> str:
    """One path component: letters and digits of any script, '-', '_' and '.' as they are,
    everything else %XX (UTF-8 bytes), a leading dot too; so no two ids share a name and no
    id can name a hidden file or leave the directory."""
    out = "".join(c if c.isalnum() or c in "-_." else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in part)
    if out.startswith("."):
        out = "%2E" + out[1:]
    if out.endswith(".error"):  # NAME.error.json is the error record of NAME
        out = out[:-6] + "%2Eerror"
    if len(out.encode("utf-8")) > _MAX_NAME_BYTES:
        digest = sha256(part.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        while len(out.encode("utf-8")) > _MAX_NAME_BYTES - 17:
            out = out[:-1]
        out += "~" + digest  # a long id keeps a readable start and a unique end
    return out


def file_name(id: str) -> str:
    """The relative path (without extension) of an id's result: '/' in an id makes
    subdirectories, as in the input tree; each part is escaped by _component. An id with an
    empty part ('a//b', '/a') is escaped whole, '/' as %2F."""
    parts = id.split("/")
    return ("/" if all(parts) else "%2F").join(_component(p) for p in parts)


def clashes(ids: list[str], fmt: str) -> list[list[str]]:
    """Groups of ids whose output paths would be one file on a case-insensitive or
    Unicode-normalizing file system (macOS, Windows), or where one's file is another's folder."""

    def key(path: str) -> str:
        return unicodedata.normalize("NFC", path).casefold()

    groups: dict[str, list[str]] = {}
    folders: dict[str, str] = {}
    for id in ids:
        name = file_name(id)
        for path in (name + EXTENSIONS[fmt], name + ERROR_SUFFIX):
            groups.setdefault(key(path), [])
            if id not in groups[key(path)]:
                groups[key(path)].append(id)
        parts = name.split("/")
        for n in range(1, len(parts)):
            folders.setdefault(key("/".join(parts[:n])), id)
    found = [tuple(g) for g in groups.values() if len(g) > 1]
    found += [(folders[k], *g) for k, g in groups.items() if k in folders and folders[k] not in g]
    return [list(g) for g in dict.fromkeys(found)]


def error_record(id: str, code: str, message: str) -> dict:
    return {"id": id, "error": {"code": code, "message": message}}


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a file is complete or absent, never half written


class DirectorySink:
    def __init__(self, directory: str, fmt: str, snake: bool = False):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fmt, self.snake = fmt, snake

    def path(self, id: str) -> Path:
        return self.directory / (file_name(id) + EXTENSIONS[self.fmt])

    def error_path(self, id: str) -> Path:
        return self.directory / (file_name(id) + ERROR_SUFFIX)

    def done(self, id: str) -> bool:
        return self.path(id).is_file()

    def failed_before(self, id: str) -> bool:
        return not self.done(id) and self.error_path(id).is_file()

    def begin(self, todo: list[str]) -> None:
        pass

    def write(self, id: str, message: Message) -> None:
        _atomic_write(self.path(id), render(message, self.fmt, id, snake=self.snake))
        self.error_path(id).unlink(missing_ok=True)

    def fail(self, id: str, code: str, message: str) -> None:
        _atomic_write(self.error_path(id), json.dumps(error_record(id, code, message), ensure_ascii=False, indent=2) + "\n")

    def close(self) -> None:
        pass


class JsonlSink:
    """Appends one line per id. On opening an existing file, a torn last line (a run killed
    mid-write) is dropped, and so are the error records of ids about to be retried, so the
    file holds one record per id."""

    def __init__(self, path: str | None, snake: bool = False):
        self.path = Path(path) if path else None
        self.snake = snake
        self.finished: set[str] = set()
        self.failed: set[str] = set()
        self._lines: list[str] = []
        self._torn = False
        if self.path and self.path.is_file():
            text = self.path.read_text(encoding="utf-8", errors="replace")
            self._lines = text.splitlines()
            last = self._record(self._lines[-1]) if self._lines else {}
            self._torn = bool(self._lines) and (last is None or not text.endswith("\n"))
            if self._lines and last is None:
                self._lines.pop()
            for line in self._lines:
                record = self._record(line)
                if record is None:
                    continue
                (self.failed if "error" in record else self.finished).add(str(record["id"]))
            self.failed -= self.finished
        self.stream: IO[str] | None = None if self.path else sys.stdout

    @staticmethod
    def _record(line: str) -> dict | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        return record if isinstance(record, dict) and "id" in record else None

    def done(self, id: str) -> bool:
        return id in self.finished

    def failed_before(self, id: str) -> bool:
        return id in self.failed

    def begin(self, todo: list[str]) -> None:
        if self.stream is not None:
            return
        assert self.path is not None  # without a path, the stream is stdout from the start
        retried = self.failed & set(todo)
        if self._torn or retried:
            kept = [line for line in self._lines if not ((r := self._record(line)) and "error" in r and str(r["id"]) in retried)]
            _atomic_write(self.path, "".join(line + "\n" for line in kept))
        self.stream = open(self.path, "a", encoding="utf-8")

    def _line(self, record: str) -> None:
        assert self.stream is not None, "begin() opens the file"
        self.stream.write(record)
        self.stream.flush()

    def write(self, id: str, message: Message) -> None:
        self._line(render(message, "jsonl", id, snake=self.snake))

    def fail(self, id: str, code: str, message: str) -> None:
        self._line(json.dumps(error_record(id, code, message), ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.stream is not None and self.stream is not sys.stdout:
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


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class LiveDigest:
    """One article's digest as it streams: on a terminal's stderr a progress line
    (`¶ 7/30 [#####-----]  0:42 elapsed, about 1:18 left`), and on `echo` (a terminal's stdout)
    each paragraph as it arrives, numbered and with its flags. Silent where stderr is piped."""

    def __init__(self, total: int, stream: IO[str] = sys.stderr, echo: IO[str] | None = None, enabled: bool | None = None):
        self.total, self.stream, self.echo = total, stream, echo
        self.enabled = stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.done = 0
        self.phase = "translating"

    def watch(self, events):
        """The events, passed on as they come, each shown."""
        self.show()
        for event in events:
            self.event(event)
            yield event

    def event(self, event: pb.DigestEvent) -> None:
        kind = event.WhichOneof("event")
        if kind == "paragraph":
            self.done += 1
            if self.echo is not None:
                self.clear()
                paragraph = event.paragraph
                if self.done == 1:
                    self.echo.write("Translation\n===========\n\n")
                flags = flags_mod.of(pb.DigestResponse(paragraphs=[paragraph]))
                self.echo.write(text_paragraph(paragraph, flags) + "\n")
                self.echo.flush()
            if self.done >= self.total:
                self.phase = "summarizing"
        elif kind == "summary":
            self.phase = "finishing"
        self.show()

    def show(self) -> None:
        if not self.enabled:
            return
        total = max(self.total, self.done)
        elapsed = time.monotonic() - self.start
        filled = int(20 * self.done / total) if total else 20
        left = f", about {_clock(elapsed / self.done * (total - self.done))} left" if self.done and self.done < total else ""
        self.stream.write(
            f"\r\033[K¶ {self.done}/{total} [{'#' * filled}{'-' * (20 - filled)}] {_clock(elapsed)} elapsed{left}, {self.phase}"
        )
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            total = max(self.total, self.done)
            self.clear()
            self.stream.write(f"khulasa: {self.done}/{total} paragraphs in {_clock(time.monotonic() - self.start)}\n")
            self.stream.flush()
