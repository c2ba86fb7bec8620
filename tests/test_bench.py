"""The benchmark harness runs end to end (a smoke: tiny bundle, few requests, no timing asserted)."""

import json
import math
import sys
import zipfile

import ctranslate2
from conftest import ROOT

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
