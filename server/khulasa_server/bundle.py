"""A bundle: a directory of CTranslate2 models and tokenizers described by khulasa.json.

The manifest says which model serves which role ("translate", "summarize"), how to tokenize,
prompt and decode for each, and the sha256 of every file, so a truncated copy or a swapped
file is caught before serving.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BundleError
from .text.segment import MIN_BUDGET

MANIFEST = "khulasa.json"
FORMAT = 1
ROLES = ("translate", "summarize")
ENGINES = ("seq2seq", "generator")
MAX_INPUT_TOKENS = 32768  # no model khulasa serves reads more at once
# Decoding options a manifest may set per task: (kind, smallest value). Anything else is
# refused at load: a misspelled option would otherwise be ignored without a word.
DECODING = {
    "beam_size": (int, 1),
    "length_penalty": (float, None),
    "repetition_penalty": (float, 0.0),
    "no_repeat_ngram_size": (int, 0),
    "max_length_ratio": (float, 0.0),
    "max_length_extra": (int, 0),
    "max_decoding_length": (int, 1),
    "min_decoding_length": (int, 0),
    "min_length_ratio": (float, 0.0),
}


def khulasa_home() -> Path:
    return Path(os.environ.get("KHULASA_HOME") or Path.home() / ".cache" / "khulasa")


def resolve(name_or_path: str) -> Path:
    """A path to a bundle directory, or a bundle name under $KHULASA_HOME/bundles."""
    path = Path(name_or_path).expanduser()
    if path.is_dir() or os.sep in name_or_path or name_or_path.startswith("."):
        return path
    return khulasa_home() / "bundles" / name_or_path


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    engine: str
    family: str
    tokenizer: dict[str, Any]
    max_input_tokens: int
    decoding: dict[str, dict[str, Any]]
    quantization: str = ""
    source: str = ""
    license: str = ""
    source_prefix: tuple[str, ...] = ()
    source_suffix: tuple[str, ...] = ()
    target_prefix: tuple[str, ...] = ()
    chat_format: str = ""
    end_tokens: tuple[str, ...] = ()
    prompts: dict[str, dict[str, str]] = field(default_factory=dict)
    # Per-task input budgets over max_input_tokens (e.g. a whole article for "summarize").
    max_input_tokens_by_task: dict[str, int] = field(default_factory=dict)

    def file(self, relative: str) -> Path:
        return self.path / relative

    def input_tokens(self, task: str) -> int:
        """The most source tokens one call of `task` takes."""
        return int(self.max_input_tokens_by_task.get(task, self.max_input_tokens))


@dataclass(frozen=True)
class Bundle:
    path: Path
    name: str
    version: str
    source_languages: tuple[str, ...]
    target_language: str
    models: dict[str, ModelEntry]
    roles: dict[str, str]
    manifest: dict[str, Any]
    summary_method: str = "model"  # or "extractive": the default when a request names none

    def model_for(self, role: str) -> ModelEntry:
        return self.models[self.roles[role]]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under root except the manifest, keyed by POSIX relative path."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel != MANIFEST:
            out[rel] = sha256_file(path)
    return out


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    manifest = dict(manifest, format=FORMAT, checksums=checksums(root))
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(root / MANIFEST)


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise BundleError(f"{where}: missing required key '{key}'")
    return mapping[key]


def _number(value: Any, kind: type, low: float | None, where: str) -> None:
    ok = isinstance(value, int if kind is int else (int, float)) and not isinstance(value, bool)
    if not ok or (low is not None and value < low) or (kind is float and value != value):
        wanted = "an integer" if kind is int else "a number"
        bound = "" if low is None else f" of at least {low}"
        raise BundleError(f"{where}: expected {wanted}{bound}, got {value!r}")


def _strings(value: Any, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BundleError(f"{where}: expected a list of non-empty strings, got {value!r}")


def _check_entry(raw: dict[str, Any], where: str) -> None:
    """Values a model entry must hold for the server to work at all, checked before serving:
    a nonsense value would otherwise pass health checks and fail every call."""
    tokens = raw.get("max_input_tokens")
    _number(tokens, int, MIN_BUDGET, f"{where}.max_input_tokens")
    if tokens > MAX_INPUT_TOKENS:
        raise BundleError(f"{where}.max_input_tokens: {tokens} is more than any model reads at once ({MAX_INPUT_TOKENS})")
    decoding = raw.get("decoding", {})
    if not isinstance(decoding, dict):
        raise BundleError(f"{where}.decoding: expected an object of tasks, got {decoding!r}")
    for task, options in decoding.items():
        if task not in ROLES or not isinstance(options, dict):
            raise BundleError(f"{where}.decoding.{task}: expected a task ({', '.join(ROLES)}) with an object of options")
        for option, value in options.items():
            if option not in DECODING:
                raise BundleError(f"{where}.decoding.{task}.{option}: unknown option; known: {', '.join(DECODING)}")
            _number(value, *DECODING[option], f"{where}.decoding.{task}.{option}")
    for key in ("source_prefix", "source_suffix", "target_prefix", "end_tokens"):
        if key in raw:
            _strings(raw[key], f"{where}.{key}")
    if not isinstance(raw.get("tokenizer"), dict):
        raise BundleError(f"{where}.tokenizer: expected an object, got {raw.get('tokenizer')!r}")


def _check_prompts(entry: "ModelEntry", role: str, where: str) -> None:
    """A generator model needs a prompt for each role it serves, with the text's place in it."""
    prompt = entry.prompts.get(role) if isinstance(entry.prompts, dict) else None
    user = prompt.get("user") if isinstance(prompt, dict) else None
    if not isinstance(user, str) or "{text}" not in user:
        raise BundleError(f"{where}.prompts.{role}.user: expected a prompt containing {{text}}, got {user!r}")
    if not isinstance(prompt.get("system", ""), str):
        raise BundleError(f"{where}.prompts.{role}.system: expected a string")


