"""The benchmark harness runs end to end (a smoke: tiny bundle, few requests, no timing asserted)."""

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "bench"))
import run as bench  # noqa: E402


def test_bench_smoke_writes_its_results(bundles, tmp_path):
    out = tmp_path / "results.json"
    assert bench.main(["--bundle", str(bundles["tiny"]), "--smoke", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    [run] = results["runs"]
    assert [r["concurrency"] for r in run["sentences"]] == [1, 4]
    assert all(r["target_tokens_per_s"] > 0 and r["p95_ms"] >= r["p50_ms"] for r in run["sentences"])
    assert run["raw"]["ceiling_tokens_per_s"] > 0 and run["server_peak_rss_mb"] > 0
    assert run["articles"][0]["articles_per_min"] > 0 and "requests_per_s_4_vs_1" in run["ratios"]
