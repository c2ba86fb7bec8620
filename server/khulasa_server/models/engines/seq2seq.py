"""Encoder-decoder models on ctranslate2.Translator: Marian/OPUS-MT, NLLB/M2M100, BART, T5."""

from __future__ import annotations

import collections
from collections.abc import Sequence

import ctranslate2

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
    length_groups,
    register,
    search_options,
    source_tokens,
)
from khulasa_server.models.schema import ModelEntry
from khulasa_server.models.tokenizers import load_tokenizers
from khulasa_server.scope import current


@register("seq2seq")
class Seq2SeqEngine:
    unit = "sentence"
    takes_notes = False  # no prompt: notes are ignored, so a name repair would decode the same again

    def __init__(self, entry: ModelEntry, runtime: Runtime):
        self.entry = entry
        self._source_tok, self._target_tok = load_tokenizers(entry)
        self._model = ctranslate2.Translator(str(entry.path), **runtime.model_options())
        LIVE.add(self)  # the step callback must be released before interpreter shutdown
        self._max_batch_tokens = runtime.max_batch_tokens
        # The bundle's language markers (NLLB's arb_Arab, eng_Latn) are vocabulary, not text:
        # random or weak weights may emit one anywhere, and no reader should see it.
        self._markers = frozenset(t for t in (*entry.source_prefix, *entry.target_prefix) if not t.startswith("<"))

    @property
    def max_input_tokens(self) -> int:
        return self.entry.max_input_tokens

    def _decode(self, tokens: list[str]) -> str:
        return self._target_tok.decode([t for t in tokens if t not in self._markers])

    def tokenize(self, text: str) -> list[str]:
        """The source tokens as the model reads them, its prefix and suffix included."""
        return [*self.entry.source_prefix, *self._source_tok.encode(text), *self.entry.source_suffix]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def run(self, task: str, rows: Sequence[Row]) -> list[Output]:
        scope = current.get()
        alive = [row.alive or scope.alive for row in rows]
        options = self.entry.options(task)
        tokens = [source_tokens(self, row) for row in rows]
        lengths = [len(t) for t in tokens]
        check_input(self.entry, task, lengths)
        prefix = list(self.entry.target_prefix)
        budget = batch_budget(self._max_batch_tokens, options)
        outputs: list[Output] = [None] * len(rows)  # type: ignore[list-item]
        pending: collections.deque[tuple[list[int], list, LogProbs | None]] = collections.deque()
        # One call more in flight than the model has replicas (none waits for Python between
        # calls), each sent only while one of its texts' callers is still there: a whole
        # article arrives in one run, and a caller that has gone must not keep the model busy
        # until its last sentence.
        window = int(getattr(self._model, "num_translators", 1)) + 1
        for group in length_groups(lengths, budget):
            while len(pending) >= window:
                self._collect(pending.popleft(), lengths, options, prefix, outputs)
            if not any(alive[i]() for i in group):
                continue
            longest = max(lengths[i] for i in group)
            bound = length_bound(options, longest)
            search = search_options(options)
            seen = LogProbs(len(group)) if search["beam_size"] == 1 else None
            results = self._model.translate_batch(
                [tokens[i] for i in group],
                target_prefix=[prefix] * len(group) if prefix else None,
                max_batch_size=budget,
                batch_type="tokens",
                **search,
                min_decoding_length=(
                    options.min_decoding_length
                    if options.min_decoding_length is not None
                    else int((options.min_length_ratio or 0) * longest)
                ),
                max_decoding_length=bound + len(prefix),
                max_input_length=0,  # never truncate: inputs were checked above
                return_scores=True,
                asynchronous=True,
                callback=seen,
            )
            pending.append((group, results, seen))
        while pending:
            self._collect(pending.popleft(), lengths, options, prefix, outputs)
        scope.check()  # texts skipped for a caller that has gone are never returned as done
        return outputs

    def _collect(self, sent: tuple[list[int], list, LogProbs | None], lengths, options, prefix, outputs) -> None:
        group, results, seen = sent
        for row, (i, result) in enumerate(zip(group, results)):
            result = result.result()
            hypothesis = result.hypotheses[0]
            # The callback sees every token of the hypothesis, a forced prefix included, then
            # maybe the end token's step: aligned from the start.
            log_probs = seen.log_probs[row] if seen else None
            if prefix and hypothesis[: len(prefix)] == prefix:
                hypothesis = hypothesis[len(prefix) :]
                log_probs = log_probs[len(prefix) :] if log_probs is not None else None
            bound = length_bound(options, lengths[i])
            outputs[i] = finish(hypothesis, result.scores, bound, self._decode, log_probs)
