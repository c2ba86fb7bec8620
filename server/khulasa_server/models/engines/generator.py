"""Instruction-tuned decoder LLMs on ctranslate2.Generator (Qwen2, Llama, Gemma), prompted per
task with the model's chat format.

How a batch is decoded, and why (docs/bench/llm.md has the profile):
  - On CPU a decoding step has a large fixed cost (the weights are read, and oneDNN repacks
    them, on every call): 16 prompts take ~2.8× the time of 1 for 16× the tokens
    (docs/bench/llm-profile.json), so batch as much as possible.
  - Prompts of one call are forwarded at once only up to the shortest one's length; the rest
    of each longer prompt is fed one token per decoding step. So prompts are grouped by length
    (prompt_groups) rather than all put in one call.
  - The system prompt and the instruction are the same for every text of a task: they are
    given as CTranslate2's static_prompt, computed once and cached.
  - Each output stops at its own length bound, not at the longest one's in its batch, and a
    summary once it has as many sentences as the caller keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import ctranslate2

from khulasa_server.errors import BundleError
from khulasa_server.models.engines.base import (
    LIVE,
    LogProbs,
    Output,
    Row,
    Runtime,
    batch_budget,
    check_input,
    finish,
    length_bound,
    register,
    search_options,
    source_tokens,
)
from khulasa_server.models.engines.steps import StepLog, call_shape
from khulasa_server.models.schema import ModelEntry
from khulasa_server.models.tokenizers import load_tokenizers
from khulasa_server.scope import current
from khulasa_server.text.normalize import normalize, strip_controls
from khulasa_server.text.segment import sentences_of

CHAT_FORMATS = {
    "chatml": ("<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"),
}
# Output tokens per source token, to plan batches only (English from Arabic: ~0.65 on the
# sample article); it never bounds an output.
EXPECTED_OUTPUT_RATIO = 0.7
# Extra cost of one more prompt in a decoding step, relative to the step's fixed cost. The
# step profiles of docs/bench (2 cores) give 0.13 with MKL, 0.20 on the AVX2 path, and 0.044 with
# oneDNN's int8 GEMM with VNNI on an AMD EPYC (107 ms at batch 1, 177 ms at 16: docs/bench/llm.md).
# Two later idle profiles of that machine gave 0.09 (99–102 ms at 1, 221–229 ms at 16;
# docs/bench/llm-profile-steps.json), and 32 rows cost 792 ms a step, more than linear: the value
# is kept until a bench shows the plans of another doing better. A larger value makes smaller groups.
ROW_COST = 0.044


def prompt_parts(entry: ModelEntry, task: str, text: str, note: str = "") -> list[tuple[str, bool]]:
    """(text, is_markup) pieces of the chat prompt of `task` for `text`, with an optional note
    (e.g. required terms). The chat format and the bundle's system prompt are markup; the user
    turn (the article and the note) is plain text, so chat markers written in an article stay
    characters and cannot end the turn."""
    try:
        prompt = entry.prompts[task]
    except KeyError:
        raise BundleError(f"model '{entry.name}' has no prompt for task '{task}'") from None
    # str.replace, not str.format: articles contain braces.
    user = prompt.user.replace("{text}", text)
    if note:
        user = f"{user}\n\n{note}"
    head, tail = CHAT_FORMATS[entry.chat_format].split("{user}")
    # Worked examples as earlier turns, after the system prompt: part of the static prefix.
    turn = head.split("{system}")[1]  # a turn's end and the next user turn's start
    shown = "".join(prompt.user.replace("{text}", t) + tail + a + turn for t, a in prompt.examples)
    return [(head.replace("{system}", prompt.system) + shown, True), (user, False), (tail, True)]


def render_prompt(entry: ModelEntry, task: str, text: str, note: str = "") -> str:
    """The chat prompt of `task` for `text` as one string."""
    return "".join(part for part, _ in prompt_parts(entry, task, text, note))


def prompt_groups(lengths: list[int], outputs: list[int], max_tokens: int, row_cost: float = ROW_COST) -> list[list[int]]:
    """Indexes split into CTranslate2 calls so as to minimise the expected decoding work.

    A call takes max(length + output) - min(length) decoding steps over its members (longer
    prompts are fed token by token past the shortest), each step costing about 1 + row_cost
    per member. Groups are runs of the length-sorted order. A call's memory is its rows' key
    and value cache (CTranslate2 4.8 keeps Qwen2's 2 key/value heads copied out to all 12,
    float32: 0.34 MB a token for the 1.5B model, docs/bench/llm.md), so a group holds at most
    max_tokens of prompt and expected output: rows × max(length + output) ≤ max_tokens, one
    row alone excepted. Exact dynamic programming over the split points (n^2, n = texts)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], outputs[i]))
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: least cost of order[:j]
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        reach = 0  # max(length + output) over order[i:j]
        for i in range(j - 1, -1, -1):
            k = order[i]
            reach = max(reach, lengths[k] + outputs[k])
            if i < j - 1 and reach * (j - i) > max_tokens:
                break
            cost = best[i] + (reach - lengths[k]) * (1 + row_cost * (j - i))
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups = []
    while n > 0:
        groups.append(order[cut[n] : n])
        n = cut[n]
    return groups[::-1]


