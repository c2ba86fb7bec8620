"""Where an LLM's decoding steps go, counted from each CTranslate2 call's own shape.

CTranslate2's Generator forwards a call's prompts at once only up to the shortest one's length
(the prefill); each longer prompt's remaining tokens are then fed one per decoding step, like
generated tokens. A call runs as many steps as its slowest row needs (prompt tail + output),
and a step costs a large fixed part (the weights are read once per step) plus a smaller part
per row still running (docs/bench/llm.md). So for each call:

    steps       = max over rows of (prompt tail + generated tokens)
    row_steps   = rows × steps: the call's capacity
    prompt      = row-steps spent feeding prompt tails (forced tokens)
    output      = row-steps that produced a token
    idle        = row_steps - prompt - output: rows already done while others decode

Busy share = output / row_steps is what batching is worth; docs/bench/llm.md reads these
counters (khulasa_decode_*) off a running server.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass

from khulasa_server import metrics


@dataclass
class StepCounts:
    calls: int = 0
    rows: int = 0
    steps: int = 0
    prefill: int = 0  # prompt tokens forwarded at once (rows × the shortest prompt's rest)
    prompt: int = 0  # prompt tokens fed one per step (past the shortest)
    output: int = 0  # generated tokens, end tokens included
    row_steps: int = 0

    @property
    def idle(self) -> int:
        return self.row_steps - self.prompt - self.output

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "idle": self.idle}


def call_shape(prompts: list[int], generated: list[int]) -> StepCounts:
    """The counts of one call: each row's prompt length (past any static prompt) and the
    tokens it generated (with its end token, when it ended on one)."""
    shortest = min(prompts)
    busy = [p - shortest + g for p, g in zip(prompts, generated)]
    steps = max(busy)
    return StepCounts(
        calls=1,
        rows=len(prompts),
        steps=steps,
        prefill=shortest * len(prompts),
        prompt=sum(p - shortest for p in prompts),
        output=sum(generated),
        row_steps=steps * len(prompts),
    )


# A file to append one JSON line per call to (task, each row's prompt and generated tokens,
# seconds): enough to fit a step's cost or compare batching plans without the model.
TRACE_ENV = "KHULASA_DECODE_TRACE"


class StepLog:
    """Counts of every call of one model, as totals (and Prometheus counters)."""

    def __init__(self, model: str):
        self.model = model
        self.total = StepCounts()
        self._lock = threading.Lock()
        self._trace = os.environ.get(TRACE_ENV, "")

    def add(
        self,
        counts: StepCounts,
        task: str = "",
        prompts: list[int] | None = None,
        generated: list[int] | None = None,
        seconds: float = 0.0,
    ) -> None:
        if self._trace:
            row = {
                "time": time.time(),
                "task": task,
                "prompts": prompts,
                "generated": generated,
                "seconds": round(seconds, 3),
                **counts.as_dict(),
            }
            with self._lock, open(self._trace, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        with self._lock:
            for key, value in asdict(counts).items():
                setattr(self.total, key, getattr(self.total, key) + value)
        metrics.DECODE_CALLS.labels(model=self.model).inc(counts.calls)
        metrics.DECODE_STEPS.labels(model=self.model).inc(counts.steps)
        metrics.DECODE_PREFILL.labels(model=self.model).inc(counts.prefill)
        for kind in ("prompt", "output", "idle"):
            metrics.DECODE_ROW_STEPS.labels(model=self.model, kind=kind).inc(getattr(counts, kind))

    def snapshot(self) -> StepCounts:
        with self._lock:
            return StepCounts(**asdict(self.total))
