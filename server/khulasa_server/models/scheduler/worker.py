"""A worker of the scheduler: it takes a batch from the gatherer, decodes the rows still wanted
in one engine call (for an engine that plans its calls: the planned call picked to run now),
and falls back to one call per job when a shared call fails, so one bad input fails only its
own request."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from khulasa_server import metrics
from khulasa_server.models.engines.base import Engine
from khulasa_server.models.scheduler.gatherer import Gatherer, Job
from khulasa_server.scope import Cancelled, DeadlineExceeded


def alive(job: Job) -> Callable[[], bool]:
    return lambda: not job.abandoned and job.scope.alive()


def gone(job: Job) -> BaseException | None:
    """Why the job's caller no longer wants it (counted as dropped), or None."""
    try:
        if job.abandoned:
            raise Cancelled("abandoned")
        job.scope.check()
        return None
    except (Cancelled, DeadlineExceeded) as exc:
        metrics.DROPPED.inc()
        return exc


def still_wanted(jobs: list[Job]) -> list[Job]:
    """The jobs whose callers are still there; the others get the reason as their error."""
    wanted = []
    for job in jobs:
        reason = gone(job)
        if reason is None:
            wanted.append(job)
        else:
            job.error = reason
    return wanted


class Worker:
    def __init__(self, engine: Engine, gatherer: Gatherer):
        self.engine = engine
        self.gatherer = gatherer
        self.model = engine.entry.name

    def loop(self) -> None:
        """Batches until the gatherer closes."""
        while True:
            batch = self.gatherer.take()
            if not batch:
                return
            start = time.perf_counter()
            try:
                self.decode(batch)
            finally:
                self.gatherer.give_back(batch, start)

    def decode(self, batch: list[Job]) -> None:
        """Decodes the batch's rows (for an engine that plans its calls: those of its next call)
        and fills in their outputs, or the jobs' errors; give_back releases the callers."""
        live = still_wanted(batch)
        if not live:
            return
        rows = [(job, k) for job in live for k in job.todo]
        task = live[0].task
        plan = getattr(self.engine, "plan", None)
        if plan is not None and len(rows) > 1:
            groups = plan(task, [job.rows[k] for job, k in rows])
            rows = [rows[i] for i in self.gatherer.pick(groups, rows)]
        start = time.perf_counter()
        try:
            outputs = self.engine.run(task, [replace(job.rows[k], alive=alive(job)) for job, k in rows])
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
        tokens = sum(len(job.rows[k].tokens or ()) for (job, k), o in zip(rows, outputs) if o is not None)
        self.gatherer.measured(tokens, seconds)
        metrics.BATCH_TOKENS.labels(model=self.model).observe(tokens)
        metrics.TOKENS.labels(model=self.model, direction="source").inc(tokens)
        metrics.TOKENS.labels(model=self.model, direction="target").inc(sum(o.tokens for o in outputs if o is not None))
        for (job, k), out in zip(rows, outputs):
            job.outputs[k] = out
        still_wanted(live)  # outputs cut short or skipped for a caller that has gone are dropped

    def _decode_each(self, jobs: list[Job]) -> None:
        for job in jobs:
            todo = job.todo
            try:
                outputs = self.engine.run(job.task, [replace(job.rows[k], alive=alive(job)) for k in todo])
                for k, out in zip(todo, outputs):
                    job.outputs[k] = out
            except Exception as exc:
                job.error = exc
        still_wanted([job for job in jobs if job.error is None])
