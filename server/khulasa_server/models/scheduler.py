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
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from khulasa_server import metrics
from khulasa_server.errors import Overloaded
from khulasa_server.models.engines.base import Engine, Output
from khulasa_server.scope import Cancelled, DeadlineExceeded, RequestScope, current

__all__ = ["GatheringEngine", "LRUCache", "Overloaded"]


@dataclass
class _Job:
    task: str
    texts: list[str]
    notes: list[str]
    sentences: list[int]
    source: list[list[str]]  # each text's tokens, as the engine's tokenize gives them
    scope: RequestScope
    enqueued: float = field(default_factory=time.monotonic)
    outputs: list[Output | None] = field(default_factory=list)  # None: not decoded yet
    error: BaseException | None = None
    abandoned: bool = False
    passed: int = 0  # calls planned without this job's rows while they were queued
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.outputs = [None] * len(self.texts)

    @property
    def todo(self) -> list[int]:
        """Indexes of the texts not decoded yet."""
        return [k for k, out in enumerate(self.outputs) if out is None]

    @property
    def tokens(self) -> int:
        """Source tokens still to decode (what the queue bound counts)."""
        return sum(len(self.source[k]) for k in self.todo)


class LRUCache:
    def __init__(self, size: int):
        self.size = size
        self._items: collections.OrderedDict[bytes, Output] = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(task: str, text: str, note: str = "", sentences: int = 0) -> bytes:
        return hashlib.blake2b(f"{task}\0{text}\0{note}\0{sentences}".encode(), digest_size=16).digest()

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


