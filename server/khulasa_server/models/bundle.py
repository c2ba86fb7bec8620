"""A bundle: a directory of CTranslate2 models and tokenizers described by khulasa.json.

The manifest says which model serves which role ("translate", "summarize"), how to tokenize,
prompt and decode for each, and the sha256 of every file, so a truncated copy or a swapped
file is caught before serving. The model entries' typed form, and their checks, are
schema.py's.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from khulasa_server.errors import BundleError
from khulasa_server.models.schema import ROLES, SUMMARY_METHODS, ModelEntry

__all__ = ["Bundle", "ModelEntry", "ROLES", "MANIFEST", "load", "write_manifest", "resolve", "khulasa_home"]

MANIFEST = "khulasa.json"
FORMAT = 1


def khulasa_home() -> Path:
    return Path(os.environ.get("KHULASA_HOME") or Path.home() / ".cache" / "khulasa")


def resolve(name_or_path: str) -> Path:
    """A path to a bundle directory, or a bundle name under $KHULASA_HOME/bundles."""
    path = Path(name_or_path).expanduser()
    if path.is_dir() or os.sep in name_or_path or name_or_path.startswith("."):
        return path
    return khulasa_home() / "bundles" / name_or_path


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
    """manifest["models"] maps names to ModelEntry records: every bundle's entries are written
    by the schema's to_dict, so a recipe cannot write what the server would refuse to read."""
    models = manifest.get("models", {})
    for name, entry in models.items():
        if not isinstance(entry, ModelEntry) or entry.name != name:
            raise TypeError(f"models.{name}: expected a ModelEntry named {name!r}, got {entry!r}")
    models = {name: entry.to_dict() for name, entry in models.items()}
    manifest = dict(manifest, models=models, format=FORMAT, checksums=checksums(root))
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(root / MANIFEST)


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise BundleError(f"{where}: missing required key '{key}'")
    return mapping[key]


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
    from khulasa_server.models.engines import ENGINES, TOKENIZERS  # what this server can run

    models = {
        name: ModelEntry.from_dict(name, entry, f"{manifest_path}: models.{name}", root, ENGINES, TOKENIZERS)
        for name, entry in _require(raw, "models", str(manifest_path)).items()
    }
    roles = _require(raw, "roles", str(manifest_path))
    for role in ROLES:
        if roles.get(role) not in models:
            raise BundleError(f"{manifest_path}: role '{role}' must name one of the models {sorted(models)}")
        if getattr(ENGINES[models[roles[role]].engine], "takes_notes", False):  # prompted: an instruction per role
            models[roles[role]].require_prompt(role, f"{manifest_path}: models.{roles[role]}")
    if verify_checksums:
        verify(root, _require(raw, "checksums", str(manifest_path)))
    languages = raw.get("languages", {})
    summary_method = raw.get("summary_method", "model")
    if summary_method not in SUMMARY_METHODS:
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
