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

MANIFEST = "khulasa.json"
FORMAT = 1
ROLES = ("translate", "summarize")
ENGINES = ("seq2seq", "generator")


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


def _model_entry(root: Path, name: str, raw: dict[str, Any]) -> ModelEntry:
    where = f"{root / MANIFEST}: models.{name}"
    engine = _require(raw, "engine", where)
    if engine not in ENGINES:
        raise BundleError(f"{where}: engine '{engine}' is not one of {', '.join(ENGINES)}")
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
