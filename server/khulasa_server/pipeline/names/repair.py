"""Second decoding of segments whose names the checks flagged: the source is translated again
with every name of it given as a term (gazetteer English, romanized others), and the new
output is kept only when the same checks find fewer problems in it and it loses no name the
first kept (better())."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from khulasa_server import metrics

NAME_FLAGS = ("missing_name:", "unverified_name:", "added_name:", "changed_role:")
_LOST = "unverified_name:"  # a person or organization of the source the English lacks
# Warnings that describe the source or its cutting, not the output: they do not score outputs.
_NOT_OUTPUT = ("split_long_sentence",)


def flagged(warnings: list[str]) -> bool:
    return any(w.startswith(NAME_FLAGS) for w in warnings)


def problems(warnings: list[str]) -> int:
    return sum(1 for w in warnings if not w.startswith(_NOT_OUTPUT))


def better(first: list[str], second: list[str]) -> bool:
    """Whether a second decoding replaces the first: fewer problems, and no person or
    organization lost that the first kept. A repair that drops the speaker's name ("The Iranian
    Foreign Minister said" for the ministry's spokesman Esmaeil Baghaei) trades a flagged title
    for an attribution nobody can check any more, which is the opposite of what it is for. A
    place or a date it loses is counted as any other problem: "The Kremlin spokesman said" with
    no weekday beats "Russian President Vladimir Putin said Tuesday"."""
    lost = {w for w in second if w.startswith(_LOST)}
    return problems(second) < problems(first) and lost <= {w for w in first if w.startswith(_LOST)}


def note(terms: list[tuple[str, str]]) -> str:
    """Worded differently from the glossary's note on purpose: greedy decoding of the same
    prompt would give the same output again."""
    if not terms:
        return ""
    pairs = "; ".join(f"{arabic} = {english}" for arabic, english in terms)
    return f"Write every name in the English exactly as given here: {pairs}."


@dataclass
class RepairStats:
    """How often the repair ran and how often its output was kept (server lifetime)."""

    tried: int = 0
    kept: int = 0
    seconds: float = 0.0
    # (source, first output, repaired output, kept) of every repair when a list is set here;
    # the evaluation sets one to see what the repair changed
    record: list[tuple[str, str, str, bool]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, tried: int, kept: int, seconds: float, log: Iterable[tuple[str, str, str, bool]] = ()) -> None:
        with self._lock:
            if self.record is not None:
                self.record.extend(log)
            self.tried += tried
            self.kept += kept
            self.seconds += seconds
        metrics.NAME_REPAIRS.labels(result="tried").inc(tried)
        metrics.NAME_REPAIRS.labels(result="kept").inc(kept)
