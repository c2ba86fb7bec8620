"""khulasa-bulk reruns into the same output: ids that do not depend on how a path was typed or
on a JSON id's type, a manifest that refuses another bundle or other options, an output
nobody can write to told before Ray starts, and a driver stopped with SIGTERM that takes its
Ray down with it. Real Ray only where a run is needed; every process in a session of the test."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from procs import session_pids, wait_for
from test_bulk import BULK, _parts, bulk, last_line, ray_env, records, write_jsonl  # noqa: F401 (a fixture)


def test_fallback_ids_do_not_depend_on_how_the_path_was_typed(tmp_path, monkeypatch):
    from khulasa_server.bulk import sources

    (tmp_path / "feed.jsonl").write_text('{"text": "no id"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ids = []
    for typed in ("feed.jsonl", "./feed.jsonl", str(tmp_path / "feed.jsonl")):
        [block] = sources.plan([typed], rows=8)
        ids.append(sources.read(block, frozenset()).column("id").to_pylist())
    assert ids[0] == ids[1] == ids[2] == [f"{tmp_path / 'feed.jsonl'}:1"]


def test_a_number_id_does_not_collide_with_the_same_string(tmp_path):
    from khulasa_server.bulk import sources

    feed = write_jsonl(tmp_path / "feed.jsonl", ['{"id": 7, "text": "a"}', '{"id": "7", "text": "b"}'])
    [block] = sources.plan([str(feed)], rows=8)
    rows = sources.read(block, frozenset()).to_pylist()
    assert [r["id"] for r in rows] == [f"{feed}:1", "7"]
    assert rows[0]["error"] == f'{feed}:1: "id" must be a string, got 7' and rows[1]["text"] == "b"


def test_an_output_nobody_can_write_to_is_refused_before_ray_starts(bundles, tmp_path, ray_env):
    env, sessions = ray_env
    if os.geteuid() == 0:
        readonly = Path("/proc/sys/kernel")  # even root cannot create a file in procfs
    else:
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o555)
    feed = write_jsonl(tmp_path / "feed.jsonl", ['{"id": "a", "text": "نص"}'])
    result = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", readonly, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"khulasa-bulk: {readonly}: cannot write there"), result.stderr[-2000:]


def test_a_rerun_with_another_bundle_or_options_is_refused(ray_env, bundles, sample_articles, tmp_path):
    env, sessions = ray_env
    feed = write_jsonl(tmp_path / "feed.jsonl", [json.dumps(r, ensure_ascii=False) for r in records(sample_articles, 4)])
    out = tmp_path / "out"
    first = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--format", "jsonl")
    assert first.returncode == 0, first.stderr[-3000:]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["bundle"] == str(bundles["tiny"].resolve()) and manifest["options"]["max_sentences"] == 3
    other_bundle = bulk(sessions, env, feed, "--bundle", bundles["tiny-llm"], "--output", out, "--format", "jsonl",
                        timeout=60)
    assert other_bundle.returncode == 2 and "was written with the bundle" in last_line(other_bundle.stderr)
    other_options = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--format", "jsonl",
                         "--max-sentences", 2, timeout=60)
    assert other_options.returncode == 2
    assert "max_sentences 3 → 2" in last_line(other_options.stderr), other_options.stderr[-2000:]
    other_names = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--format", "jsonl",
                       "--no-name-repair", "--names-in-source", "off", timeout=60)
    assert other_names.returncode == 2, other_names.stderr[-2000:]
    assert "name_repair True → False" in last_line(other_names.stderr)
    assert "names_in_source 'all' → ''" in last_line(other_names.stderr)
    again = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--format", "jsonl")
    assert again.returncode == 0 and "0 done, 0 failed, 4 skipped" in last_line(again.stderr), again.stderr[-2000:]


def test_sigterm_to_the_driver_takes_its_ray_down(ray_env, bundles, sample_articles, tmp_path):
    env, sessions = ray_env
    feed = write_jsonl(tmp_path / "feed.jsonl", [json.dumps(r, ensure_ascii=False) for r in records(sample_articles, 160)])
    out = tmp_path / "out"
    args = [BULK, feed, "--bundle", bundles["tiny"], "--output", out, "--batch-size", 8, "--format", "jsonl",
            "--in-flight", 2]
    driver = sessions.popen(list(map(str, args)), env=env, stdout=open(tmp_path / "out.log", "w"),
                            stderr=open(tmp_path / "err.log", "w"))
    wait_for(lambda: _parts(out, "jsonl") or driver.poll() is not None, 180, "a first part")
    assert driver.poll() is None, (tmp_path / "err.log").read_text()[-2000:]
    os.kill(driver.pid, signal.SIGTERM)
    code = driver.wait(timeout=60)
    wait_for(lambda: not session_pids(driver.pid), 30, "every Ray process of the run to exit")
    assert code == 130, (tmp_path / "err.log").read_text()[-2000:]
    assert "interrupted; rerun the same command to resume" in (tmp_path / "err.log").read_text()


def test_the_digester_takes_the_servers_name_options(bundles, sample_articles):
    # khulasa-bulk builds its pipeline from Settings as the server does, so --no-name-repair and
    # --names-in-source reach the translation stage (they were dropped before).
    import pyarrow as pa

    from khulasa_server.bulk.digester import Digester

    text = sample_articles["politics_talks"]
    plain = Digester(str(bundles["tiny-llm"]), threads=1, in_flight=1)
    named = Digester(str(bundles["tiny-llm"]), threads=1, in_flight=1, name_repair=False, names_in_source="places")
    stages = plain.core.pipeline.translation, named.core.pipeline.translation
    assert (stages[0].repair_names, stages[0].names_in_source) == (True, "all")
    assert (stages[1].repair_names, stages[1].names_in_source) == (False, "places")
    batch = pa.table({"id": ["a"], "text": [text], "error": [""], "skipped": [False]})
    assert plain(batch).to_pylist()[0]["error"] == named(batch).to_pylist()[0]["error"] == ""
