"""The typed form of a bundle manifest's model entries (khulasa.json `models.NAME`).

Every writer of a manifest builds these records and writes `to_dict()`; the reader builds
them with `from_dict`, which refuses unknown keys and values the server could not work
with, naming the key and where it is: a misspelled option would otherwise be ignored
without a word, and a nonsense value would pass health checks and fail every call."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from khulasa_server.errors import BundleError
from khulasa_server.text.segment import MIN_BUDGET

# How a summary is made: by the bundle's model, or by picking the article's own sentences.
SUMMARY_METHODS = ("model", "extractive")
ROLES = ("translate", "summarize")
MAX_INPUT_TOKENS = 32768  # no model khulasa serves reads more at once


def _object(raw: Any, where: str, what: str = "an object") -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BundleError(f"{where}: expected {what}, got {raw!r}")
    return raw


def _known(raw: dict[str, Any], known: Collection[str], where: str, word: str = "key") -> None:
    for key in raw:
        if key not in known:
            raise BundleError(f"{where}.{key}: unknown {word}; known: {', '.join(known)}")


def _number(value: Any, kind: type, low: float | None, where: str) -> None:
    ok = isinstance(value, int if kind is int else (int, float)) and not isinstance(value, bool)
    if not ok or (low is not None and value < low) or (kind is float and value != value):
        wanted = "an integer" if kind is int else "a number"
        bound = "" if low is None else f" of at least {low}"
        raise BundleError(f"{where}: expected {wanted}{bound}, got {value!r}")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BundleError(f"{where}: expected a string, got {value!r}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BundleError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


# Decoding options a manifest may set per task: (kind, smallest value).
_BOUNDS: dict[str, tuple[type, float | None]] = {
    "beam_size": (int, 1),
    "length_penalty": (float, None),
    "repetition_penalty": (float, 0.0),
    "no_repeat_ngram_size": (int, 0),
    "max_length_ratio": (float, 0.0),
    "max_length_extra": (int, 0),
    "max_decoding_length": (int, 1),
    "min_decoding_length": (int, 0),
    "min_length_ratio": (float, 0.0),
    "max_words": (int, 1),
}


@dataclass(frozen=True)
class Decoding:
    """How one task decodes. None: not set in the manifest (the engines' defaults apply, see
    models/engines/base.py, and to_dict leaves it out, so a manifest reads back as written)."""

    beam_size: int | None = None
    length_penalty: float | None = None
    repetition_penalty: float | None = None
    no_repeat_ngram_size: int | None = None
    # The output's length bound: ratio × source tokens + extra, or a fixed max_decoding_length.
    max_length_ratio: float | None = None
    max_length_extra: int | None = None
    max_decoding_length: int | None = None
    min_decoding_length: int | None = None
    min_length_ratio: float | None = None
    # Words a whole output may have (the summary: 60 when unset, pipeline/summary.py).
    max_words: int | None = None

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Decoding:
        raw = _object(raw, where)
        _known(raw, _BOUNDS, where, "option")
        for option, value in raw.items():
            _number(value, *_BOUNDS[option], f"{where}.{option}")
        return cls(**raw)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def with_option(self, option: str, value: Any, where: str) -> Decoding:
        """A copy with one option changed, checked as a manifest's would be."""
        return Decoding.from_dict({**self.to_dict(), option: value}, where)