@register("generator")
class GeneratorEngine:
    unit = "paragraph"  # an LLM translates better with a paragraph of context
    takes_notes = True  # prompted: glossary and name notes go into the prompt, which needs one per role

    def __init__(self, entry: ModelEntry, runtime: Runtime):
        if entry.chat_format not in CHAT_FORMATS:
            raise BundleError(f"model '{entry.name}': chat_format {entry.chat_format!r} is not one of {sorted(CHAT_FORMATS)}")
        self.entry = entry
        self._tok, _ = load_tokenizers(entry)
        self._model = ctranslate2.Generator(str(entry.path), **runtime.model_options())
        self._max_batch_tokens = runtime.max_batch_tokens
        self._static: dict[str, list[str]] = {}
        self.steps = StepLog(entry.name)
        LIVE.add(self)

    @property
    def max_input_tokens(self) -> int:
        return self.entry.max_input_tokens

    def tokenize(self, text: str) -> list[str]:
        """The text's own tokens (what the input budget counts; the prompt around it is
        tokenized with it, as the model reads them together)."""
        return self._tok.encode(text)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def prompt(self, task: str, text: str, note: str = "") -> str:
        return render_prompt(self.entry, task, text, note)

    def prompt_tokens(self, task: str, text: str, note: str = "") -> list[str]:
        return [
            token
            for part, markup in prompt_parts(self.entry, task, text, note)
            for token in (self._tok.encode_markup(part) if markup else self._tok.encode(part))
        ]

    def static_prompt(self, task: str) -> list[str]:
        """The tokens every prompt of `task` starts with: the chat turn up to the text."""
        if task not in self._static:
            # The markup head (chat format and system prompt) and the user turn's words before
            # the text; _split checks each prompt really starts with these tokens.
            head = prompt_parts(self.entry, task, "")[0][0]
            user = self.entry.prompts[task].user.split("{text}")[0]
            self._static[task] = self._tok.encode_markup(head) + (self._tok.encode(user) if user else [])
        return self._static[task]

    def _split(self, task: str, prompt: list[str]) -> tuple[list[str], list[str]]:
        """(shared prefix, rest) of a tokenized prompt; no prefix where tokenization across
        the boundary differs, so the model always sees exactly the prompt's tokens."""
        static = self.static_prompt(task)
        if static and len(prompt) > len(static) and prompt[: len(static)] == static:
            return static, prompt[len(static) :]
        return [], prompt

    def _rows(self, task: str, rows: Sequence[Row]):
        """Each row's (static prefix, rest of the prompt), output bound and expected output length."""
        options = self.entry.options(task)
        lengths = [len(source_tokens(self, row)) for row in rows]
        check_input(self.entry, task, lengths)
        split = [self._split(task, self.prompt_tokens(task, row.text, row.note)) for row in rows]
        bounds = [length_bound(options, n) for n in lengths]
        expected = [min(b, round(EXPECTED_OUTPUT_RATIO * n) + 1) for b, n in zip(bounds, lengths)]
        return split, bounds, expected

    def plan(self, task: str, rows: Sequence[Row]) -> list[list[int]]:
        """The CTranslate2 calls `run` would make for these rows (indexes, one list a call): a
        gathering engine runs one of them at a time and plans again with what has queued since."""
        split, _, expected = self._rows(task, rows)
        return prompt_groups(
            [len(s) + len(r) for s, r in split], expected, batch_budget(self._max_batch_tokens, self.entry.options(task))
        )

    def run(self, task: str, rows: Sequence[Row]) -> list[Output]:
        scope = current.get()
        alive = [row.alive or scope.alive for row in rows]
        options = self.entry.options(task)
        split, bounds, expected = self._rows(task, rows)
        end_tokens = list(self.entry.end_tokens) or None
        pending = []
        budget = batch_budget(self._max_batch_tokens, options)
        previous = time.perf_counter()  # calls run one after another on a replica: each one's time is the gap
        groups = prompt_groups([len(s) + len(r) for s, r in split], expected, budget)
        for group in groups:
            static = split[group[0]][0]
            if any(split[i][0] != static for i in group):  # a prompt that could not share
                static = []
            inputs = [split[i][1] if static else split[i][0] + split[i][1] for i in group]
            own = [bounds[i] for i in group]
            search = search_options(options)
            greedy = search["beam_size"] == 1
            stopper = _Stopper(
                own,
                [rows[i].max_sentences for i in group],
                [alive[i] for i in group],
                self._tok.decode,
                [rows[i].max_words for i in group],
            )
            results = self._model.generate_batch(
                inputs,
                static_prompt=static or None,
                max_batch_size=0,  # the group is the batch: CTranslate2 must not split it again
                **search,
                max_length=max(own),
                end_token=end_tokens,
                include_prompt_in_result=False,
                return_scores=True,
                asynchronous=True,
                callback=stopper if greedy else None,
            )
            pending.append((group, [len(x) for x in inputs], results, stopper if greedy else None))
        outputs: list[Output] = [None] * len(rows)  # type: ignore[list-item]
        for group, prompts, results, seen in pending:
            generated = []
            for member, (i, result) in enumerate(zip(group, results)):
                result = result.result()
                log_probs = seen.log_probs[member] if seen else None
                outputs[i] = finish(result.sequences[0], result.scores, bounds[i], self._tok.decode, log_probs)
                made = len(result.sequences[0])
                generated.append(made + (made < bounds[i]))  # the step that gave the end token
            now = time.perf_counter()
            self.steps.add(call_shape(prompts, generated), task, prompts, generated, now - previous)
            previous = now
        scope.check()  # outputs cut short for a caller that has gone are never returned as done
        return outputs