class GatheringEngine:
    """An Engine that gathers the calls of every request in flight into shared decoding calls.
    workers: threads feeding the model (one per CTranslate2 replica keeps every replica busy)."""

    HOLD_LIMIT = 0.05  # seconds; see _hold
    PASS_LIMIT = 2  # calls a job's rows may be passed over for fuller ones; see _pick

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch_tokens: int = 4096,
        max_delay: float = 0.005,
        max_queue_tokens: int = 65536,
        workers: int = 1,
        cache_size: int = 10000,
    ):
        self.engine = engine
        self.entry = engine.entry
        self.max_batch_tokens = max_batch_tokens
        self.max_delay = max_delay
        self.max_queue_tokens = max_queue_tokens
        self.cache = LRUCache(cache_size)
        self._queue: collections.deque[_Job] = collections.deque()
        self._queued_tokens = 0
        self._cond = threading.Condition()
        self._rate = 500.0  # tokens/s, updated from measured batches; only for retry hints
        self._expected = 1 << 30  # jobs to gather; unknown at first: gather for max_delay
        self._decoding = 0
        self._last_seconds = 0.0
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"gather-{self.entry.name}-{i}", daemon=True) for i in range(max(1, workers))
        ]
        for t in self._threads:
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

    def run(
        self,
        task: str,
        texts: list[str],
        notes: list[str] | None = None,
        sentences: list[int] | None = None,
        alive: list[Callable[[], bool]] | None = None,
        tokens: list[list[str]] | None = None,
    ) -> list[Output]:
        # alive is each job's own scope here (the caller's, carried in the job).
        notes = notes or [""] * len(texts)
        sentences = sentences or [0] * len(texts)
        keys = [LRUCache.key(task, t, n, s) for t, n, s in zip(texts, notes, sentences)]
        results: list[Output | None] = [self.cache.get(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        metrics.CACHE.labels(result="hit").inc(len(texts) - len(missing))
        metrics.CACHE.labels(result="miss").inc(len(missing))
        if missing:
            outputs = self._submit(
                task,
                [texts[i] for i in missing],
                [notes[i] for i in missing],
                [sentences[i] for i in missing],
                [tokens[i] if tokens else self.engine.tokenize(texts[i]) for i in missing],
            )
            for i, out in zip(missing, outputs):
                results[i] = out
                self.cache.put(keys[i], out)
        return results  # type: ignore[return-value]

    def _submit(
        self, task: str, texts: list[str], notes: list[str], sentences: list[int], source: list[list[str]]
    ) -> list[Output]:
        scope = current.get()
        scope.check()
        job = _Job(task, texts, notes, sentences, source, scope)
        with self._cond:
            if self._queued_tokens and self._queued_tokens + job.tokens > self.max_queue_tokens:
                metrics.REJECTED.inc()
                raise Overloaded(self._queued_tokens, self.max_queue_tokens, max(0.5, self._queued_tokens / self._rate))
            self._queue.append(job)
            self._queued_tokens += job.tokens
            metrics.QUEUE_TOKENS.labels(model=self.entry.name).set(self._queued_tokens)
            self._cond.notify_all()  # every idle replica's worker may be gathering
        while not job.done.wait(0.05):
            try:
                scope.check()
            except (Cancelled, DeadlineExceeded):
                job.abandoned = True  # a worker that has not started it will drop it
                raise
        if job.error is not None:
            raise job.error
        assert not job.todo
        return job.outputs  # type: ignore[return-value]

    def _hold(self) -> float:
        """How long the first job of a batch may wait for the callers of the previous batch.

        Callers that each wait for their answer before sending again (a feed worker, a
        load-balanced client pool) come back together a few milliseconds after a batch ends;
        a fixed short delay then cuts their next batch in two (one early arrival alone, the
        rest behind it), halving throughput. So while fewer jobs are queued than were in the
        server when the last batch ended (that batch's, those of batches on other replicas and
        those queued), divided by the number of replicas, wait a little longer: a tenth of the
        last batch's decoding time, at most HOLD_LIMIT, never less than max_delay."""
        return max(self.max_delay, min(self.HOLD_LIMIT, 0.1 * self._last_seconds))

    def _take(self) -> list[_Job]:
        """Jobs of one task for the next batch: wait for the first, then gather more until
        the budget is full, this replica's share of the jobs in the server when the last batch
        ended is queued, or the hold time has passed since the first arrived."""
        with self._cond:
            while True:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return []
                first = self._queue[0]
                if len(first.todo) < len(first.texts):
                    return self._pop(first.task)  # a job midway (see _decode): it waited already
                # Jobs that queued while the model was busy start their hold now, not on arrival.
                deadline = max(first.enqueued, time.monotonic()) + self._hold()
                while self._queued_tokens < self.max_batch_tokens and self._queue and self._queue[0] is first:
                    queued = sum(1 for job in self._queue if job.task == first.task)
                    if queued >= self._expected:
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._queue and self._queue[0] is first:
                    return self._pop(first.task)
                # Another replica's worker took those jobs while this one waited: start over
                # (an empty batch here would read as "closed" and end this worker).

    def _pop(self, task: str) -> list[_Job]:
        batch: list[_Job] = []
        tokens = 0
        # With several replicas, one takes its share and leaves the rest to the others.
        share = self._expected if len(self._threads) > 1 else len(self._queue)
        for job in list(self._queue):
            if job.task != task:
                continue
            if batch and (tokens + job.tokens > self.max_batch_tokens or len(batch) >= share):
                break
            batch.append(job)
            tokens += job.tokens
            self._queue.remove(job)
        self._queued_tokens -= tokens
        self._decoding += len(batch)
        metrics.QUEUE_TOKENS.labels(model=self.entry.name).set(self._queued_tokens)
        return batch

    def _work(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return
            start = time.perf_counter()
            try:
                self._decode(batch)
            finally:
                # Counted before any caller is released: one that is answered and sends again
                # at once must not be counted twice (queued and still decoding).
                finished = [job for job in batch if job.error is not None or not job.todo]
                with self._cond:
                    # Jobs with rows left go back to the front, in their order, for the next call.
                    for job in reversed([job for job in batch if job not in finished]):
                        self._queue.appendleft(job)
                        self._queued_tokens += job.tokens
                    # Every replica gets its share: the callers in the server now, split evenly.
                    waiting = self._decoding + len(self._queue)
                    self._expected = -(-waiting // len(self._threads))
                    self._decoding -= len(batch)
                    self._last_seconds = time.perf_counter() - start
                    metrics.QUEUE_TOKENS.labels(model=self.entry.name).set(self._queued_tokens)
                    if len(finished) < len(batch):
                        self._cond.notify_all()
                for job in finished:
                    job.done.set()

    def _decode(self, batch: list[_Job]) -> None:
        """Decodes the batch's rows (for an engine that plans its calls: those of its next call)
        and fills in their outputs, or the jobs' errors; _work releases the callers."""
        live = self._still_wanted(batch)
        if not live:
            return
        rows = [(job, k) for job in live for k in job.todo]
        task = live[0].task
        plan = getattr(self.engine, "plan", None)
        if plan is not None and len(rows) > 1:
            groups = plan(
                task, [job.texts[k] for job, k in rows], [job.notes[k] for job, k in rows], [job.source[k] for job, k in rows]
            )
            rows = [rows[i] for i in self._pick(groups, rows)]
        sentences = [job.sentences[k] for job, k in rows]
        start = time.perf_counter()
        try:
            outputs = self.engine.run(
                task,
                [job.texts[k] for job, k in rows],
                [job.notes[k] for job, k in rows],
                sentences if any(sentences) else None,
                [self._alive(job) for job, _ in rows],
                tokens=[job.source[k] for job, k in rows],
            )
        except Exception as exc:
            if len({id(job) for job, _ in rows}) > 1:  # one bad input must not fail every request that shared the call
                self._decode_each(live)
                return
            rows[0][0].error = exc
            return
        except BaseException as exc:  # every waiting caller hears about it
            for job in live:
                job.error = exc
            return
        seconds = time.perf_counter() - start
        # What the model did, for the callers still here and those that left midway (an
        # engine skips texts whose caller has gone: their output is None).
        tokens = sum(len(job.source[k]) for (job, k), o in zip(rows, outputs) if o is not None)
        self._rate = 0.8 * self._rate + 0.2 * (tokens / max(seconds, 1e-3))
        metrics.BATCH_TOKENS.labels(model=self.entry.name).observe(tokens)
        metrics.TOKENS.labels(model=self.entry.name, direction="source").inc(tokens)
        metrics.TOKENS.labels(model=self.entry.name, direction="target").inc(sum(o.tokens for o in outputs if o is not None))
        for (job, k), out in zip(rows, outputs):
            job.outputs[k] = out
        self._still_wanted(live)  # outputs cut short or skipped for a caller that has gone are dropped

    def _pick(self, groups: list[list[int]], rows: list[tuple[_Job, int]]) -> list[int]:
        """The planned call to run now: the one with the most rows (ties: the oldest row's),
        so a sparse call waits for rows to fill it while a fuller one runs; but the call of
        the oldest job passed over PASS_LIMIT times, so no request waits for ever."""
        oldest = next(g for g in groups if 0 in g)
        chosen = oldest if rows[0][0].passed >= self.PASS_LIMIT else max(groups, key=lambda g: (len(g), -min(g)))
        taken = {id(rows[i][0]) for i in chosen}
        for job in {id(job): job for job, _ in rows}.values():
            if id(job) not in taken:
                job.passed += 1
        return chosen

    @staticmethod
    def _alive(job: _Job) -> Callable[[], bool]:
        return lambda: not job.abandoned and job.scope.alive()

    @staticmethod
    def _gone(job: _Job) -> BaseException | None:
        """Why the job's caller no longer wants it (counted as dropped), or None."""
        try:
            if job.abandoned:
                raise Cancelled("abandoned")
            job.scope.check()
            return None
        except (Cancelled, DeadlineExceeded) as exc:
            metrics.DROPPED.inc()
            return exc

    @classmethod
    def _still_wanted(cls, jobs: list[_Job]) -> list[_Job]:
        wanted = []
        for job in jobs:
            gone = cls._gone(job)
            if gone is None:
                wanted.append(job)
            else:
                job.error = gone
        return wanted

    def _decode_each(self, jobs: list[_Job]) -> None:
        for job in jobs:
            todo = job.todo
            try:
                outputs = self.engine.run(
                    job.task,
                    [job.texts[k] for k in todo],
                    [job.notes[k] for k in todo],
                    [job.sentences[k] for k in todo] if any(job.sentences) else None,
                    [self._alive(job)] * len(todo),
                    tokens=[job.source[k] for k in todo],
                )
                for k, out in zip(todo, outputs):
                    job.outputs[k] = out
            except Exception as exc:
                job.error = exc
        self._still_wanted([job for job in jobs if job.error is None])

    def close(self) -> None:
        """Stop the workers (after the batch in hand) and wait for them, so the model is not
        torn down under a running thread at exit."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)
