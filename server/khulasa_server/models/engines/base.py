"""What every engine shares: the registry of engines, the runtime settings, the input and output
records, decoding options and bounds."""

from __future__ import annotations

import atexit
import math
import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import ctranslate2

from khulasa_server.models.schema import Decoding, ModelEntry
from khulasa_server.text.normalize import strip_controls

# CTranslate2 keeps the last decoding callback (a Python function) in its worker thread; freed
# during interpreter shutdown, without the GIL, it aborts the process ("terminate called
# without an active exception"). So every model that is given a callback is released before
# shutdown.
LIVE: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _release_models() -> None:
    for engine in list(LIVE):
        engine._model = None


@dataclass(frozen=True)
class Runtime:
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = "default"  # default: int8 on CPU, int8_float16 on a GPU
    inter_threads: int = 1
    intra_threads: int = 0  # 0: CTranslate2 picks
    max_batch_tokens: int = 4096

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def resolved_compute_type(self) -> str:
        if self.compute_type != "default":
            return self.compute_type
        return "int8_float16" if self.resolved_device() == "cuda" else "int8"

    def model_options(self) -> dict[str, Any]:
        intra = self.intra_threads or max(1, (os.cpu_count() or 1) // max(1, self.inter_threads))
        return dict(
            device=self.resolved_device(),
            compute_type=self.resolved_compute_type(),
            inter_threads=self.inter_threads,
            intra_threads=intra,
        )


@dataclass(frozen=True)
class Row:
    """One text for an engine to decode, with what its caller knows of it."""

    text: str
    # tokenize(text) where the caller has it already (a piece is tokenized once, when it is cut
    # to the budget), so the engine need not tokenize it again; None: the engine tokenizes.
    tokens: Sequence[str] | None = None
    # Instructions for engines that take prompts (e.g. required term translations); others
    # ignore it.
    note: str = ""
    # Stop decoding once that many sentences are complete (0: no limit); engines may ignore it,
    # callers cut anyway.
    max_sentences: int = 0
    # Stop decoding once the output's settled sentences (all but the last) hold more than that
    # many words (0: no limit): a caller that keeps at most that many words, whole sentences
    # from the start, keeps nothing after them; engines may ignore it.
    max_words: int = 0
    # Whether its caller still wants it (None: the current request scope's); an engine may stop
    # decoding a row whose caller has gone, so its output is then incomplete and the caller
    # must check its scope before using it.
    alive: Callable[[], bool] | None = None


@dataclass(frozen=True)
class Output:
    text: str
    score: float  # log-probability per token as CTranslate2 reports it
    tokens: int  # generated tokens
    hit_limit: bool  # decoding stopped at its length bound, not at an end token
    # Per generated token: (start, end, log-probability), its characters in `text` (code points).
    # Empty where the engine could not observe the tokens (beam search has no step callback).
    token_log_probs: tuple[tuple[int, int, float], ...] = ()


class Engine(Protocol):
    entry: ModelEntry

    @property
    def max_input_tokens(self) -> int: ...

    @property
    def unit(self) -> str: ...  # "sentence" or "paragraph": what one call should carry

    @property
    def takes_notes(self) -> bool: ...  # a prompted engine: notes (terms, names) reach the model

    def tokenize(self, text: str) -> list[str]: ...  # the tokens the input budget counts

    def count_tokens(self, text: str) -> int: ...  # len(tokenize(text))

    def run(self, task: str, rows: Sequence[Row]) -> list[Output]: ...  # one output per row, in order


def source_tokens(engine: Engine, row: Row) -> list[str]:
    """The row's tokens as the engine's tokenize gives them, tokenized here only if the caller
    had not."""
    return list(row.tokens) if row.tokens is not None else engine.tokenize(row.text)


def check_input(entry: ModelEntry, task: str, lengths: list[int]) -> None:
    """The pipeline splits text to fit the task's input budget: an input over it is a bug here,
    and CTranslate2 would otherwise truncate it silently."""
    limit = entry.input_tokens(task)
    if any(n > limit for n in lengths):
        raise ValueError(f"input of {max(lengths)} tokens exceeds the model's {limit} for {task}")


def length_bound(options: Decoding, source_tokens: int) -> int:
    """Output length tied to input length, so a short sentence cannot run on for hundreds of
    tokens and a long one is not cut at a fixed bound."""
    if options.max_decoding_length is not None:
        return options.max_decoding_length
    ratio, extra = length_terms(options)
    return int(math.ceil(ratio * source_tokens)) + extra


def length_terms(options: Decoding) -> tuple[float, int]:
    """(ratio, extra) of a bound tied to input length: ratio × source tokens + extra."""
    return (
        2.0 if options.max_length_ratio is None else float(options.max_length_ratio),
        10 if options.max_length_extra is None else int(options.max_length_extra),
    )


def search_options(options: Decoding) -> dict[str, Any]:
    """The search settings every CTranslate2 decoding call takes (translate_batch and
    generate_batch alike), unset ones at their defaults."""
    return dict(
        beam_size=options.beam_size or 1,
        length_penalty=1.0 if options.length_penalty is None else float(options.length_penalty),
        repetition_penalty=1.0 if options.repetition_penalty is None else float(options.repetition_penalty),
        no_repeat_ngram_size=options.no_repeat_ngram_size or 0,
    )


# Engines by the name a manifest gives (models.NAME.engine). A new kind of model is one class
# registered here; its tokenizer kind registers in tokenizer.py.
ENGINES: dict[str, Callable[[ModelEntry, Runtime], Engine]] = {}
E = TypeVar("E")


def register(name: str) -> Callable[[E], E]:
    def add(cls: E) -> E:
        ENGINES[name] = cls  # type: ignore[assignment]
        return cls

    return add


def load_engine(entry: ModelEntry, runtime: Runtime) -> Engine:
    return ENGINES[entry.engine](entry, runtime)


def finish(
    tokens: list[str],
    scores: list[float],
    bound: int,
    decode: Callable[[list[str]], str],
    log_probs: list[float] | None = None,
) -> Output:
    """An Output from generated tokens. Inputs batched together decode to the longest one's
    bound; each output is held to its own `bound`, so batching never changes a result.
    log_probs: each generated token's log-probability as the decoding callback saw it (an end
    token's step may follow: it is dropped with the tokens past the output)."""
    tokens = tokens[:bound]
    full = strip_controls(decode(tokens))
    text = full.strip()
    spans: tuple[tuple[int, int, float], ...] = ()
    if log_probs is not None and len(log_probs) >= len(tokens):
        spans = token_spans(tokens, log_probs, decode, len(full) - len(full.lstrip()), len(text))
    return Output(
        text=text,
        score=float(scores[0]) if scores else 0.0,
        tokens=len(tokens),
        hit_limit=len(tokens) >= bound,
        token_log_probs=spans,
    )


def token_spans(
    tokens: list[str], log_probs: list[float], decode: Callable[[list[str]], str], lead: int, length: int
) -> tuple[tuple[int, int, float], ...]:
    """Each token's characters in the stripped output: the growth of the decoded prefix (a
    subword tokenizer's pieces do not map to characters one by one; a byte split inside a
    character decodes to a replacement mark until its last byte, so ends are kept monotonic)."""
    spans = []
    end = 0
    for i, log_prob in enumerate(log_probs[: len(tokens)]):
        start = end
        end = max(end, min(length, len(strip_controls(decode(tokens[: i + 1]))) - lead))
        spans.append((max(0, start), max(0, end), float(log_prob)))
    return tuple(spans)


class LogProbs:
    """A greedy-search step callback that keeps each token's log-probability (CTranslate2 reports
    it in the step with return_scores; batch_id is the input's index even when the call is split
    into several batches), so a segment's confidence costs no second pass."""

    def __init__(self, rows: int):
        self.log_probs: list[list[float]] = [[] for _ in range(rows)]

    def keep(self, step) -> None:
        log_prob = getattr(step, "log_prob", None)  # None where return_scores was off
        self.log_probs[step.batch_id].append(0.0 if log_prob is None else log_prob)

    def __call__(self, step) -> bool:
        self.keep(step)
        return False


def batch_budget(max_tokens: int, options: Decoding) -> int:
    """Padded source tokens per CTranslate2 call. Beam search decodes beam_size hypotheses per
    input, so its budget is divided by the beam: measured on the bench translator (2 cores),
    beam 4 runs 407 target tokens/s on 1024-token batches and 319 on 4096-token ones, while
    greedy keeps gaining up to 4096 (849 at 1024, 1011 at 4096)."""
    return max(1, max_tokens // (options.beam_size or 1))


def length_groups(lengths: list[int], max_tokens: int) -> list[list[int]]:
    """Indexes grouped by similar length for one CTranslate2 call each, every group's padded
    size within max_tokens; the order inside a group is by length."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[i]  # sorted ascending: the newcomer is the longest
        if current and longest * (len(current) + 1) > max_tokens:
            groups.append(current)
            current = []
        current.append(i)
    if current:
        groups.append(current)
    return groups
