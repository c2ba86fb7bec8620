"""Memory of a khulasa-server process on a bundle, for sizing a container's memory request and
limit (deploy/kubernetes/deployment.yaml quotes it):

    python tests/bench/rss.py --bundle qwen2.5-coder-1.5b --clients 4 --out docs/bench/rss-qwen2.5-coder-1.5b.json

RSS when SERVING, then the peak (VmHWM) after `clients` concurrent Digests of the sample
article (11 paragraphs) with the bundle's own summary method, at the server's default batch
budget (--max-batch-tokens 4096).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from procs import Sessions, free_port, wait_serving  # noqa: E402

from khulasa_client import Client  # noqa: E402


def status_mb(pid: int, key: str) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(rf"{key}:\s+(\d+)", text).group(1)) / 1024, 1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--threads", type=int, default=2, help="--intra-threads of the server (the container's CPUs)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    text = (ROOT / "tests" / "data" / "articles" / "politics_talks.txt").read_text(encoding="utf-8")
    sessions = Sessions()
    port = free_port()
    try:
        start = time.perf_counter()
        server = sessions.popen([str(Path(sys.executable).parent / "khulasa-server"), "--bundle", args.bundle,
                                 "--listen", f"127.0.0.1:{port}", "--intra-threads", str(args.threads)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_serving(f"127.0.0.1:{port}", 600)
        with Client(f"127.0.0.1:{port}", timeout=3600) as client:
            serving_s = time.perf_counter() - start
            serving_mb = status_mb(server.pid, "VmRSS")
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(lambda i: client.digest(text, id=str(i)), range(args.clients)))
            digests_s = time.perf_counter() - start - serving_s
        result = {
            "bundle": args.bundle, "clients": args.clients, "intra_threads": args.threads,
            "serving_seconds": round(serving_s, 1), "rss_serving_mb": serving_mb,
            "rss_peak_mb": status_mb(server.pid, "VmHWM"), "rss_after_mb": status_mb(server.pid, "VmRSS"),
            "digests_seconds": round(digests_s, 1), "command": " ".join(sys.argv),
        }
    finally:
        sessions.kill_all()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
