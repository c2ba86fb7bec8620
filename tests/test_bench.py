"""The benchmark harness runs end to end (a smoke: tiny bundle, few requests, no timing asserted)."""

import json
import math
import os
import re
import shlex
import subprocess
import sys
import zipfile

import ctranslate2
import pytest

from conftest import ROOT, program
from khulasa_server.models import bundle

sys.path.insert(0, str(ROOT / "tests" / "bench"))
import argos_peer  # noqa: E402
import run as bench  # noqa: E402


def test_bench_smoke_writes_its_results(bundles, tmp_path):
    out = tmp_path / "results.json"
    assert bench.main(["--bundle", str(bundles["tiny"]), "--smoke", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    [run] = results["runs"]
    assert results["ctranslate2_cpu"]["isa"]
    assert [r["concurrency"] for r in run["sentences"]] == [1, 4]
    assert all(r["target_tokens_per_s"] > 0 and r["p95_ms"] >= r["p50_ms"] for r in run["sentences"])
    assert run["raw"]["ceiling_tokens_per_s"] > 0 and run["server_peak_rss_mb"] > 0
    assert run["articles"][0]["articles_per_min"] > 0 and run["digests"][0]["articles_per_min"] > 0
    assert "requests_per_s_4_vs_1" in run["ratios"] and run["raw"]["batches_of_c_tokens_per_s"]["4"] > 0
    assert run["raw"]["overhead_ms_median"] == run["ratios"]["overhead_ms_per_sentence_at_1"]
    assert "baseline" not in run


def test_bench_smoke_drives_a_baseline_alongside(bundles, tmp_path):
    """`make bench`'s before/after: another source tree's server (here this same tree) driven
    at every level beside this one, and the ratios of the two."""
    out = tmp_path / "results.json"
    assert bench.main(["--bundle", str(bundles["tiny"]), "--smoke", "--out", str(out), "--baseline-src", str(ROOT),
                       "--baseline-label", "same", "--rounds", "2"]) == 0
    [run] = json.loads(out.read_text())["runs"]
    before = run["baseline"]
    assert before["version"] == "same" and before["server_peak_rss_mb"] > 0 and before["seconds_to_serving"] > 0
    for kind in ("sentences", "articles", "digests"):
        assert [r["concurrency"] for r in before[kind]] == [r["concurrency"] for r in run[kind]]
        assert all(r["requests_per_s"] > 0 and len(r["rounds_requests_per_s"]) == 2 for r in before[kind])
        assert set(run["this_vs_baseline"][kind]) == {str(r["concurrency"]) for r in run[kind]}
        assert all(v["throughput"] > 0 and v["p50_latency"] > 0 for v in run["this_vs_baseline"][kind].values())


def test_argos_harness_pins_each_sentence_and_packages_the_model(bundles, tmp_path):
    """The parts of tests/bench/argos_peer.py that do not need argostranslate itself (that runs
    in a virtualenv of its own under `make bench`)."""
    entry = bundle.load(bundles["tiny"]).model_for("translate")
    archive = argos_peer.build_package(entry.path, entry.path / entry.tokenizer.source, tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    assert {"translate-ar_en-bench/metadata.json", "translate-ar_en-bench/sentencepiece.model",
            "translate-ar_en-bench/model/model.bin"} <= set(names)
    pinned = argos_peer.Pinned(ctranslate2.Translator(str(entry.path)), ratio=1.1, extra=0, suffix=1)
    sources = [["▁a"] * 3, ["▁a"] * 17]
    results = pinned.translate_batch(sources, beam_size=2, max_batch_size=32, batch_type="tokens")
    assert [len(r.hypotheses[0]) for r in results] == [math.ceil(1.1 * 4), math.ceil(1.1 * 18)]
    assert pinned.tokens == math.ceil(1.1 * 4) + math.ceil(1.1 * 18)
    assert argos_peer.Sentences().split_sentences("قال الوزير. هل جاء؟ نعم!") == ["قال الوزير.", "هل جاء؟", "نعم!"]


def test_http_overhead_smoke_writes_its_results(bundles, tmp_path):
    import http_overhead

    out = tmp_path / "http.json"
    # this source tree as its own baseline: the before/after path runs, interleaved
    assert http_overhead.main(["--bundle", str(bundles["tiny"]), "--smoke", "--baseline-src", str(ROOT),
                               "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert [level["concurrency"] for level in results["levels"]] == [1, 16]
    for level in results["levels"]:
        for mode in http_overhead.MODES:
            assert level[mode]["requests_per_s"] > 0 and level[mode]["p95_ms"] >= level[mode]["p50_ms"]
        assert level["libretranslate_vs_grpc"]["throughput"] > 0
        assert level["baseline"]["grpc"]["requests_per_s"] > 0 and set(level["this_vs_baseline"]) == set(http_overhead.MODES)
    assert results["paired_at_1_client"]["pairs"] == 4
    front = results["front_end_only"]
    assert [level["source_language"] for level in front] == ["en", "en"] and front[1]["grpc"]["requests_per_s"] > 0


def test_same_outputs_finds_equal_answers_equal_and_a_change_different(tmp_path):
    """`make same-outputs`: this tree against itself answers byte for byte the same (timings'
    milliseconds aside); against a copy whose translations differ it reports those calls."""
    import shutil

    import same_outputs

    out = tmp_path / "same.json"
    assert same_outputs.main(["--baseline-src", str(ROOT), "--kinds", "tiny", "--articles", "2", "--out", str(out)]) == 0
    [found] = json.loads(out.read_text())["bundles"].values()
    assert found["calls"] == 13 and found["identical"] == 13 and not found["errors_this"]
    changed = tmp_path / "changed"
    shutil.copytree(ROOT / "server", changed / "server", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "client", changed / "client", ignore=shutil.ignore_patterns("__pycache__"))
    convert = changed / "server" / "khulasa_server" / "messages.py"
    source = convert.read_text()
    assert "def segment(" in source  # a segment's English gains a letter: Translate and every digest differ
    convert.write_text(source + "\n\n_segment = segment\n\n\ndef segment(s):\n    out = _segment(s)\n"
                       "    out.translation += 'x'\n    return out\n")
    assert same_outputs.main(["--baseline-src", str(changed), "--kinds", "tiny", "--articles", "2", "--out", str(out)]) == 1
    assert json.loads(out.read_text())["bundles"]["tiny"]["identical"] < 13


# Every benchmark target is a contract (its name and the variables it reads): each runs one script
# in tests/bench/make/, whose header documents it.
BENCH_TARGETS = ("bench", "bench-before", "bench-llm", "bench-http", "bench-bulk", "same-outputs", "gguf-check",
                 "bench-bundle", "before-src")
SCRIPTS = ROOT / "tests" / "bench" / "make"


def make(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """make's commands; install and model are taken as done (-o): they are not benchmark plumbing."""
    done = subprocess.run([program("make"), "-s", "-o", "install", "-o", "model", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def script_of(line: str) -> str:
    words = shlex.split(line)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # the variables passed before the script
        words.pop(0)
    return words[0]


@pytest.mark.parametrize("target", BENCH_TARGETS)
def test_bench_target_is_a_call_of_its_script(target):
    lines = make("-n", target)
    assert lines and script_of(lines[-1]) == f"tests/bench/make/{target}.sh"
    for line in lines:  # its prerequisites' too (bench-bundle, before-src): no plumbing left inline
        script = ROOT / script_of(line)
        assert script.parent == SCRIPTS and script.is_file() and os.access(script, os.X_OK), line
        assert script.read_text().startswith(f"#!/bin/sh\n# make {script.stem}: ")
        assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0, script


def test_every_bench_script_has_its_target():
    called = {script_of(make("-n", target)[-1]) for target in BENCH_TARGETS}
    assert called == {f"tests/bench/make/{p.name}" for p in SCRIPTS.glob("*.sh") if p.name != "common.sh"}


def test_bench_variables_reach_the_harness(tmp_path):
    """VENV, BENCH_BUNDLE, BEFORE, BEFORE_SRC and BULK_ARTICLES, from make's command line or the
    environment, reach the harness's arguments (the venv's python here records what it is given)."""
    log = tmp_path / "calls"
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$*" >>"{log}"\n')
    python.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEFORE", "BULK_", "BENCH_", "MAKE"))}
    prepared = ("-o", "bench-bundle", "-o", "before-src", f"VENV={tmp_path / 'venv'}", "BENCH_BUNDLE=/bundles/b")
    make(*prepared, "bench-before", "BEFORE=abc1234", "BEFORE_SRC=/src/before", env=env)
    make(*prepared, "bench-bulk", env={**env, "BULK_ARTICLES": "7"})
    calls = log.read_text().splitlines()
    assert calls[0].startswith("tests/bench/run.py --bundle /bundles/b ")
    assert "--baseline-src /src/before --baseline-label abc1234 " in calls[0]
    assert calls[1:] == ["-m pip install --quiet matplotlib>=3.8", "tests/bench/bulk.py --bundle /bundles/b --articles 7"]
