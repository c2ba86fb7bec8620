"""Every snippet of README.md runs as written, and so does every Python snippet of docs/client.md:
against a real server on the tiny bundle (gRPC and HTTP), with the sample article in examples/.

The addresses the snippets name (127.0.0.1:50051, 127.0.0.1:8080) are the test server's, and
`.venv/bin/` is this interpreter's bin directory. A command no rule here knows how to check
fails the test, so a snippet added to the front door cannot go untried."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, program
from procs import free_port, wait_serving

BIN = Path(sys.executable).parent
GRPC_ADDRESS = "127.0.0.1:50051"
HTTP_ADDRESS = "127.0.0.1:8080"
SNIPPET_TIMEOUT = 180


def fenced_blocks(path: Path) -> list[tuple[str, str, int]]:
    """(language, code, line of the opening fence) of every fenced block of a Markdown file."""
    found, lang, start, lines = [], None, 0, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, start, lines = line[3:].strip(), number, []
            else:
                found.append((lang, "\n".join(lines) + "\n", start))
                lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, f"{path.name}: the block opened on line {start} is never closed"
    return found


def shell_commands(code: str) -> list[str]:
    """The block's commands: continuation lines joined, comments and blank lines dropped."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(shlex.join(words) if "&&" not in words else line.split(" #")[0].strip())
    return commands


README = fenced_blocks(ROOT / "README.md")
CLIENT_PYTHON = [b for b in fenced_blocks(ROOT / "docs" / "client.md") if b[0] == "python"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory like a checkout for the snippets: examples/ as in the repo, nothing else, so
    that what a snippet writes lands in a temporary place."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


@pytest.fixture
def addresses(server) -> dict[str, str]:
    return {GRPC_ADDRESS: f"127.0.0.1:{server.port}", HTTP_ADDRESS: f"127.0.0.1:{server.http.port}"}


def localize(code: str, addresses: dict[str, str]) -> str:
    for written, actual in addresses.items():
        code = code.replace(written, actual)
    return code.replace(".venv/bin/", f"{BIN}/")


def run(args: list[str] | str, cwd: Path, env_extra: dict[str, str] | None = None, shell: bool = False):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(args, cwd=cwd, env=env, shell=shell, capture_output=True, text=True, timeout=SNIPPET_TIMEOUT)


def test_the_front_door_has_a_snippet_for_each_way_in():
    languages = [lang for lang, _, _ in README]
    assert set(languages) <= {"sh", "python"}, f"README blocks in a language this test cannot run: {languages}"
    commands = [c for lang, code, _ in README if lang == "sh" for c in shell_commands(code)]
    assert "make serve" in commands and "make test" in commands
    assert any(c.startswith(".venv/bin/khulasa digest examples/article.txt") for c in commands)
    assert any(c.startswith("curl ") for c in commands), "the reading page's listener: a LibreTranslate call"
    assert languages.count("python") >= 1, "a gRPC snippet in Python"
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250, "the front door stays short"


@pytest.mark.parametrize("code,line", [(c, n) for lang, c, n in README + CLIENT_PYTHON if lang == "python"])
def test_python_snippet_runs(code, line, workdir, addresses):
    result = run([sys.executable, "-c", localize(code, addresses)], workdir)
    assert result.returncode == 0, f"snippet of line {line} failed:\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"snippet of line {line} printed nothing"


def check_make(command: str) -> None:
    """make is not run (it would build the real model or apt-get): its dry run must show that the
    target exists and does what the README says."""
    words = shlex.split(command)
    result = run(["make", "-n", *words[1:]], ROOT)
    assert result.returncode == 0, f"{command}: {result.stderr}"
    if words[1] == "serve":
        assert "--http-listen 127.0.0.1:8080" in result.stdout, "make serve must turn the reading page on"
        assert "open http://127.0.0.1:8080/" in result.stdout, "make serve must say where to open it"
        assert "[server]" in result.stdout and "[server,test" not in result.stdout, "serving needs no test tools"


def check_pip_install(command: str) -> None:
    """Not run (it downloads): every extra it names must exist, and one of them serves."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    named = [e for spec in re.findall(r"\[([a-z,]+)\]", command) for e in spec.split(",")]
    assert named and set(named) <= set(extras), f"{command}: extras {named}, pyproject has {sorted(extras)}"


def check_models_build(command: str, workdir: Path) -> None:
    """Not run for the real model (1.1 GB): the name must be one `khulasa-models build` knows."""
    name = shlex.split(command)[-1]
    usage = run([str(BIN / "khulasa-models"), "build", "--help"], workdir).stdout
    assert re.search(rf"[{{,]{re.escape(name)}[,}}]", usage), f"{command}: no bundle named {name}"


def check_server(command: str, workdir: Path, bundle: Path) -> None:
    """Started for real, on the tiny bundle and free ports, until both its listeners serve."""
    grpc_port, http_port = free_port(), free_port()
    args = shlex.split(command.replace(".venv/bin/", f"{BIN}/").replace(HTTP_ADDRESS, f"127.0.0.1:{http_port}"))
    proc = subprocess.Popen(
        [*args, "--bundle", str(bundle), "--listen", f"127.0.0.1:{grpc_port}"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_serving(f"127.0.0.1:{grpc_port}", timeout=120)
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/", timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read(), f"{command}: no reading page"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def check_run(command: str, workdir: Path, addresses: dict[str, str]) -> None:
    """Run as written (addresses and .venv/bin/ aside), with the test server as KHULASA_SERVER's
    default would be: it must exit 0 and print or write something."""
    before = set(workdir.rglob("*"))
    result = run(localize(command, addresses), workdir, {"KHULASA_SERVER": addresses[GRPC_ADDRESS]}, shell=True)
    assert result.returncode == 0, f"{command}:\n{result.stderr[-3000:]}"
    written = set(workdir.rglob("*")) - before
    assert result.stdout.strip() or written, f"{command}: printed and wrote nothing"
    if command.startswith("curl "):
        answer = json.loads(result.stdout)
        assert "error" not in answer and answer["translatedText"], answer


def test_shell_snippets_run_or_are_checked(workdir, addresses, bundles):
    program("curl")
    checked = 0
    for lang, code, line in README:
        if lang != "sh":
            continue
        for command in shell_commands(code):
            program_name = Path(shlex.split(command)[0]).name
            if program_name == "make":
                check_make(command)
            elif program_name == "python3" and re.search(r"\bpip install ", command):
                check_pip_install(command)
            elif program_name == "khulasa-models" and command.split()[1] == "build":
                check_models_build(command, workdir)
            elif program_name == "khulasa-server":
                check_server(command, workdir, bundles["tiny"])
            elif program_name in ("khulasa", "curl"):
                check_run(command, workdir, addresses)
            else:
                pytest.fail(f"README line {line}: no check for `{command}`: add one to {Path(__file__).name}")
            checked += 1
    assert checked >= 8