@dataclass(frozen=True)
class TokenizerSpec:
    """kind sentencepiece: `source` (and `target`, default the source) model files; kind hf:
    a tokenizer.json `file`. Paths are relative to the model's directory."""

    kind: str
    source: str = ""
    target: str = ""
    file: str = ""

    @classmethod
    def from_dict(cls, raw: Any, where: str, kinds: Collection[str] = ()) -> TokenizerSpec:
        raw = _object(raw, where)
        _known(raw, [f.name for f in fields(cls)], where)
        kind = raw.get("kind")
        if kinds and kind not in kinds:
            raise BundleError(f"{where}.kind: {kind!r} is not one of {', '.join(kinds)}")
        for key, value in raw.items():
            _string(value, f"{where}.{key}")
        return cls(**raw)

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass(frozen=True)
class Prompt:
    """A generator model's instruction for one task; {text} marks where the text goes."""

    user: str
    system: str = ""
    # Worked examples, earlier chat turns of the cached static prompt: (text, answer) pairs.
    examples: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Prompt:
        raw = _object(raw, where)
        _known(raw, ("system", "user", "examples"), where)
        user = raw.get("user")
        if not isinstance(user, str) or "{text}" not in user:
            raise BundleError(f"{where}.user: expected a prompt containing {{text}}, got {user!r}")
        if not isinstance(raw.get("system", ""), str):
            raise BundleError(f"{where}.system: expected a string")
        examples = raw.get("examples", [])
        if not isinstance(examples, list):
            raise BundleError(f"{where}.examples: expected a list of {{text, answer}} objects")
        pairs = []
        for i, example in enumerate(examples):
            example = _object(example, f"{where}.examples[{i}]")
            _known(example, ("text", "answer"), f"{where}.examples[{i}]")
            if not all(isinstance(example.get(k), str) and example[k].strip() for k in ("text", "answer")):
                raise BundleError(f"{where}.examples[{i}]: expected non-empty strings text and answer")
            pairs.append((example["text"], example["answer"]))
        return cls(user=user, system=raw.get("system", ""), examples=tuple(pairs))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"system": self.system, "user": self.user}
        if self.examples:
            out["examples"] = [{"text": t, "answer": a} for t, a in self.examples]
        return out


def _budgets(raw: Any, where: str) -> dict[str, int]:
    """Per-task input budgets over max_input_tokens (e.g. a whole article for "summarize")."""
    if not isinstance(raw, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw.values()):
        raise BundleError(f"{where}: max_input_tokens_by_task must map task names to positive integers")
    _known(raw, ROLES, f"{where}.max_input_tokens_by_task", "task")
    return dict(raw)


