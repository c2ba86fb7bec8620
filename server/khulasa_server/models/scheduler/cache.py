"""A content-keyed LRU cache in front of the scheduler: a row asked before (same task, text,
note, sentence and word limits) is answered without decoding."""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Callable, Sequence

from khulasa_server import metrics
from khulasa_server.models.engines.base import Output, Row


class LRUCache:
    def __init__(self, size: int):
        self.size = size
        self._items: collections.OrderedDict[bytes, Output] = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(task: str, text: str, note: str = "", max_sentences: int = 0, max_words: int = 0) -> bytes:
        words = f"\0{max_words}" if max_words else ""  # rows without a word limit keep their keys
        return hashlib.blake2b(f"{task}\0{text}\0{note}\0{max_sentences}{words}".encode(), digest_size=16).digest()

    def get(self, key: bytes) -> Output | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: bytes, value: Output) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def answer(self, task: str, rows: Sequence[Row], decode: Callable[[str, list[Row]], list[Output]]) -> list[Output]:
        """Each row's output from the cache, the others from `decode` (in one call) and kept."""
        keys = [self.key(task, row.text, row.note, row.max_sentences, row.max_words) for row in rows]
        results: list[Output | None] = [self.get(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        metrics.CACHE.labels(result="hit").inc(len(rows) - len(missing))
        metrics.CACHE.labels(result="miss").inc(len(missing))
        if missing:
            for i, out in zip(missing, decode(task, [rows[i] for i in missing])):
                results[i] = out
                self.put(keys[i], out)
        return results  # type: ignore[return-value]
