"""Processes the scale-out tests start: each in a session of its own, so that everything it
spawns (a Ray driver's GCS, raylet and workers; `ray start`'s daemons) can be found by session
id and killed, and nothing else on the shared machine is touched."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields after the command name: state, ppid, pgrp, session…


def session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(entry)
            if fields and fields[0] != "Z" and int(fields[3]) == sid:
                pids.append(int(entry))
    return pids


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_sessions(sids: list[int]) -> None:
    """SIGKILL every live process of these sessions (a few rounds: daemons may still fork)."""
    for _ in range(5):
        pids = [p for sid in sids for p in session_pids(sid)]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


class Sessions:
    """Starts processes in new sessions and remembers them, for kill_all() at teardown."""

    def __init__(self):
        self.sids: list[int] = []

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.sids.append(proc.pid)
        return proc

    def run(self, args: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
        proc = self.popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_sessions([proc.pid])
            out, err = proc.communicate()
            raise AssertionError(f"{args[0]} ran past {timeout} s; stderr:\n{err[-4000:]}") from None
        return subprocess.CompletedProcess(args, proc.returncode, out, err)

    def kill_all(self) -> None:
        kill_sessions(self.sids)


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_serving(target: str, timeout: float) -> None:
    """Until a khulasa server's health says SERVING (it listens before its bundle is loaded)."""
    from khulasa_client import Client

    with Client(target, timeout=2) as client:
        def serving() -> bool:
            try:
                return client.health() == "SERVING"
            except Exception:  # not listening yet
                return False

        wait_for(serving, timeout, f"{target} SERVING", every=0.1)
