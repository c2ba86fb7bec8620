"""Failover on loopback: three khulasa-server processes, 16 concurrent clients, one replica
killed with SIGKILL mid-run and another restarted with SIGTERM + --drain. Every request is
answered exactly once and no error reaches a caller: the client retries UNAVAILABLE on another
replica, which is safe because every khulasa call is idempotent (no state is kept between
requests; the same request gives the same answer)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from procs import Sessions, free_port, wait_for, wait_serving

import khulasa_client.core as client_module  # where the retry policy is applied
from khulasa_client import Client

SERVER = str(Path(sys.executable).parent / "khulasa-server")
CLIENTS = 16
MAX_PER_CLIENT = 100  # the bound; callers stop once the restarted replica has served a while


class Replica:
    def __init__(self, sessions: Sessions, bundle: Path, logs: Path, n: int):
        self.sessions, self.bundle, self.logs, self.n = sessions, bundle, logs, n
        self.port = free_port()
        self.starts = 0
        self.proc = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = open(self.logs / f"replica{self.n}-{self.starts}.log", "w")
        self.proc = self.sessions.popen(
            [SERVER, "--bundle", str(self.bundle), "--listen", self.target, "--intra-threads", "1",
             "--drain", "1", "--grace", "10", "--max-text-chars", "20000"],
            stdout=log, stderr=log,
        )

    def wait_serving(self) -> None:
        wait_serving(self.target, 60)

    def answered(self, life: str = "*") -> int:
        """Digest calls this replica answered OK, from its JSON logs (they outlive a SIGKILL)."""
        count = 0
        for path in self.logs.glob(f"replica{self.n}-{life}.log"):
            for line in path.read_text().splitlines():
                if line.startswith("{"):
                    entry = json.loads(line)
                    count += entry.get("msg") == "rpc" and entry.get("rpc") == "Digest" and entry.get("code") == "OK"
        return count

    def answered_since_restart(self) -> int:
        return self.answered(str(self.starts))


@pytest.fixture
def replicas(bundles, tmp_path):
    sessions = Sessions()
    group = [Replica(sessions, bundles["tiny"], tmp_path, n) for n in range(3)]
    try:
        for r in group:
            r.start()
        for r in group:
            r.wait_serving()
        yield group
    finally:
        sessions.kill_all()


def test_kill_and_rolling_restart_lose_no_request(replicas, sample_articles, monkeypatch):
    sentences = [s for text in sample_articles.values() for s in text.splitlines() if len(s) > 30]
    targets = [r.target for r in replicas]
    retried: Counter = Counter()
    real_retry_wait = client_module.retry_wait

    def counting_retry_wait(policy, code, *args):  # instrumentation only: the client's own policy decides
        retried[code] += 1
        return real_retry_wait(policy, code, *args)

    monkeypatch.setattr(client_module, "retry_wait", counting_retry_wait)
    answers: Counter = Counter()
    sent: set[str] = set()
    errors: list[str] = []
    progress = threading.Semaphore(0)
    stop = threading.Event()
    lock = threading.Lock()

    def caller(n: int) -> None:
        # Half the callers name the replicas as a list (the client uses them in turn and fails
        # over), half as one multi-address name balanced by gRPC's round_robin (as dns:/// of a
        # headless Service yields).
        target = targets if n % 2 == 0 else ["ipv4:" + ",".join(targets)]
        with Client(target, timeout=60) as c:
            for k in range(MAX_PER_CLIENT):
                if stop.is_set():
                    return
                id = f"c{n}-{k}"
                with lock:
                    sent.add(id)
                try:
                    response = c.digest(f"{sentences[(n * MAX_PER_CLIENT + k) % len(sentences)]} ({id})", id=id)
                    with lock:
                        answers[response.id] += 1
                except Exception as exc:
                    with lock:
                        errors.append(f"{id}: {exc}")
                progress.release()

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()

    def wait_done(count: int) -> None:
        for _ in range(count):
            assert progress.acquire(timeout=120), "callers stalled"

    try:
        wait_done(80)
        victim, restarted, survivor = replicas
        victim.proc.send_signal(signal.SIGKILL)
        wait_done(80)
        restarted.proc.send_signal(signal.SIGTERM)  # health NOT_SERVING for --drain 1 s, then in-flight calls finish
        assert restarted.proc.wait(timeout=30) == 0
        restarted.start()
        restarted.wait_serving()
        wait_for(lambda: restarted.answered_since_restart() >= 20, 120, "calls on the restarted replica")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=180)
    assert not any(t.is_alive() for t in threads)
    total = len(sent)

    assert errors == []
    assert set(answers) == sent
    assert set(answers.values()) == {1}  # each request answered exactly once
    shares = {f"replica {r.n}": r.answered() for r in replicas}
    served = sum(shares.values())
    print(f"\nfailover: {total} requests, {CLIENTS} clients, 0 errors; retries by code {dict(retried)}; "
          f"answered by replica (server logs): "
          + ", ".join(f"{name} {n} ({n / served:.0%})" for name, n in shares.items())
          + f"; replica 1 after its restart: {restarted.answered_since_restart()}")
    assert retried["UNAVAILABLE"] > 0  # the kill and the restart did hit calls, and they were retried
    assert served >= total  # every answer came from a replica; a call cut by the kill was redone
    assert min(shares.values()) > 0
