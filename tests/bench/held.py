"""gRPC health and a Digest while idle DigestMany streams hold handler threads, for
docs/operations.md:

    python tests/bench/held.py --bundle DIR [--workers 128] [--streams 132] [--out FILE]

A khulasa-server process (the one on PATH beside this Python; PYTHONPATH picks the source tree)
with --workers threads; `streams` DigestMany calls that send nothing, from one client; then
`checks` health checks one after another (each with a 5 s deadline) and one Digest. Prints
JSON: health latencies (median, p99, max, failures) and the Digest's outcome and seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from procs import Sessions, free_port, wait_serving  # noqa: E402

BIN = Path(sys.executable).parent
ARABIC = "ارتفعت أسعار النفط اليوم بعد أن قررت الدول المنتجة خفض الإنتاج."


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--workers", type=int, default=128)
    p.add_argument("--streams", type=int, default=132)
    p.add_argument("--checks", type=int, default=50)
    p.add_argument("--out", type=Path)
    args = p.parse_args()

    sessions = Sessions()
    port = free_port()
    server = sessions.popen(
        [str(BIN / "khulasa-server"), "--bundle", args.bundle, "--listen", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--max-inflight-per-client", str(args.streams + 10)],
        stderr=open("/dev/null", "w"),
    )
    stop = threading.Event()
    try:
        wait_serving(f"127.0.0.1:{port}", 120)

        def nothing():
            stop.wait(600)
            return
            yield

        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        streams = [pb_grpc.NewsDigestStub(channel).DigestMany(nothing(), timeout=600) for _ in range(args.streams)]
        time.sleep(2)
        seconds, failures = [], 0
        with grpc.insecure_channel(f"127.0.0.1:{port}") as probe:
            health = health_pb2_grpc.HealthStub(probe)
            for _ in range(args.checks):
                start = time.perf_counter()
                try:
                    health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    seconds.append(time.perf_counter() - start)
                except grpc.RpcError:
                    failures += 1
            start = time.perf_counter()
            try:
                pb_grpc.NewsDigestStub(probe).Digest(pb.DigestRequest(text=ARABIC), timeout=5)
                digest = "OK"
            except grpc.RpcError as exc:
                digest = exc.code().name
            digest_seconds = time.perf_counter() - start
        result = {
            "workers": args.workers,
            "idle_streams": args.streams,
            "health_checks": args.checks,
            "health_failures": failures,
            "health_ms": {
                "median": round(statistics.median(seconds) * 1000, 2) if seconds else None,
                "p99": round(sorted(seconds)[int(len(seconds) * 0.99) - 1] * 1000, 2) if seconds else None,
                "max": round(max(seconds) * 1000, 2) if seconds else None,
            },
            "digest": digest,
            "digest_seconds": round(digest_seconds, 3),
        }
        for call in streams:
            call.cancel()
        channel.close()
        text = json.dumps(result, indent=1)
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return 0
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(30)
        except Exception:
            pass
        sessions.kill_all()


if __name__ == "__main__":
    sys.exit(main())
