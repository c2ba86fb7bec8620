"""Cross-request gathering (dynamic batching): pieces of text from every request in flight are gathered
for at most a few milliseconds (or until a token budget is full) and decoded together, since
CTranslate2 runs a batch of sentences several times faster than the same sentences one by one.

Requests whose caller went away or whose deadline passed leave the queue without being
decoded. The queue is bounded in tokens: past the bound, callers get Overloaded with a
retry hint instead of unbounded memory. A content-keyed LRU cache answers repeated sentences.
When a batch fails, its members are decoded again one caller at a time, so one bad input fails
only its own request.

An engine that plans its own calls (an LLM: CTranslate2 runs a call until its slowest row is
done, so rows are grouped by prompt length) is fed one call at a time: after each call the
jobs whose rows are all done are answered, and the next call is planned over every row still
queued, those of jobs that arrived meanwhile included (a request's later paragraphs, the name
repairs of an answered article). Finished rows are so refilled from the queue at each call,
instead of the queue waiting for the whole gathered batch. Of the planned calls, the one with
the most rows runs first: a sparse call left for later gains the rows that arrive meanwhile
(a call's fixed cost is most of a step's), unless a job in it has been passed over PASS_LIMIT
times already.

cache.py answers rows asked before, gatherer.py queues the others and decides which go next,
worker.py decodes them; GatheringEngine puts the three behind the Engine protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from khulasa_server.errors import Overloaded
from khulasa_server.models.engines.base import Engine, Output, Row, source_tokens
from khulasa_server.models.scheduler.cache import LRUCache
from khulasa_server.models.scheduler.gatherer import Gatherer
from khulasa_server.models.scheduler.worker import Worker

__all__ = ["GatheringEngine", "GatheringOptions", "LRUCache", "Overloaded"]


@dataclass(frozen=True)
class GatheringOptions:
    """How the GatheringEngine gathers the calls of requests in flight."""

    max_batch_tokens: int = 4096
    max_delay: float = 0.005  # seconds the first call of a batch waits for others
    max_queue_tokens: int = 65536
    cache_size: int = 10000


class GatheringEngine:
    """An Engine that gathers the calls of every request in flight into shared decoding calls,
    as `options` says. workers: threads feeding the model (one per CTranslate2 replica keeps
    every replica busy)."""

    def __init__(self, engine: Engine, options: GatheringOptions | None = None, *, workers: int = 1):
        options = options or GatheringOptions()
        self.engine = engine
        self.entry = engine.entry
        self.cache = LRUCache(options.cache_size)
        self.gatherer = Gatherer(
            self.entry.name,
            max_batch_tokens=options.max_batch_tokens,
            max_delay=options.max_delay,
            max_queue_tokens=options.max_queue_tokens,
            replicas=workers,
        )
        worker = Worker(engine, self.gatherer)
        self.threads = [
            threading.Thread(target=worker.loop, name=f"gather-{self.entry.name}-{i}", daemon=True)
            for i in range(self.gatherer.replicas)
        ]
        for t in self.threads:
            t.start()

    # Engine protocol
    @property
    def max_input_tokens(self) -> int:
        return self.engine.max_input_tokens

    @property
    def unit(self) -> str:
        return self.engine.unit

    @property
    def takes_notes(self) -> bool:
        return self.engine.takes_notes

    @property
    def answers_as_done(self) -> bool:
        """Whether a request is answered as soon as its own rows are decoded (an engine that
        plans its calls): a caller may then send pieces as requests of their own and act on
        each answer (a name repair) while the others still decode, without losing shared calls."""
        return hasattr(self.engine, "plan")

    def tokenize(self, text: str) -> list[str]:
        return self.engine.tokenize(text)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def run(self, task: str, rows: Sequence[Row]) -> list[Output]:
        # A row's alive is its job's own here (the caller's scope, carried in the job).
        return self.cache.answer(task, rows, self._submit)

    def _submit(self, task: str, rows: list[Row]) -> list[Output]:
        return self.gatherer.submit(task, [replace(row, tokens=source_tokens(self.engine, row)) for row in rows])

    def close(self) -> None:
        """Stop the workers (after the batch in hand) and wait for them, so the model is not
        torn down under a running thread at exit."""
        self.gatherer.close()
        for thread in self.threads:
            thread.join(timeout=30)