def _model_entry(root: Path, name: str, raw: dict[str, Any]) -> ModelEntry:
    where = f"{root / MANIFEST}: models.{name}"
    engine = _require(raw, "engine", where)
    if engine not in ENGINES:
        raise BundleError(f"{where}: engine '{engine}' is not one of {', '.join(ENGINES)}")
    _require(raw, "max_input_tokens", where)
    _check_entry(raw, where)
    return ModelEntry(
        name=name,
        path=root / _require(raw, "path", where),
        engine=engine,
        family=_require(raw, "family", where),
        tokenizer=_require(raw, "tokenizer", where),
        max_input_tokens=int(_require(raw, "max_input_tokens", where)),
        decoding=raw.get("decoding", {}),
        quantization=raw.get("quantization", ""),
        source=raw.get("source", ""),
        license=raw.get("license", ""),
        source_prefix=tuple(raw.get("source_prefix", ())),
        source_suffix=tuple(raw.get("source_suffix", ())),
        target_prefix=tuple(raw.get("target_prefix", ())),
        chat_format=raw.get("chat_format", ""),
        end_tokens=tuple(raw.get("end_tokens", ())),
        prompts=raw.get("prompts", {}),
        max_input_tokens_by_task=_budgets(raw.get("max_input_tokens_by_task", {}), where),
    )


def _budgets(raw: Any, where: str) -> dict[str, int]:
    if not isinstance(raw, dict) or not all(isinstance(v, int) and v > 0 for v in raw.values()):
        raise BundleError(f"{where}: max_input_tokens_by_task must map task names to positive integers")
    return dict(raw)


def verify(root: Path, expected: dict[str, str]) -> None:
    for rel, digest in expected.items():
        path = root / rel
        if not path.is_file():
            raise BundleError(f"bundle {root}: file '{rel}' listed in {MANIFEST} is missing")
        actual = sha256_file(path)
        if actual != digest:
            raise BundleError(
                f"bundle {root}: checksum mismatch for '{rel}' (expected {digest[:12]}…, "
                f"got {actual[:12]}…): the file is corrupt or was replaced; rebuild the bundle"
            )


def load(name_or_path: str | Path, verify_checksums: bool = True) -> Bundle:
    root = resolve(str(name_or_path))
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(
            f"no bundle at {root} ({MANIFEST} not found); build it with 'khulasa-models build "
            f"{root.name}' (make model builds the default), or pass --bundle DIR|NAME"
        )
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{manifest_path}: not valid JSON ({exc})") from exc
    if raw.get("format") != FORMAT:
        raise BundleError(f"{manifest_path}: format {raw.get('format')!r}, this server reads {FORMAT}")
    models = {
        name: _model_entry(root, name, entry)
        for name, entry in _require(raw, "models", str(manifest_path)).items()
    }
    roles = _require(raw, "roles", str(manifest_path))
    for role in ROLES:
        if roles.get(role) not in models:
            raise BundleError(f"{manifest_path}: role '{role}' must name one of the models {sorted(models)}")
        if models[roles[role]].engine == "generator":
            _check_prompts(models[roles[role]], role, f"{manifest_path}: models.{roles[role]}")
    if verify_checksums:
        verify(root, _require(raw, "checksums", str(manifest_path)))
    languages = raw.get("languages", {})
    summary_method = raw.get("summary_method", "model")
    if summary_method not in ("model", "extractive"):
        raise BundleError(f"{manifest_path}: summary_method must be model or extractive, got {summary_method!r}")
    return Bundle(
        path=root,
        name=_require(raw, "name", str(manifest_path)),
        version=str(raw.get("version", "")),
        source_languages=tuple(languages.get("source", ["ar"])),
        target_language=languages.get("target", "en"),
        models=models,
        roles=dict(roles),
        manifest=raw,
        summary_method=summary_method,
    )