class _Stopper(LogProbs):
    """A greedy-search callback that ends each batch member at its own length bound (the call's
    max_length is the longest member's, so a short text that loops stops early), once
    `max_sentences` of its sentences are complete (0: never): the first ones are then settled
    (text/segment.sentences_of), and no more are kept; once its settled sentences hold more
    than `max_words` words (0: never), past which a caller keeping at most that many words keeps
    nothing (a summary holds 60: a model asked for ten sentences writes two hundred); or as soon
    as its caller has gone (a whole article decodes in one call, which would otherwise run on to
    its end). It also keeps each token's log-probability (CTranslate2 reports it in the step
    with return_scores), from which a segment's confidence comes at no extra decoding cost."""

    def __init__(
        self,
        bounds: list[int],
        max_sentences: list[int],
        alive: list[Callable[[], bool]],
        decode: Callable[[list[str]], str],
        max_words: list[int] | None = None,
    ):
        super().__init__(len(bounds))
        self.bounds, self.max_sentences, self.alive, self.decode = bounds, max_sentences, alive, decode
        self.max_words = max_words or [0] * len(bounds)
        self.produced: list[list[str]] = [[] for _ in bounds]

    def __call__(self, step) -> bool:
        if not self.alive[step.batch_id]():
            return True
        tokens = self.produced[step.batch_id]
        tokens.append(step.token)
        self.keep(step)
        if len(tokens) >= self.bounds[step.batch_id]:
            return True
        limit, words = self.max_sentences[step.batch_id], self.max_words[step.batch_id]
        if not limit and not words:
            return False
        try:
            sentences = sentences_of(normalize(strip_controls(self.decode(tokens))))
            if limit and len(sentences) > limit:
                return True
            # All but the last sentence are settled (the last may still grow or split): once
            # they alone are over the words, no later sentence can be kept.
            return bool(words) and sum(len(s.split()) for s in sentences[:-1]) > words
        except Exception:  # noqa: BLE001 - an error must not escape into CTranslate2's thread
            return False
