"""Instruction-tuned decoder LLMs on ctranslate2.Generator (Qwen2, Llama, Gemma), prompted per
task with the model's chat format."""

from __future__ import annotations

import ctranslate2

from ..bundle import ModelEntry
from ..errors import BundleError
from .base import Output, Runtime, batch_budget, batches, finish, length_bound
from .tokenizer import load_tokenizers

CHAT_FORMATS = {
    "chatml": (
        "<|im_start|>system\n{system}<|im_end|>\n"
        "<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    ),
}


class GeneratorEngine:
    unit = "paragraph"  # an LLM translates better with a paragraph of context

    def __init__(self, entry: ModelEntry, runtime: Runtime):
        if entry.chat_format not in CHAT_FORMATS:
            raise BundleError(
                f"model '{entry.name}': chat_format {entry.chat_format!r} is not one of {sorted(CHAT_FORMATS)}"
            )
        self.entry = entry
        self._tok, _ = load_tokenizers(entry)
        self._model = ctranslate2.Generator(str(entry.path), **runtime.model_options())
        self._max_batch_tokens = runtime.max_batch_tokens

    @property
    def max_input_tokens(self) -> int:
        return self.entry.max_input_tokens

    def count_tokens(self, text: str) -> int:
        return len(self._tok.encode(text))

    def _parts(self, task: str, text: str, note: str) -> list[tuple[str, bool]]:
        """(text, is_markup) pieces of a prompt. The chat format and the bundle's system prompt
        are markup; the user turn (the article and the glossary note) is plain text, so chat
        markers written in an article stay characters and cannot end the turn."""
        try:
            prompt = self.entry.prompts[task]
        except KeyError:
            raise BundleError(f"model '{self.entry.name}' has no prompt for task '{task}'") from None
        # str.replace, not str.format: articles contain braces.
        user = prompt["user"].replace("{text}", text)
        if note:
            user = f"{user}\n\n{note}"
        head, tail = CHAT_FORMATS[self.entry.chat_format].split("{user}")
        return [(head.replace("{system}", prompt.get("system", "")), True), (user, False), (tail, True)]

    def prompt(self, task: str, text: str, note: str = "") -> str:
        return "".join(part for part, _ in self._parts(task, text, note))

    def prompt_tokens(self, task: str, text: str, note: str = "") -> list[str]:
        return [token for part, markup in self._parts(task, text, note)
                for token in (self._tok.encode_markup(part) if markup else self._tok.encode(part))]

    def run(self, task: str, texts: list[str], notes: list[str] | None = None) -> list[Output]:
        options = self.entry.decoding.get(task, {})
        lengths = [self.count_tokens(t) for t in texts]
        if any(n > self.max_input_tokens for n in lengths):
            raise ValueError(f"input of {max(lengths)} tokens exceeds the model's {self.max_input_tokens}")
        notes = notes or [""] * len(texts)
        prompts = [self.prompt_tokens(task, t, n) for t, n in zip(texts, notes)]
        end_tokens = list(self.entry.end_tokens) or None
        pending = []
        budget = batch_budget(self._max_batch_tokens, options)
        for group in batches([len(p) for p in prompts], budget):
            bound = length_bound(options, max(lengths[i] for i in group))
            results = self._model.generate_batch(
                [prompts[i] for i in group],
                max_batch_size=budget,
                batch_type="tokens",
                beam_size=int(options.get("beam_size", 1)),
                length_penalty=float(options.get("length_penalty", 1.0)),
                repetition_penalty=float(options.get("repetition_penalty", 1.0)),
                no_repeat_ngram_size=int(options.get("no_repeat_ngram_size", 0)),
                max_length=bound,
                end_token=end_tokens,
                include_prompt_in_result=False,
                return_scores=True,
                asynchronous=True,
            )
            pending.append((group, results))
        outputs: list[Output] = [None] * len(texts)  # type: ignore[list-item]
        for group, results in pending:
            for i, result in zip(group, results):
                result = result.result()
                bound = length_bound(options, lengths[i])
                outputs[i] = finish(result.sequences[0], result.scores, bound, self._tok.decode)
        return outputs
