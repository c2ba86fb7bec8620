"""The command lines as people type them: options before or after the command, a typo answered
with that command's usage, --version everywhere, a host without a port, bad numbers refused,
completion of option values (bash, zsh, fish), every server default in --help."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from importlib import metadata

import pytest
from conftest import program
from test_cli import BIN, _start, khulasa, wait_serving
from test_client import certs, secure_server  # noqa: F401  (fixtures)

from khulasa_client import Client, __version__
from khulasa_client.connection import Connection
from khulasa_server.service.config import Settings

VERSION = metadata.version("khulasa")


def test_options_work_after_the_command(server, seed_text, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(seed_text, encoding="utf-8")
    address = f"127.0.0.1:{server.port}"
    run = khulasa("digest", str(article), "--server", address, "--format", "json", "--timeout", "60", "--retries", "1")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["paragraphs"]) == 11
    # After the command wins over before it.
    assert khulasa("--server", "127.0.0.1:1", "health", "--server", address).stdout == "SERVING\n"


def test_connection_options_after_the_command(secure_server, certs, tmp_path):  # noqa: F811
    server, _ = secure_server
    token = tmp_path / "token"
    token.write_text("alpha-token\n")
    base = ["--server", f"127.0.0.1:{server.port}", "--tls-ca", str(certs / "ca.pem"), "--tls-server-name", "localhost"]
    run = khulasa("info", *base, "--token-file", str(token))
    assert run.returncode == 0, run.stderr
    assert khulasa("info", *base, "--token", "alpha-token").returncode == 0
    assert khulasa("info", *base).returncode == 2  # no token: UNAUTHENTICATED


def test_a_typo_in_a_command_shows_that_commands_usage():
    run = khulasa("digest", "article.txt", "--fromat", "json")
    assert run.returncode == 2
    assert run.stderr.startswith("usage: khulasa digest") and "unrecognized arguments: --fromat" in run.stderr


@pytest.mark.parametrize("args, named", [(["--timeout", "-5"], "--timeout"), (["--retries", "-1"], "--retries"),
                                         (["--timeout", "0"], "--timeout"), (["--timeout", "nan"], "--timeout")])
def test_negative_numbers_are_usage_errors(args, named):
    for argv in ([*args, "health"], ["health", *args]):
        run = khulasa(*argv)
        assert run.returncode == 2 and "usage: khulasa" in run.stderr and f"argument {named}" in run.stderr, argv


def test_version_everywhere(bundles):
    assert __version__ == VERSION
    assert khulasa("--version").stdout == f"khulasa {VERSION}\n"
    for prog in ("khulasa-server", "khulasa-models"):
        run = subprocess.run([str(BIN / prog), "--version"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stdout == f"{prog} {VERSION}\n"
    proc, port = _start("--bundle", str(bundles["tiny"]))
    try:
        with Client(f"127.0.0.1:{port}", timeout=30) as c:
            wait_serving(c)
            assert c.model_info().server_version == VERSION
        assert json.loads(khulasa("--server", f"127.0.0.1:{port}", "info").stdout)["serverVersion"] == VERSION
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_startup_log_names_the_version(bundles):
    proc = subprocess.Popen([str(BIN / "khulasa-server"), "--listen", "127.0.0.1:0", "--bundle", str(bundles["tiny"])],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "KHULASA_LOG_LEVEL": "info"})
    try:
        listening = next(json.loads(line) for line in proc.stderr if '"listening"' in line)
        assert listening["version"] == VERSION
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_a_host_without_a_port_means_50051():
    assert Connection.make("news-mt").targets == ("news-mt:50051",)
    assert Connection.make("a, b:7000,[::1]").targets == ("a:50051", "b:7000", "[::1]:50051")
    assert Connection.make("dns:///news-mt").targets == ("dns:///news-mt:50051",)
    assert Connection.make(["10.0.0.5", "unix:/run/khulasa.sock"]).targets == ("10.0.0.5:50051", "unix:/run/khulasa.sock")
    with Client("localhost") as c:
        assert c.connection.targets == ("localhost:50051",)


def test_bash_completes_option_values(tmp_path):
    script = tmp_path / "khulasa.bash"
    script.write_text(khulasa("completion", "bash").stdout)

    def complete(*words: str) -> list[str]:
        probe = f"source {script}; COMP_WORDS=(khulasa {' '.join(repr(w) for w in words)}); " \
                f"COMP_CWORD={len(words)}; _khulasa; echo \"${{COMPREPLY[@]}}\""
        return subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout.split()

    assert complete("digest", "a.txt", "--format", "") == ["text", "json", "jsonl", "markdown", "html"]
    assert complete("summarize", "a.txt", "--summary-method", "e") == ["extractive"]
    assert complete("completion", "f") == ["fish"]
    assert complete("health", "--ser") == ["--server"]  # connection options after the command too



def test_fish_completion(tmp_path):
    fish = program("fish")
    script = tmp_path / "khulasa.fish"
    script.write_text(khulasa("completion", "fish").stdout)
    assert subprocess.run([fish, "-n", str(script)]).returncode == 0

    def complete(line: str) -> list[str]:
        out = subprocess.run([fish, "-c", f"source {script}; complete -C '{line}'"], capture_output=True, text=True).stdout
        return [row.split("\t")[0] for row in out.splitlines()]

    assert complete("khulasa dig") == ["digest"]
    assert complete("khulasa digest a.txt --format ") == sorted(["text", "json", "jsonl", "markdown", "html"])
    assert "--summary-method" in complete("khulasa summarize --summ")
    assert "--server" in complete("khulasa health --ser")


def test_server_help_shows_every_default():
    run = subprocess.run([str(BIN / "khulasa-server"), "--help"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "COLUMNS": "1000"})
    assert run.returncode == 0
    blocks: dict[str, str] = {}  # each option's lines of help, joined
    for line in run.stdout.split("options:", 1)[1].splitlines():
        if line.startswith("  -"):
            flag = line.split()[0].rstrip(",")
            blocks[flag] = line
        elif line.startswith("   ") and blocks:
            blocks[flag] += " " + line.strip()
    for field in dataclasses.fields(Settings):
        value = getattr(Settings(), field.name)
        shown = {True: "true", False: "false"}[value] if isinstance(value, bool) else value if value != "" else "none"
        flag = "--" + field.name.replace("_", "-")
        assert f"(default: {shown})" in blocks[flag], blocks[flag]
    assert "(default: $KHULASA_CONFIG" in blocks["--config"]
