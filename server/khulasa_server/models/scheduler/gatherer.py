"""The queue of the scheduler: jobs (one per call of a request) admitted within a token bound,
and the hold policy that decides which of them go into the next batch and when."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from khulasa_server import metrics
from khulasa_server.errors import Overloaded
from khulasa_server.models.engines.base import Output, Row
from khulasa_server.scope import Cancelled, DeadlineExceeded, RequestScope, current


@dataclass
class Job:
    task: str
    rows: list[Row]  # each with its tokens, as the engine's tokenize gives them
    scope: RequestScope
    enqueued: float = field(default_factory=time.monotonic)
    outputs: list[Output | None] = field(default_factory=list)  # None: not decoded yet
    error: BaseException | None = None
    abandoned: bool = False
    passed: int = 0  # calls planned without this job's rows while they were queued
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.outputs = [None] * len(self.rows)

    @property
    def todo(self) -> list[int]:
        """Indexes of the rows not decoded yet."""
        return [k for k, out in enumerate(self.outputs) if out is None]

    @property
    def tokens(self) -> int:
        """Source tokens still to decode (what the queue bound counts)."""
        return sum(len(self.rows[k].tokens or ()) for k in self.todo)


class Gatherer:
    """The jobs waiting for a worker. replicas: the workers taking from it (one per CTranslate2
    replica), among which the queued jobs are shared."""

    HOLD_LIMIT = 0.05  # seconds; see _hold
    PASS_LIMIT = 2  # calls a job's rows may be passed over for fuller ones; see pick

    def __init__(self, model: str, *, max_batch_tokens: int, max_delay: float, max_queue_tokens: int, replicas: int):
        self.model = model
        self.max_batch_tokens = max_batch_tokens
        self.max_delay = max_delay
        self.max_queue_tokens = max_queue_tokens
        self.replicas = max(1, replicas)
        self.queue: collections.deque[Job] = collections.deque()
        self.queued_tokens = 0
        self.decoding = 0  # jobs taken by a worker and not given back
        self._cond = threading.Condition()
        self._rate = 500.0  # tokens/s, updated from measured batches; only for retry hints
        self._expected = 1 << 30  # jobs to gather; unknown at first: gather for max_delay
        self._last_seconds = 0.0
        self._closed = False

    def submit(self, task: str, rows: Sequence[Row]) -> list[Output]:
        """Queues the rows (tokens given) as one job of the current request and waits for their
        outputs; Overloaded at once when the queue is full."""
        scope = current.get()
        scope.check()
        job = Job(task, list(rows), scope)
        with self._cond:
            if self.queued_tokens and self.queued_tokens + job.tokens > self.max_queue_tokens:
                metrics.REJECTED.inc()
                raise Overloaded(self.queued_tokens, self.max_queue_tokens, max(0.5, self.queued_tokens / self._rate))
            self.queue.append(job)
            self.queued_tokens += job.tokens
            metrics.QUEUE_TOKENS.labels(model=self.model).set(self.queued_tokens)
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

    def take(self) -> list[Job]:
        """Jobs of one task for the next batch: wait for the first, then gather more until
        the budget is full, this replica's share of the jobs in the server when the last batch
        ended is queued, or the hold time has passed since the first arrived. Empty: closed."""
        with self._cond:
            while True:
                while not self.queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return []
                first = self.queue[0]
                if len(first.todo) < len(first.rows):
                    return self._pop(first.task)  # a job midway (see give_back): it waited already
                # Jobs that queued while the model was busy start their hold now, not on arrival.
                deadline = max(first.enqueued, time.monotonic()) + self._hold()
                while self.queued_tokens < self.max_batch_tokens and self.queue and self.queue[0] is first:
                    queued = sum(1 for job in self.queue if job.task == first.task)
                    if queued >= self._expected:
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self.queue and self.queue[0] is first:
                    return self._pop(first.task)
                # Another replica's worker took those jobs while this one waited: start over
                # (an empty batch here would read as "closed" and end this worker).

    def _pop(self, task: str) -> list[Job]:
        batch: list[Job] = []
        tokens = 0
        # With several replicas, one takes its share and leaves the rest to the others.
        share = self._expected if self.replicas > 1 else len(self.queue)
        for job in list(self.queue):
            if job.task != task:
                continue
            if batch and (tokens + job.tokens > self.max_batch_tokens or len(batch) >= share):
                break
            batch.append(job)
            tokens += job.tokens
            self.queue.remove(job)
        self.queued_tokens -= tokens
        self.decoding += len(batch)
        metrics.QUEUE_TOKENS.labels(model=self.model).set(self.queued_tokens)
        return batch

    def pick(self, groups: list[list[int]], rows: list[tuple[Job, int]]) -> list[int]:
        """Of the calls an engine planned over the batch's rows, the one to run now: the one
        with the most rows (ties: the oldest row's), so a sparse call waits for rows to fill it
        while a fuller one runs; but the call of the oldest job passed over PASS_LIMIT times, so
        no request waits for ever."""
        oldest = next(g for g in groups if 0 in g)
        chosen = oldest if rows[0][0].passed >= self.PASS_LIMIT else max(groups, key=lambda g: (len(g), -min(g)))
        taken = {id(rows[i][0]) for i in chosen}
        for job in {id(job): job for job, _ in rows}.values():
            if id(job) not in taken:
                job.passed += 1
        return chosen

    def measured(self, tokens: int, seconds: float) -> None:
        """A decoding call's source tokens and time, for the retry hints of Overloaded."""
        self._rate = 0.8 * self._rate + 0.2 * (tokens / max(seconds, 1e-3))

    def give_back(self, batch: list[Job], start: float) -> None:
        """A taken batch after its decoding (begun at perf_counter `start`): jobs with rows left go back to the front
        of the queue for the next call, the others' callers are released."""
        # Counted before any caller is released: one that is answered and sends again at once
        # must not be counted twice (queued and still decoding).
        finished = [job for job in batch if job.error is not None or not job.todo]
        with self._cond:
            # Jobs with rows left go back to the front, in their order, for the next call.
            for job in reversed([job for job in batch if job not in finished]):
                self.queue.appendleft(job)
                self.queued_tokens += job.tokens
            # Every replica gets its share: the callers in the server now, split evenly.
            waiting = self.decoding + len(self.queue)
            self._expected = -(-waiting // self.replicas)
            self.decoding -= len(batch)
            self._last_seconds = time.perf_counter() - start
            metrics.QUEUE_TOKENS.labels(model=self.model).set(self.queued_tokens)
            if len(finished) < len(batch):
                self._cond.notify_all()
        for job in finished:
            job.done.set()

    def close(self) -> None:
        """Every worker's take returns empty (after the batch in hand)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
