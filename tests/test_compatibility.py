"""docs/compatibility.md in practice: khulasa.v1 only grows. Every message field, enum value and
RPC of the released contract (tests/data/khulasa.v1-0.1.0.json) is still there with the same
number, type and streaming; nothing new reuses a released number. Plus the files a user looks
for: LICENSE, CHANGELOG.md, the policy itself."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from google.protobuf import descriptor_pb2
from khulasa.v1 import khulasa_pb2

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "data" / "khulasa.v1-0.1.0.json"


def contract() -> dict[str, str]:
    """One line per field and RPC: 'Message.field' → 'number type label [oneof]'."""
    fd = descriptor_pb2.FileDescriptorProto()
    khulasa_pb2.DESCRIPTOR.CopyToProto(fd)
    T, L = descriptor_pb2.FieldDescriptorProto.Type, descriptor_pb2.FieldDescriptorProto.Label
    out: dict[str, str] = {"package": fd.package}

    def messages(items, prefix: str) -> None:
        for m in items:
            name = prefix + m.name
            for f in m.field:
                kind = T.Name(f.type).removeprefix("TYPE_").lower() + (f" {f.type_name}" if f.type_name else "")
                oneof = f" oneof {m.oneof_decl[f.oneof_index].name}" if f.HasField("oneof_index") else ""
                out[f"{name}.{f.name}"] = f"{f.number} {kind} {L.Name(f.label).removeprefix('LABEL_').lower()}{oneof}"
            messages(m.nested_type, name + ".")

    messages(fd.message_type, "")
    for e in fd.enum_type:
        for v in e.value:
            out[f"{e.name}.{v.name}"] = f"enum {v.number}"
    for s in fd.service:
        for m in s.method:
            out[f"{s.name}/{m.name}"] = (f"{'stream ' if m.client_streaming else ''}{m.input_type} -> "
                                        f"{'stream ' if m.server_streaming else ''}{m.output_type}")
    return out


def test_released_contract_is_unchanged_and_numbers_are_not_reused():
    released = json.loads(BASELINE.read_text())
    now = contract()
    changed = {k: (v, now.get(k)) for k, v in released.items() if now.get(k) != v}
    assert not changed, f"khulasa.v1 changed incompatibly (see docs/compatibility.md): {changed}"
    numbers = {}
    for key, value in now.items():
        if "/" not in key and key != "package" and not value.startswith("enum"):
            message = key.rsplit(".", 1)[0]
            numbers.setdefault(message, {}).setdefault(value.split()[0], []).append(key)
    reused = {m: n for m, by in numbers.items() for n, keys in by.items() if len(keys) > 1}
    assert not reused


def test_license_changelog_and_policy_are_there():
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text  # the full text, not a pointer to it
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and "LICENSE" in project.get("license-files", [])
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## \S+ .*Unreleased", changelog, re.M) and f"## {project['version']}" in changelog
    policy = (ROOT / "docs" / "compatibility.md").read_text()
    assert "khulasa.v1" in policy and "field numbers" in policy
