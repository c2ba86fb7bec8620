"""Clients nobody here wrote, against a real server on the tiny bundle: libretranslatepy (PyPI)
over the HTTP API, and Node.js (`node --test tests/node/`: @grpc/grpc-js on every gRPC method,
the `libretranslate` npm package on the HTTP API). Random weights: the English is noise, so
the checks are on shapes, statuses and deterministic behaviour."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import ROOT
from libretranslatepy import LibreTranslateAPI

NODE_TESTS = ROOT / "tests" / "node"


def test_libretranslatepy_gets_arabic_to_english(server):
    lt = LibreTranslateAPI(f"http://127.0.0.1:{server.http.port}/")
    text = "قال الوزير إن المحادثات ستستمر الأسبوع المقبل."
    english = lt.translate(text, source="ar", target="en", timeout=60)
    assert isinstance(english, str) and english.strip() and english != text
    assert lt.translate(text, source="auto", target="en", timeout=60) == english  # same model, same answer
    assert lt.translate("Oil prices rose.", source="auto", target="en", timeout=60) == "Oil prices rose."
    assert lt.detect(text) == [{"confidence": 100.0, "language": "ar"}]
    assert [language["code"] for language in lt.languages()] == ["ar", "en"]


def test_libretranslatepy_sees_errors_as_http_errors(server):
    import urllib.error

    lt = LibreTranslateAPI(f"http://127.0.0.1:{server.http.port}/")
    with pytest.raises(urllib.error.HTTPError) as info:
        lt.translate("hola", source="es", target="en", timeout=60)
    assert info.value.code == 400 and b'"es is not supported"' in info.value.read()


def _node() -> str:
    node = shutil.which("node")
    ready = node and (NODE_TESTS / "node_modules" / "@grpc" / "grpc-js").is_dir()
    if not ready:
        pytest.fail("node and tests/node/node_modules are missing: `make install` installs them (make deps, npm ci)")
    return node


def test_node_clients_grpc_and_libretranslate(server):
    node = _node()
    files = sorted(str(p.relative_to(NODE_TESTS)) for p in NODE_TESTS.glob("*.test.mjs"))
    assert files == ["grpc.test.mjs", "libretranslate.test.mjs"]
    env = {**os.environ, "KHULASA_GRPC": f"127.0.0.1:{server.port}",
           "KHULASA_HTTP": f"http://127.0.0.1:{server.http.port}"}
    run = subprocess.run([node, "--test", "--test-reporter=tap", *files], cwd=NODE_TESTS, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout and "# pass 13" in run.stdout, run.stdout[-2000:]
