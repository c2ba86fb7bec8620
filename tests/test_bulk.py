"""khulasa-bulk end to end: the real command on a real Ray (a local one with 2 CPUs, and a
two-node cluster made with `ray start` on loopback), on the tiny bundle. Every Ray process a
test starts lives in a session the test made, and is killed at teardown, pass or fail."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from procs import Sessions, cmdline, free_port, session_pids, wait_for

from khulasa_server.text.detect import detect

BIN = Path(sys.executable).parent
BULK = str(BIN / "khulasa-bulk")
RAY = str(BIN / "ray")


@pytest.fixture
def ray_env():
    """Environment for Ray processes: a short temp dir of their own (Ray's socket paths must
    stay short), token auth with a token of this test (no ~/.ray/auth_token), no usage stats."""
    temp = tempfile.mkdtemp(prefix="kb-", dir="/tmp")
    env = {**os.environ, "RAY_TMPDIR": temp, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    sessions = Sessions()
    yield env, sessions
    sessions.kill_all()
    shutil.rmtree(temp, ignore_errors=True)


def records(articles: dict[str, str], n: int) -> list[dict]:
    """n distinct records (a numbered sentence each, so no two share a cache entry)."""
    sentences = [s[:160] for text in articles.values() for s in text.splitlines() if len(s) > 40 and detect(s[:160]) == "ar"]
    return [{"id": f"r{i:04d}", "text": f"الخبر رقم {i}: {sentences[i % len(sentences)]}"} for i in range(n)]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_output(out: Path) -> pa.Table:
    parts = sorted(out.glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else pa.table({"id": pa.array([], pa.string())})


def bulk(sessions: Sessions, env: dict, *args: str, timeout: float = 240):
    return sessions.run([BULK, *map(str, args)], timeout=timeout, env=env)


def last_line(stderr: str) -> str:
    return [line for line in stderr.splitlines() if line.startswith("khulasa-bulk:")][-1]


def test_300_records_some_invalid_give_300_rows(ray_env, bundles, sample_articles, tmp_path):
    env, sessions = ray_env
    good = records(sample_articles, 300)
    lines = []
    invalid = {}
    for i, record in enumerate(good):
        if i % 37 == 5:
            lines.append('{"id": "' + record["id"] + '", "text": ')  # broken JSON: named by file:line
            invalid[f"{tmp_path / 'feed.jsonl'}:{i + 1}"] = "not JSON"
        elif i % 37 == 11:
            lines.append(json.dumps({"id": record["id"], "text": "   "}))
            invalid[record["id"]] = "text is empty"
        elif i % 37 == 17:
            lines.append(json.dumps({"id": record["id"], "body": record["text"]}))
            invalid[record["id"]] = 'needs a "text" string'
        elif i % 37 == 23:
            lines.append(json.dumps({"id": record["id"], "text": "این یک خبر فارسی است که پشتیبانی نمی‌شود."}, ensure_ascii=False))
            invalid[record["id"]] = "Persian"
        elif i % 37 == 29:
            lines.append(json.dumps({"id": record["id"], "text": "خبر " * 800}, ensure_ascii=False))
            invalid[record["id"]] = "the limit is 2000"
        else:
            lines.append(json.dumps(record, ensure_ascii=False))
    feed = write_jsonl(tmp_path / "feed.jsonl", lines)
    expected_ids = [f"{feed}:{i + 1}" if i % 37 == 5 else r["id"] for i, r in enumerate(good)]
    out = tmp_path / "out"

    result = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--replicas", 2,
                  "--batch-size", 16, "--max-text-chars", 2000)

    assert result.returncode == 1, result.stderr[-3000:]  # some records failed
    table = read_output(out)
    ids = table.column("id").to_pylist()
    assert len(ids) == 300 and sorted(ids) == sorted(expected_ids)
    rows = {r["id"]: r for r in table.to_pylist()}
    for id, reason in invalid.items():
        assert reason in rows[id]["error"], (id, rows[id]["error"])
        assert rows[id]["translation"] == ""
    fine = [r for id, r in rows.items() if id not in invalid]
    assert len(fine) == 300 - len(invalid)
    for r in fine:
        assert r["error"] == "" and r["translation"] and r["detected_language"] == "ar"
        assert r["paragraphs"] and r["timings"]["total_ms"] > 0
        for sentence in r["summary_sentences"]:
            assert all(0 <= p < len(r["paragraphs"]) for p in sentence["paragraphs"])
            assert all(isinstance(w, str) for w in sentence["warnings"])
    line = last_line(result.stderr)
    assert line.startswith(f"khulasa-bulk: {len(fine)} done, {len(invalid)} failed, 0 skipped"), line
    assert "articles/min" in line and "300 rows" in line
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["rows"] == manifest["unique_ids"] == 300
    assert sum(manifest["parts"].values()) == 300 and len(manifest["parts"]) == len(list(out.glob("part-*.parquet")))

    # Run again: everything is already written.
    again = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--replicas", 2,
                 "--batch-size", 16, "--max-text-chars", 2000)
    assert again.returncode == 0, again.stderr[-3000:]
    assert last_line(again.stderr).startswith("khulasa-bulk: 0 done, 0 failed, 300 skipped"), last_line(again.stderr)
    assert sorted(read_output(out).column("id").to_pylist()) == sorted(expected_ids)


def _parts(out: Path, fmt: str = "parquet") -> list[Path]:
    return list(out.glob(f"part-*.{fmt}")) if out.exists() else []


def test_resume_after_an_interrupted_run(ray_env, bundles, sample_articles, tmp_path):
    """The whole job (driver and its Ray) is killed with SIGKILL after a few parts are written;
    the same command then finishes the rest, and every id is in the output once."""
    env, sessions = ray_env
    good = records(sample_articles, 160)
    feed = write_jsonl(tmp_path / "feed.jsonl", [json.dumps(r, ensure_ascii=False) for r in good])
    out = tmp_path / "out"
    args = [BULK, feed, "--bundle", bundles["tiny"], "--output", out, "--replicas", 1, "--batch-size", 8,
            "--format", "jsonl", "--in-flight", 2]
    first = sessions.popen(list(map(str, args)), env=env, stdout=open(tmp_path / "first.out", "w"), stderr=open(tmp_path / "first.err", "w"))
    wait_for(lambda: len(_parts(out, "jsonl")) >= 3 or first.poll() is not None, 180, "three parts")
    for pid in session_pids(first.pid):
        os.kill(pid, signal.SIGKILL)
    first.wait()
    written_before = sum(len(p.read_text().splitlines()) for p in _parts(out, "jsonl"))
    assert 0 < written_before < 160, f"the interruption came too late to test resuming ({written_before} rows)"

    second = sessions.run(list(map(str, args)), timeout=240, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    line = last_line(second.stderr)
    assert line.startswith(f"khulasa-bulk: {160 - written_before} done, 0 failed, {written_before} skipped"), line
    ids = [json.loads(l)["id"] for p in _parts(out, "jsonl") for l in p.read_text().splitlines()]
    assert sorted(ids) == [r["id"] for r in good]  # each once
    assert not list(out.glob(".part-*")), "temporary parts left behind"


def test_an_actor_killed_mid_run_loses_nothing(ray_env, bundles, sample_articles, tmp_path):
    """kill -9 of a Digester actor's process while blocks are in work: Ray restarts the actor
    and redoes its block; the output is complete with no duplicates."""
    env, sessions = ray_env
    good = records(sample_articles, 200)
    feed = write_jsonl(tmp_path / "feed.jsonl", [json.dumps(r, ensure_ascii=False) for r in good])
    out = tmp_path / "out"
    job = sessions.popen(list(map(str, [BULK, feed, "--bundle", bundles["tiny"], "--output", out, "--replicas", 2,
                                        "--batch-size", 8, "--in-flight", 2])),
                         env=env, stdout=open(tmp_path / "job.out", "w"), stderr=open(tmp_path / "job.err", "w"))

    def busy_actor():
        if len(_parts(out)) < 2:
            return None
        actors = [p for p in session_pids(job.pid) if "MapWorker(MapBatches(Digester))" in cmdline(p)]
        return actors[0] if actors else None

    victim = wait_for(lambda: busy_actor() or job.poll() is not None, 180, "a working actor")
    assert victim is not True, "the job ended before an actor could be killed"
    parts_then = len(_parts(out))
    os.kill(victim, signal.SIGKILL)
    assert job.wait(timeout=240) == 0, (tmp_path / "job.err").read_text()[-3000:]
    assert parts_then < len(_parts(out)), "the actor was killed after the work was done"
    ids = read_output(out).column("id").to_pylist()
    assert len(ids) == 200 and sorted(ids) == [r["id"] for r in good]
    stderr = (tmp_path / "job.err").read_text()
    assert last_line(stderr).startswith("khulasa-bulk: 200 done, 0 failed, 0 skipped"), last_line(stderr)


def test_two_node_cluster_on_loopback_shares_the_work(ray_env, bundles, sample_articles, tmp_path):
    """`ray start --head` and `ray start --address` on one machine (127.0.0.2 and 127.0.0.3,
    loopback addresses Ray does not rewrite), 1 CPU each, token auth; khulasa-bulk --address
    joins it and both nodes digest articles."""
    env, sessions = ray_env
    port = free_port()
    head = sessions.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.2", "--port", str(port), "--num-cpus", "1",
                         "--include-dashboard", "false", "--disable-usage-stats"], timeout=120, env=env)
    assert head.returncode == 0, head.stderr[-3000:]
    worker = sessions.run([RAY, "start", "--address", f"127.0.0.2:{port}", "--node-ip-address", "127.0.0.3",
                           "--num-cpus", "1"], timeout=120, env=env)
    assert worker.returncode == 0, worker.stderr[-3000:]
    good = records(sample_articles, 96)
    feed = write_jsonl(tmp_path / "feed.jsonl", [json.dumps(r, ensure_ascii=False) for r in good])
    out = tmp_path / "out"

    result = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", out, "--replicas", 2,
                  "--batch-size", 8, "--address", f"127.0.0.2:{port}")

    assert result.returncode == 0, result.stderr[-3000:]
    table = read_output(out)
    assert sorted(table.column("id").to_pylist()) == [r["id"] for r in good]
    by_node = Counter(table.column("node").to_pylist())
    assert len(by_node) == 2 and min(by_node.values()) > 0, by_node
    assert "articles by node:" in result.stderr

    # A bundle the nodes do not have: the driver (joining a cluster, it need not hold the
    # bundle) starts the job, the actors cannot load it, and the job stops with one line.
    missing = bulk(sessions, env, feed, "--bundle", "no-such-bundle", "--output", tmp_path / "out2",
                   "--replicas", 2, "--address", f"127.0.0.2:{port}")
    assert missing.returncode == 1, missing.stderr[-3000:]
    assert last_line(missing.stderr).startswith("khulasa-bulk: the job failed: khulasa_server.errors.BundleError: no bundle at")


@pytest.mark.parametrize("case", ["missing input", "no columns", "no bundle", "output is a file", "replicas 0",
                                  "other format", "bad glossary", "unknown kind", "no cluster there"])
def test_operator_mistakes_get_one_line_and_exit_2(case, bundles, tmp_path, ray_env):
    env, sessions = ray_env
    feed = write_jsonl(tmp_path / "feed.jsonl", ['{"id": "a", "text": "نص"}'])
    args = [feed, "--bundle", bundles["tiny"], "--output", tmp_path / "out"]
    expected = ""
    if case == "missing input":
        args[0], expected = tmp_path / "nowhere.jsonl", "no such file or directory"
    elif case == "no columns":
        pq.write_table(pa.table({"id": ["a"], "body": ["نص"]}), tmp_path / "x.parquet")
        args[0], expected = tmp_path / "x.parquet", "without column(s) text"
    elif case == "no bundle":
        args[2], expected = tmp_path / "no-bundle", "no-bundle"
    elif case == "output is a file":
        (tmp_path / "out").write_text("x")
        expected = "is a file"
    elif case == "replicas 0":
        args += ["--replicas", "0"]
        expected = "--replicas must be at least 1"
    elif case == "other format":
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "part-0.jsonl").write_text("")
        expected = "holds jsonl parts"
    elif case == "bad glossary":
        (tmp_path / "g.tsv").write_text("no tab here\n")
        args += ["--glossary", tmp_path / "g.tsv"]
        expected = "--glossary"
    elif case == "no cluster there":
        args += ["--address", f"127.0.0.1:{free_port()}"]
        expected = "cannot reach the Ray cluster at 127.0.0.1:"
    elif case == "unknown kind":
        (tmp_path / "x.csv").write_text("id,text\n")
        args[0], expected = tmp_path / "x.csv", "expected a .jsonl or .parquet file"
    result = bulk(sessions, env, *args, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("khulasa-bulk: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_more_cpus_than_a_local_ray_has_is_refused(bundles, tmp_path, ray_env):
    env, sessions = ray_env
    feed = write_jsonl(tmp_path / "feed.jsonl", ['{"id": "a", "text": "نص"}'])
    cpus = os.cpu_count()
    result = bulk(sessions, env, feed, "--bundle", bundles["tiny"], "--output", tmp_path / "out",
                  "--replicas", cpus + 1, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert last_line(result.stderr) == (f"khulasa-bulk: the Ray cluster has {cpus} CPUs; "
                                        f"--replicas × --threads-per-replica needs {cpus + 1}")
    assert "Traceback" not in result.stderr


# -- the readers, without Ray ------------------------------------------------------------


def test_inputs_are_cut_into_blocks_and_read_as_the_cli_names_them(tmp_path):
    from khulasa_server.bulk import sources

    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b'{"id": "a", "text": "one"}\n\n{"text": "no id"}\n{bad\n{"id": "s", "text": "\\ud800"}\n'
                     b'{"id": 7, "text": "last, no newline"}')
    folder = tmp_path / "dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "x.txt").write_text("نص", encoding="utf-8")
    (folder / "sub" / "y.txt").write_bytes("Réunion à Genève".encode("latin-1"))  # no encoding khulasa reads
    (folder / "skip.json").write_text("{}")  # not an article type
    # HTML and cp1256 text, read as the CLI reads them (khulasa/documents.py)
    (folder / "z.html").write_text("<html><body><nav>القائمة</nav><article><h1>العنوان</h1><p>الفقرة الأولى من الخبر.</p>"
                                   "<p>الفقرة الثانية من الخبر.</p></article></body></html>", encoding="utf-8")
    (folder / "w.txt").write_bytes("قال الوزير".encode("cp1256"))
    pq.write_table(pa.table({"id": ["p0", None, "p2"], "text": ["a", "b", None]}), tmp_path / "t.parquet", row_group_size=2)

    blocks = sources.plan([str(feed), str(folder), str(tmp_path / "t.parquet")], rows=2)
    assert [(b.kind, b.line, b.count) for b in blocks if b.kind == "jsonl"] == [("jsonl", 1, 2), ("jsonl", 3, 2), ("jsonl", 5, 2)]
    assert [b.ids for b in blocks if b.kind == "text"] == [("sub/y", "w"), ("x", "z")]
    assert [(b.group, b.offset, b.count) for b in blocks if b.kind == "parquet"] == [(0, 0, 2), (1, 0, 1)]

    rows = [r for b in blocks for r in sources.read(b, frozenset({"x"})).to_pylist()]
    by_id = {r["id"]: r for r in rows}
    assert by_id["a"] == {"id": "a", "text": "one", "error": "", "skipped": False}
    assert by_id[f"{feed}:3"]["text"] == "no id"  # no id: FILE:LINE, as the CLI names it
    assert "not JSON" in by_id[f"{feed}:4"]["error"]
    assert '"id" must be a string, got 7' in by_id[f"{feed}:6"]["error"]  # 7 and "7" would be one id
    assert "not valid Unicode" in by_id["s"]["error"]
    assert by_id["x"]["skipped"] and by_id["x"]["text"] == ""  # already written: counted, not read
    assert "not UTF-8, UTF-16 or cp1256 text" in by_id["sub/y"]["error"]
    assert by_id["w"]["text"] == "قال الوزير"
    assert by_id["z"]["text"] == "الفقرة الأولى من الخبر.\nالفقرة الثانية من الخبر."
    assert by_id["p0"]["text"] == "a" and by_id[f"{tmp_path / 't.parquet'}:row 1"]["text"] == "b"
    assert by_id["p2"]["error"].endswith("text is missing")
    assert len(rows) == 5 + 4 + 3  # every record, none twice; the blank line is no record


def test_the_digester_gives_every_record_a_row(bundles):
    from khulasa_server.bulk.digester import OUTPUT, SKIPPED, Digester

    digester = Digester(str(bundles["tiny"]), threads=1, in_flight=2, max_text_chars=500)
    batch = pa.table({"id": ["ok", "empty", "long", "unread", "done"],
                      "text": ["أعلنت الحكومة خطة جديدة.", " ", "خبر " * 200, "", ""],
                      "error": ["", "", "", "feed.jsonl:4: not JSON", ""],
                      "skipped": [False, False, False, False, True]})
    out = digester(batch)
    assert out.schema.names == [*OUTPUT.names, SKIPPED]
    rows = {r["id"]: r for r in out.to_pylist()}
    assert list(rows) == ["ok", "empty", "long", "unread", "done"]
    assert rows["ok"]["error"] == "" and rows["ok"]["translation"] and rows["ok"]["detected_language"] == "ar"
    assert rows["empty"]["error"] == "text is empty"
    assert "the limit is 500" in rows["long"]["error"]
    assert rows["unread"]["error"] == "feed.jsonl:4: not JSON"
    assert rows["done"][SKIPPED] and not rows["ok"][SKIPPED]


def test_each_summary_sentence_keeps_its_warnings_in_the_output(bundles, sample_articles, tmp_path):
    """A summary sentence's warnings ("unsupported:SPAN"), which gRPC and HTTP return, are in
    the bulk output too: a list of strings beside its text and paragraphs, in Parquet and JSON."""
    from khulasa_server.bulk.digester import OUTPUT, Digester, row
    from khulasa_server.pipeline.results import DigestResult, ParagraphResult, SummaryResult, SummarySentence, Timings

    stated = SummarySentence(text="The minister spoke in Paris.", paragraphs=[0], warnings=["unsupported:Paris"])
    result = DigestResult(translation="The minister spoke.", summary=SummaryResult(text=stated.text, sentences=[stated]),
                          paragraphs=[ParagraphResult(0, "تحدث الوزير.", "The minister spoke.", [])],
                          detected_language="ar", timings=Timings())
    pq.write_table(pa.Table.from_pylist([row("a", result)], schema=OUTPUT), tmp_path / "one.parquet")
    [written] = pq.read_table(tmp_path / "one.parquet").to_pylist()
    assert written["summary_sentences"] == [{"text": "The minister spoke in Paris.", "paragraphs": [0], "warnings": ["unsupported:Paris"]}]
    assert json.loads(json.dumps(written))["summary_sentences"][0]["warnings"] == ["unsupported:Paris"]

    # On the tiny bundle, the digester's rows carry what the server's Digest gives the same article.
    digester = Digester(str(bundles["tiny"]), threads=1, in_flight=1)
    text = sample_articles["politics_talks"]
    [out] = digester(pa.table({"id": ["b"], "text": [text], "error": [""], "skipped": [False]})).to_pylist()
    served = digester.core.digest(text, digester.options).summary.sentences
    assert out["summary_sentences"] and [s["warnings"] for s in out["summary_sentences"]] == [s.warnings for s in served]
