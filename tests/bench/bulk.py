"""Bulk throughput: khulasa-bulk on Ray Data against the gRPC server on the same articles.

    make bench-bundle && make bench-bulk     # writes docs/bench/bulk.json and docs/bench/bulk.png

The same directory of distinct articles (the evaluation set's articles, each sentence numbered
so that no two articles share a cached sentence) is digested, in turns, by
  - grpc R×T: a khulasa-server process (R CTranslate2 replicas of T threads) driven by
    `khulasa digest DIR --concurrency N` (one DigestMany stream, N articles in flight; the
    server's --digest-many-concurrency raised to N);
  - ray R×T: `khulasa-bulk DIR --replicas R --threads-per-replica T` on a local Ray, N articles
    in flight in all (N/R per replica).
Articles/min: gRPC over the CLI's run, the server already SERVING; Ray over the job as
khulasa-bulk reports it (Ray already started, the actors' bundle loads included), and also over
the whole command (Ray's start included). CPU: every
process of each run is sampled from /proc; for Ray, the share of CPU time spent outside the
Digester actors (driver, GCS, raylet, agents, read and write tasks) is what Ray itself costs;
for gRPC, the share spent outside the server (the CLI). The load average before each run is
recorded: the machine is shared. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from procs import Sessions, cmdline, free_port, session_pids, wait_serving  # noqa: E402

from khulasa_server.models.cpu import ctranslate2_cpu
from khulasa_server.tools.evaluate import load_set  # noqa: E402

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def write_articles(folder: Path, count: int) -> None:
    articles = load_set(ROOT / "tests" / "data" / "eval_news.jsonl")
    folder.mkdir(parents=True)
    for i in range(count):
        sentences = articles[i % len(articles)]["sentences"]
        text = "\n".join(f"{s['ar'][:-1]} {i}{s['ar'][-1]}" for s in sentences)
        (folder / f"a{i:03d}.txt").write_text(text + "\n", encoding="utf-8")


class CpuSampler:
    """CPU seconds of every process of some sessions, by kind (a function of the command line)."""

    def __init__(self, sids: list[int], kind):
        self.sids, self.kind = sids, kind
        self.seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for sid in self.sids:
            for pid in session_pids(sid):
                try:
                    raw = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                fields = raw[raw.rindex(")") + 2:].split()
                seconds = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
                # A pooled Ray worker changes its title when it becomes an actor: a process is
                # counted as the kind it last had (an actor stays an actor).
                kind = self.kind(cmdline(pid))
                self.seen[pid] = (kind, max(seconds, self.seen.get(pid, (kind, 0.0))[1]))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.2)

    def start(self) -> "CpuSampler":
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._sample()
        self._stop.set()
        self._thread.join()
        totals: dict[str, float] = {}
        for kind, seconds in self.seen.values():
            totals[kind] = totals.get(kind, 0.0) + seconds
        return {k: round(v, 1) for k, v in totals.items()}


def load() -> float:
    return os.getloadavg()[0]


def run_grpc(bundle: Path, articles: Path, work: Path, replicas: int, threads: int, in_flight: int) -> dict:
    sessions = Sessions()
    port = free_port()
    try:
        server = sessions.popen([str(BIN / "khulasa-server"), "--bundle", str(bundle), "--listen", f"127.0.0.1:{port}",
                                 "--inter-threads", str(replicas), "--intra-threads", str(threads),
                                 "--digest-many-concurrency", str(in_flight), "--log-level", "warning"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_serving(f"127.0.0.1:{port}", 120)
        out = work / "grpc.jsonl"
        before = load()
        start = time.perf_counter()
        cli = sessions.popen([str(BIN / "khulasa"), "--server", f"127.0.0.1:{port}", "digest", str(articles),
                              "--output", str(out), "--concurrency", str(in_flight)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sampler = CpuSampler([server.pid, cli.pid], lambda c: "server" if "khulasa-server" in c else "client").start()
        _, err = cli.communicate(timeout=3600)
        seconds = time.perf_counter() - start
        cpu = sampler.stop()
        done = sum(1 for _ in out.open())
        if cli.returncode != 0:
            raise RuntimeError(f"khulasa digest failed: {err[-2000:]}")
        total = sum(cpu.values())
        return {"articles": done, "seconds": round(seconds, 1), "articles_per_min": round(done / seconds * 60, 2),
                "cpu_seconds": cpu, "outside_share": round(cpu.get("client", 0) / total, 3) if total else 0,
                "load_before": round(before, 2), "last_line": err.strip().splitlines()[-1]}
    finally:
        sessions.kill_all()


def _ray_kind(command: str) -> str:
    return "actors" if "MapWorker(MapBatches(Digester))" in command else "ray"


def run_ray(bundle: Path, articles: Path, work: Path, replicas: int, threads: int, in_flight: int) -> dict:
    sessions = Sessions()
    temp = tempfile.mkdtemp(prefix="kbb-", dir="/tmp")
    env = {**os.environ, "RAY_TMPDIR": temp, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_USAGE_STATS_ENABLED": "0"}
    out = work / f"ray-{replicas}x{threads}"
    try:
        before = load()
        start = time.perf_counter()
        job = sessions.popen([str(BIN / "khulasa-bulk"), str(articles), "--bundle", str(bundle), "--output", str(out),
                              "--replicas", str(replicas), "--threads-per-replica", str(threads),
                              "--in-flight", str(max(1, in_flight // replicas)), "--batch-size", "4"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        sampler = CpuSampler([job.pid], _ray_kind).start()
        _, err = job.communicate(timeout=3600)
        wall = time.perf_counter() - start
        cpu = sampler.stop()
        line = [l for l in err.splitlines() if l.startswith("khulasa-bulk:")][-1]
        if job.returncode != 0:
            raise RuntimeError(f"khulasa-bulk failed: {err[-2000:]}")
        done, seconds = int(re.search(r"(\d+) done", line).group(1)), float(re.search(r"in ([\d.]+) s", line).group(1))
        total = sum(cpu.values())
        return {"articles": done, "seconds": seconds, "articles_per_min": round(done / seconds * 60, 2),
                "wall_seconds": round(wall, 1), "articles_per_min_wall": round(done / wall * 60, 2),
                "cpu_seconds": cpu, "ray_share": round(cpu.get("ray", 0) / total, 3) if total else 0,
                "load_before": round(before, 2), "last_line": line}
    finally:
        sessions.kill_all()
        shutil.rmtree(temp, ignore_errors=True)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["configs"])
    means = [results["configs"][n]["articles_per_min"] for n in names]
    lows = [m - min(r["articles_per_min"] for r in results["configs"][n]["runs"]) for n, m in zip(names, means)]
    highs = [max(r["articles_per_min"] for r in results["configs"][n]["runs"]) - m for n, m in zip(names, means)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = ["#4c72b0" if n.startswith("grpc") else "#dd8452" for n in names]
    ax.bar(names, means, yerr=[lows, highs], color=colors, capsize=4)
    for i, n in enumerate(names):
        c = results["configs"][n]
        note = f"Ray {c['ray_share']:.0%} CPU" if "ray_share" in c else f"CLI {c['outside_share']:.0%} CPU"
        ax.text(i, means[i] / 2, note, ha="center", color="white", fontsize=9)
    ax.set_ylabel("articles/min (digest: translation + summary)")
    ax.set_title(f"{results['articles']} articles, bench-opus bundle, {results['cores']} cores: "
                 f"gRPC server vs khulasa-bulk on Ray (mean of {results['rounds']} rounds, min–max)")
    ax.title.set_fontsize(9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True, type=Path)
    p.add_argument("--articles", type=int, default=24)
    p.add_argument("--in-flight", type=int, default=8, help="articles in flight in all, each system")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "bulk.json")
    args = p.parse_args()
    cores = os.cpu_count() or 1
    configs = {  # name: (runner, replicas, threads per replica)
        f"grpc 1x{cores}": (run_grpc, 1, cores),
        f"grpc {cores}x1": (run_grpc, cores, 1),
        f"ray 1x{cores}": (run_ray, 1, cores),
        f"ray {cores}x1": (run_ray, cores, 1),
    }
    work = Path(tempfile.mkdtemp(prefix="khulasa-bulk-bench-"))
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    try:
        articles = work / "articles"
        write_articles(articles, args.articles)
        for turn in range(args.rounds):
            order = list(configs) if turn % 2 == 0 else list(reversed(configs))  # interleaved, both orders
            for name in order:
                runner, replicas, threads = configs[name]
                target = work / f"{name.replace(' ', '-')}-{turn}"
                target.mkdir()
                result = runner(args.bundle, articles, target, replicas, threads, args.in_flight)
                runs[name].append(result)
                print(f"{name} round {turn + 1}: {result['articles_per_min']} articles/min "
                      f"(load before {result['load_before']}); {result['last_line']}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "articles": args.articles, "in_flight": args.in_flight, "rounds": args.rounds, "cores": cores,
        "bundle": args.bundle.name, "command": " ".join(sys.argv), "ctranslate2_cpu": ctranslate2_cpu(),
        "configs": {},
    }
    for name, rs in runs.items():
        entry = {"articles_per_min": round(statistics.mean(r["articles_per_min"] for r in rs), 2), "runs": rs}
        if name.startswith("ray"):
            entry["ray_share"] = round(statistics.mean(r["ray_share"] for r in rs), 3)
            entry["articles_per_min_wall"] = round(statistics.mean(r["articles_per_min_wall"] for r in rs), 2)
        else:
            entry["outside_share"] = round(statistics.mean(r["outside_share"] for r in rs), 3)
        results["configs"][name] = entry
    best_grpc = max((n for n in runs if n.startswith("grpc")), key=lambda n: results["configs"][n]["articles_per_min"])
    ray2 = f"ray {cores}x1"
    results["goal"] = {
        "ray_replicas_vs_best_grpc": round(results["configs"][ray2]["articles_per_min"]
                                           / results["configs"][best_grpc]["articles_per_min"], 3),
        "best_grpc": best_grpc,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    plot(results, args.out.with_suffix(".png"))
    print(json.dumps({n: c["articles_per_min"] for n, c in results["configs"].items()}), results["goal"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
