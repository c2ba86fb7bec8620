"""Session fixtures: tiny bundles built once, real servers on 127.0.0.1 port 0, real channels."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from khulasa_client import Client
from khulasa_server.app import Server
from khulasa_server.service.config import Settings
from khulasa_server.tools.recipes import tiny

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "tests" / "data" / "articles"
SAMPLE = ARTICLES / "politics_talks.txt"  # the main sample: quotes, a list, both digit forms, Latin names
TEST_LIMITS = dict(max_text_chars=20_000, max_texts=8)


def program(*names: str) -> str:
    """The path of a system program the suite needs (Chromium, fish). A missing one fails, never
    skips: `make install` installs every one (its `deps` step, with apt-get)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"{names[0]} is missing: `make deps` (run by `make install`) installs it")


@pytest.fixture(scope="session")
def bundles(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    return {kind: tiny.build(kind, root / kind) for kind in ("tiny", "tiny-llm")}


@pytest.fixture(scope="session")
def sample_articles() -> dict[str, str]:
    """The sample articles written for these tests, by file stem. A missing one fails, never skips."""
    found = {p.stem: p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))}
    if SAMPLE.stem not in found or len(found) < 4:
        pytest.fail(f"sample articles missing from {ARTICLES}: the suite runs from the repo alone")
    return found


@pytest.fixture(scope="session")
def seed_text(sample_articles) -> str:
    return sample_articles[SAMPLE.stem]


def flags_command(tmp_path: Path, rows: list[dict]) -> tuple[subprocess.CompletedProcess, dict]:
    """`khulasa-models flags` over hand-labelled rows written to a file: the finished process
    (its printed tables) and its JSON result."""
    data, out = tmp_path / "labelled.jsonl", tmp_path / "flags.json"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "khulasa_server.tools.models_cli", "flags", "--data", str(data), "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run, json.loads(out.read_text())


def start_server(bundle: Path, load: bool = True, **overrides) -> Server:
    settings = dataclasses.replace(Settings(), bundle=str(bundle), **{"listen": "127.0.0.1:0", **TEST_LIMITS, **overrides})
    server = Server(settings)
    server.start()
    if load:
        server.load()
    return server


@pytest.fixture(scope="session")
def server(bundles):
    s = start_server(bundles["tiny"], http_listen="127.0.0.1:0")  # gRPC and HTTP, one pipeline
    yield s
    s.stop(0)


@pytest.fixture(scope="session")
def llm_server(bundles):
    s = start_server(bundles["tiny-llm"])
    yield s
    s.stop(0)


@pytest.fixture(scope="session")
def client(server):
    with Client(f"127.0.0.1:{server.port}", timeout=120) as c:
        yield c


@pytest.fixture(scope="session")
def llm_client(llm_server):
    with Client(f"127.0.0.1:{llm_server.port}", timeout=120) as c:
        yield c


@pytest.fixture(scope="session")
def pipeline(server):
    return server.core.pipeline
