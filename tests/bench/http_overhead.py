"""The HTTP front end's cost against gRPC, on one server process (both listeners, one pipeline).

    make bench-bundle && make bench-http     # writes docs/bench/http-overhead.json

Single-sentence translations from c concurrent clients (each sends its next request when the
last is answered), over gRPC (Translate), over HTTP /v1/translate (the proto's JSON) and over
HTTP /translate (LibreTranslate's JSON). The three are interleaved round by round, so that all
see the same machine state (it is shared, and its noise is 10-15 %); each round uses sentences
no other round used (the sentence cache is off anyway). At 1 client the per-request difference
is also measured in pairs: one sentence over gRPC, the next over HTTP, alternately. Then the
front ends alone: English sentences with source "en" come back unchanged without a model call,
so their cost is all transport, parsing, validation and the pipeline's plumbing. Reports
medians over rounds and the ratios HTTP / gRPC. Nothing here asserts a time.

With --baseline-src DIR (a source tree of another version, with server/ and client/), a second
server runs that code on the same bundle and every round measures both, alternately, so the
report has each mode's figures for both and their ratio (this code / that one): whether a
change of the call path costs anything beyond this machine's noise.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, percentile, sentences_and_articles, source_path, target_tokens  # noqa: E402

from khulasa_client import Client  # noqa: E402
from khulasa_server.models.cpu import ctranslate2_cpu

MODES = ("grpc", "http_v1", "libretranslate")


def start(bundle: str, threads: int, src: str = "") -> tuple[subprocess.Popen, dict[str, int]]:
    cmd = [sys.executable, "-m", "khulasa_server.app", "--bundle", bundle, "--listen", "127.0.0.1:0",
           "--http-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--cache-size", "0",
           "--max-queue-tokens", "10000000", "--max-inflight-per-client", "100000",
           "--intra-threads", str(threads), "--no-verify-bundle"]
    env = {**os.environ, "KHULASA_LOG_LEVEL": "info"}
    if src:
        env["PYTHONPATH"] = source_path(src)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    ports: dict[str, int] = {}
    names = {'"msg": "listening"': "grpc", '"msg": "listening (HTTP)"': "http", '"msg": "metrics"': "metrics"}
    for line in proc.stderr:
        for marker, name in names.items():
            if marker in line:
                ports[name] = int(re.search(r'"address": "[^"]*:(\d+)"', line).group(1))
        if len(ports) == 3:
            break
    else:
        raise SystemExit(f"the server exited with {proc.wait()} before listening")
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    with Client(f"127.0.0.1:{ports['grpc']}", timeout=60) as client:
        while client.health() != "SERVING":
            time.sleep(0.05)
    return proc, ports


class Caller:
    """One client of one kind: a gRPC channel or a kept-alive HTTP connection."""

    def __init__(self, mode: str, ports: dict[str, int], source: str = "ar"):
        self.mode, self.source = mode, source
        if mode == "grpc":
            self.client = Client(f"127.0.0.1:{ports['grpc']}", timeout=600)
        else:
            self.conn = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=600)

    def __call__(self, text: str) -> None:
        if self.mode == "grpc":
            self.client.translate([text], source_language=self.source)
            return
        path, body = (("/v1/translate", {"texts": [text], "sourceLanguage": self.source}) if self.mode == "http_v1"
                      else ("/translate", {"q": text, "source": self.source, "target": "en"}))
        self.conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}: {payload[:200]!r}")

    def close(self) -> None:
        (self.client if self.mode == "grpc" else self.conn).close()


def drive(mode: str, ports: dict[str, int], texts: list[str], concurrency: int, source: str = "ar") -> dict:
    callers = [Caller(mode, ports, source) for _ in range(concurrency)]
    for caller, text in zip(callers, itertools.cycle(texts[:1])):
        caller(text)  # connect and warm up outside the timing
    latencies: list[float] = []
    lock = threading.Lock()
    turn = iter(range(1, len(texts)))

    def client(caller: Caller) -> None:
        while True:
            with lock:
                i = next(turn, None)
            if i is None:
                return
            t0 = time.perf_counter()
            caller(texts[i])
            with lock:
                latencies.append(time.perf_counter() - t0)

    before = target_tokens(ports["metrics"])
    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    tokens = target_tokens(ports["metrics"]) - before
    for c in callers:
        c.close()
    return {"requests_per_s": len(latencies) / seconds, "target_tokens_per_s": tokens / seconds,
            "p50_ms": 1000 * percentile(latencies, 50), "p95_ms": 1000 * percentile(latencies, 95)}


def paired(ports: dict[str, int], texts: list[str]) -> dict:
    """At 1 client: each HTTP request right after a gRPC one, on sentences of the same kind."""
    grpc_call, http_call = Caller("grpc", ports), Caller("libretranslate", ports)
    grpc_call(texts[0]), http_call(texts[1])
    differences, grpc_ms = [], []
    for a, b in zip(texts[2::2], texts[3::2]):
        t0 = time.perf_counter()
        grpc_call(a)
        t1 = time.perf_counter()
        http_call(b)
        t2 = time.perf_counter()
        differences.append((t2 - t1) - (t1 - t0))
        grpc_ms.append(t1 - t0)
    grpc_call.close(), http_call.close()
    return {"pairs": len(differences), "grpc_ms_median": round(1000 * statistics.median(grpc_ms), 2),
            "http_minus_grpc_ms_median": round(1000 * statistics.median(differences), 2),
            "http_minus_grpc_ms_p90": round(1000 * percentile(differences, 90), 2)}


def level(servers: dict[str, dict[str, int]], concurrency: int, count: int, rounds: int, take, source: str) -> dict:
    """Every mode on every server `rounds` times at one concurrency, interleaved; medians and
    ratios (HTTP / gRPC on each server; this code / the baseline's, where there is one)."""
    runs: dict[tuple[str, str], list[dict]] = {(name, m): [] for name in servers for m in MODES}
    order = [(name, m) for m in MODES for name in servers]
    for r in range(rounds):
        for name, mode in order[r % len(order):] + order[: r % len(order)]:  # who goes first rotates
            runs[(name, mode)].append(drive(mode, servers[name], take(count + 1), concurrency, source))
    result = {"concurrency": concurrency, "source_language": source, "requests_per_round": count, "rounds": rounds}
    rate = "target_tokens_per_s" if source == "ar" else "requests_per_s"
    for name in servers:
        figures = {m: {k: round(statistics.median(run[k] for run in runs[(name, m)]), 2) for k in runs[(name, m)][0]}
                   for m in MODES}
        for mode in MODES[1:]:
            figures[f"{mode}_vs_grpc"] = {"throughput": round(figures[mode][rate] / figures["grpc"][rate], 3),
                                          "p50_latency": round(figures[mode]["p50_ms"] / figures["grpc"]["p50_ms"], 3)}
        if name == "this":
            result.update(figures)
        else:
            result[name] = figures
    if "baseline" in servers:
        result["this_vs_baseline"] = {m: {"throughput": round(result[m][rate] / result["baseline"][m][rate], 3),
                                          "p50_latency": round(result[m]["p50_ms"] / result["baseline"][m]["p50_ms"], 3)}
                                      for m in MODES}
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--out", default=str(ROOT / "docs" / "bench" / "http-overhead.json"))
    p.add_argument("--concurrency", default="1,16")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every mode per level")
    p.add_argument("--requests", default="24,96", help="sentence requests per round, per level")
    p.add_argument("--pairs", type=int, default=32, help="gRPC/HTTP pairs at 1 client")
    p.add_argument("--smoke", action="store_true", help="tiny counts: checks that the harness runs")
    p.add_argument("--baseline-src", default="", help="source tree of another version: measured alongside, interleaved")
    args = p.parse_args(argv)
    if args.smoke:
        args.rounds, args.requests, args.pairs = 1, "4,8", 4
    levels = [int(c) for c in args.concurrency.split(",")]
    counts = [int(n) for n in args.requests.split(",")]
    copies = 2 if args.baseline_src else 1
    needed = sum(copies * args.rounds * len(MODES) * (n + 1) for n in counts) + 2 * args.pairs + 2 + 9 * copies
    texts, _ = sentences_and_articles(needed)
    fresh = iter(texts)
    take = lambda n: [next(fresh) for _ in range(n)]  # noqa: E731
    threads = os.cpu_count() or 1
    proc, ports = start(args.bundle, threads)
    servers = {"this": ports}
    procs = [proc]
    if args.baseline_src:
        base, servers["baseline"] = start(args.bundle, threads, args.baseline_src)
        procs.append(base)
    results = {"bundle": Path(args.bundle).name, "cores": threads, "date": time.strftime("%Y-%m-%d"),
               "command": "python tests/bench/http_overhead.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "ctranslate2_cpu": ctranslate2_cpu()}
    try:
        for each in servers.values():
            drive("grpc", each, take(9), 2)  # warm the model and both front ends
        results["paired_at_1_client"] = paired(ports, take(2 * args.pairs + 2))
        results["levels"] = [level(servers, concurrency, count, args.rounds, take, "ar")
                             for concurrency, count in zip(levels, counts)]
        english = [f"The minister said on Monday that the talks would go on, case {i}." for i in range(100_000)]
        plain = iter(english)
        results["front_end_only"] = [
            level(servers, concurrency, count * 8, args.rounds, lambda n: [next(plain) for _ in range(n)], "en")
            for concurrency, count in zip(levels, counts)]
    finally:
        for each in procs:
            each.send_signal(signal.SIGTERM)
            each.wait(timeout=120)
    print(json.dumps(results["paired_at_1_client"]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