def _tasks(raw: Any, where: str) -> dict[str, Any]:
    raw = _object(raw, where, "an object of tasks")
    for task in raw:
        if task not in ROLES:
            raise BundleError(f"{where}.{task}: expected a task ({', '.join(ROLES)})")
    return raw


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path  # the model's directory: relative in a recipe, under the bundle once loaded
    engine: str
    family: str
    tokenizer: TokenizerSpec
    max_input_tokens: int
    decoding: dict[str, Decoding] = field(default_factory=dict)
    quantization: str = ""
    source: str = ""
    license: str = ""
    source_prefix: tuple[str, ...] = ()
    source_suffix: tuple[str, ...] = ()
    target_prefix: tuple[str, ...] = ()
    chat_format: str = ""
    end_tokens: tuple[str, ...] = ()
    prompts: dict[str, Prompt] = field(default_factory=dict)
    max_input_tokens_by_task: dict[str, int] = field(default_factory=dict)
    # A translated segment whose confidence (confidence.py, 0 to 1) is below this gets the
    # warning "low_confidence"; None: confidence.LOW_CONFIDENCE.
    low_confidence: float | None = None

    def file(self, relative: str) -> Path:
        return self.path / relative

    def input_tokens(self, task: str) -> int:
        """The most source tokens one call of `task` takes."""
        return int(self.max_input_tokens_by_task.get(task, self.max_input_tokens))

    def options(self, task: str) -> Decoding:
        return self.decoding.get(task, Decoding())

    @classmethod
    def from_dict(
        cls, name: str, raw: Any, where: str, root: Path = Path(), engines: Collection[str] = (), tokenizers: Collection[str] = ()
    ) -> ModelEntry:
        """engines, tokenizers: the kinds this server can run (any, when empty)."""
        raw = _object(raw, where)
        for key in ("engine", "path", "family", "tokenizer", "max_input_tokens"):
            if key not in raw:
                raise BundleError(f"{where}: missing required key '{key}'")
        _known(raw, [f.name for f in fields(cls) if f.name != "name"], where)
        engine = raw["engine"]
        if engines and engine not in engines:
            raise BundleError(f"{where}: engine '{engine}' is not one of {', '.join(engines)}")
        tokens = raw["max_input_tokens"]
        _number(tokens, int, MIN_BUDGET, f"{where}.max_input_tokens")
        if tokens > MAX_INPUT_TOKENS:
            raise BundleError(f"{where}.max_input_tokens: {tokens} is more than any model reads at once ({MAX_INPUT_TOKENS})")
        low_confidence = raw.get("low_confidence")
        if low_confidence is not None:
            _number(low_confidence, float, 0.0, f"{where}.low_confidence")
            if low_confidence > 1:
                raise BundleError(f"{where}.low_confidence: expected a number from 0 to 1, got {low_confidence!r}")
        decoding = {
            task: Decoding.from_dict(options, f"{where}.decoding.{task}")
            for task, options in _tasks(raw.get("decoding", {}), f"{where}.decoding").items()
        }

        def text(key: str) -> str:
            return _string(raw[key], f"{where}.{key}") if key in raw else ""

        def tokens_of(key: str) -> tuple[str, ...]:
            return _strings(raw[key], f"{where}.{key}") if key in raw else ()

        return cls(
            name=name,
            path=root / text("path"),
            engine=engine,
            family=text("family"),
            tokenizer=TokenizerSpec.from_dict(raw["tokenizer"], f"{where}.tokenizer", tokenizers),
            max_input_tokens=tokens,
            decoding=decoding,
            quantization=text("quantization"),
            source=text("source"),
            license=text("license"),
            source_prefix=tokens_of("source_prefix"),
            source_suffix=tokens_of("source_suffix"),
            target_prefix=tokens_of("target_prefix"),
            chat_format=text("chat_format"),
            end_tokens=tokens_of("end_tokens"),
            prompts={
                task: Prompt.from_dict(prompt, f"{where}.prompts.{task}")
                for task, prompt in _tasks(raw.get("prompts", {}), f"{where}.prompts").items()
            },
            max_input_tokens_by_task=_budgets(raw.get("max_input_tokens_by_task", {}), where),
            low_confidence=None if low_confidence is None else float(low_confidence),
        )

    def to_dict(self, root: Path | None = None) -> dict[str, Any]:
        """The manifest form; the path relative to `root` (a loaded entry's bundle)."""
        out: dict[str, Any] = {
            "path": (self.path.relative_to(root) if root is not None else self.path).as_posix(),
            "engine": self.engine,
            "family": self.family,
        }
        for key in ("quantization", "source", "license"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["tokenizer"] = self.tokenizer.to_dict()
        for key in ("source_prefix", "source_suffix", "target_prefix", "chat_format", "end_tokens"):
            value = getattr(self, key)
            if value:
                out[key] = list(value) if isinstance(value, tuple) else value
        out["max_input_tokens"] = self.max_input_tokens
        if self.max_input_tokens_by_task:
            out["max_input_tokens_by_task"] = dict(self.max_input_tokens_by_task)
        if self.prompts:
            out["prompts"] = {task: prompt.to_dict() for task, prompt in self.prompts.items()}
        out["decoding"] = {task: options.to_dict() for task, options in self.decoding.items()}
        if self.low_confidence is not None:
            out["low_confidence"] = self.low_confidence
        return out

    def require_prompt(self, task: str, where: str) -> None:
        """A generator model needs a prompt for each role it serves, with the text's place in it."""
        if task not in self.prompts:
            raise BundleError(f"{where}.prompts.{task}.user: expected a prompt containing {{text}}, got None")
