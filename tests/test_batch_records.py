"""Batches lose nothing: ids are distinct or refused, every id leaves a record (a result or an
error), a torn JSONL tail is repaired, and one unsendable record fails alone."""

from __future__ import annotations

import json

import pytest
from conftest import start_server
from test_cli import khulasa

from khulasa_client.outputs import file_name

TEXTS = ["ارتفعت أسعار النفط اليوم.", "فاز المنتخب الوطني.", "أعلنت الحكومة خطة جديدة.", "قال الوزير إن الاقتصاد ينمو."]


def _feed(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")  # ASCII escapes: \ud800 stays
    return str(path)


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- 1. ids ----------------------------------------------------------------------------------

def test_repeated_ids_are_refused_before_any_work(server, tmp_path):
    address = f"127.0.0.1:{server.port}"
    for folder in ("c1", "c2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text(TEXTS[0], encoding="utf-8")
        (tmp_path / folder / f"only_{folder}.txt").write_text(TEXTS[1], encoding="utf-8")
    out = tmp_path / "out"
    run = khulasa("--server", address, "digest", str(tmp_path / "c1"), str(tmp_path / "c2"), "--output-dir", str(out))
    assert run.returncode == 2
    assert f"x ({tmp_path / 'c1' / 'x.txt'}, {tmp_path / 'c2' / 'x.txt'})" in run.stderr and "nothing was sent" in run.stderr
    assert not out.exists() or not any(out.rglob("*"))

    feed = _feed(tmp_path / "feed.jsonl", [{"id": "dup", "text": TEXTS[0]}, {"id": "ok", "text": TEXTS[1]},
                                           {"id": "dup", "text": TEXTS[2]}])
    results = tmp_path / "results.jsonl"
    for extra in (["--output", str(results)], []):  # to a file, and to standard output
        run = khulasa("--server", address, "digest", feed, *extra)
        assert run.returncode == 2 and "dup (" in run.stderr and run.stdout == ""
    assert not results.exists()

    (tmp_path / "n1").mkdir(), (tmp_path / "n2").mkdir()
    for folder in ("n1", "n2"):
        (tmp_path / folder / "news.txt").write_text(TEXTS[2], encoding="utf-8")
    run = khulasa("--server", address, "translate", str(tmp_path / "n1" / "news.txt"), str(tmp_path / "n2" / "news.txt"))
    assert run.returncode == 2 and "news (" in run.stderr


def test_every_distinct_id_gets_its_own_file(server, tmp_path):
    ids = ["a b", "a_b", "sub/x", "sub_x", "a%20b", ".x", "x", "x.error", "../up", "خبر ١"]
    feed = _feed(tmp_path / "feed.jsonl", [{"id": id, "text": TEXTS[i % 4]} for i, id in enumerate(ids)])
    out = tmp_path / "out"
    args = ["--server", f"127.0.0.1:{server.port}", "digest", feed, "--output-dir", str(out), "--format", "json"]
    run = khulasa(*args)
    assert run.returncode == 0, run.stderr
    assert f"{len(ids)} done, 0 failed" in run.stderr
    files = sorted(p for p in out.rglob("*.json"))
    assert len(files) == len(ids) and all(out in p.parents for p in files)
    assert sorted(json.loads(p.read_text())["id"] for p in files) == sorted(ids)
    assert (out / (file_name("sub/x") + ".json")).is_file() and (out / "sub" / "x.json").is_file()
    rerun = khulasa(*args)
    assert f"0 done, 0 failed, {len(ids)} skipped" in rerun.stderr


def test_ids_that_would_share_a_file_are_refused(server, tmp_path):
    feed = _feed(tmp_path / "feed.jsonl", [{"id": "Report", "text": TEXTS[0]}, {"id": "report", "text": TEXTS[1]}])
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", feed, "--output-dir", str(tmp_path / "out"))
    assert run.returncode == 2 and "Report / report" in run.stderr


def test_digest_many_answers_a_repeated_id_once_per_request(client):
    from khulasa.v1 import khulasa_pb2 as pb

    requests = [pb.DigestRequest(id="dup", text=TEXTS[0]), pb.DigestRequest(id="dup", text="The minister spoke."),
                pb.DigestRequest(id="dup", text=" ")]
    results = list(client.digest_many(requests))
    assert [r.id for r in results] == ["dup"] * 3
    assert sorted(r.error.code if r.error else r.detected_language for r in results) == ["INVALID_ARGUMENT", "ar", "en"]


# -- 2. failed items leave a record -------------------------------------------------------------

def test_failed_items_leave_an_error_file_and_are_retried(server, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(TEXTS[0], encoding="utf-8")
    (folder / "empty.txt").write_text("   ", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    out = tmp_path / "out"
    args = ["--server", f"127.0.0.1:{server.port}", "digest", str(folder), "--output-dir", str(out), "--format", "markdown"]
    first = khulasa(*args)
    assert first.returncode == 1 and "1 done, 2 failed" in first.stderr
    assert json.loads((out / "empty.error.json").read_text()) == {
        "id": "empty", "error": {"code": "INVALID_ARGUMENT", "message": "text is empty"}}
    assert json.loads((out / "latin1.error.json").read_text())["error"]["message"].endswith("not UTF-8, UTF-16 or cp1256 text; name its encoding with --encoding")
    (folder / "empty.txt").write_text(TEXTS[1], encoding="utf-8")
    second = khulasa(*args)
    assert "retrying 2 ids that failed in an earlier run: empty, latin1" in second.stderr
    assert "1 done, 1 failed, 1 skipped" in second.stderr
    assert (out / "empty.md").is_file() and not (out / "empty.error.json").exists()


def test_jsonl_to_standard_output_has_a_record_per_id(server, tmp_path):
    feed = _feed(tmp_path / "feed.jsonl", [{"id": "a", "text": TEXTS[0]}, {"id": "b", "text": ""}])
    run = khulasa("--server", f"127.0.0.1:{server.port}", "translate", feed)
    assert run.returncode == 1
    records = {r["id"]: r for r in map(json.loads, run.stdout.splitlines())}
    assert records["a"]["translation"] and records["b"]["error"]["code"] == "INVALID_ARGUMENT"


# -- 4. contradictory flags, torn tails ----------------------------------------------------------

def test_output_dir_and_output_together_are_refused(server, tmp_path):
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", "--output-dir", str(tmp_path / "o"),
                  "--output", str(tmp_path / "x.jsonl"), stdin=TEXTS[0])
    assert run.returncode == 2 and "not allowed with argument" in run.stderr and "usage: khulasa digest" in run.stderr


@pytest.mark.parametrize("tail, redone", [('{"id": "r3", "translat', 2),  # cut mid-record: r3 is redone
                                          ('{"id": "r3", "translation": "x", "summary": ""}', 1)])  # cut before "\n"
def test_a_torn_last_line_is_repaired_before_appending(server, tmp_path, tail, redone):
    feed = _feed(tmp_path / "feed.jsonl", [{"id": f"r{i + 1}", "text": t} for i, t in enumerate(TEXTS)])
    results = tmp_path / "results.jsonl"
    args = ["--server", f"127.0.0.1:{server.port}", "digest", feed, "--output", str(results)]
    assert khulasa(*args).returncode == 0
    kept = [line for line in results.read_text().splitlines() if json.loads(line)["id"] in ("r1", "r2")]
    results.write_text("\n".join(kept) + "\n" + tail)  # killed while writing r3, no newline
    second = khulasa(*args)
    assert second.returncode == 0, second.stderr
    assert f"{redone} done, 0 failed, {4 - redone} skipped" in second.stderr
    assert sorted(r["id"] for r in _records(results)) == ["r1", "r2", "r3", "r4"]  # one record per id, all parseable


# -- 5. one unsendable record fails alone ---------------------------------------------------------

def test_unsendable_records_fail_alone_and_the_rest_go_on(server, tmp_path):
    records = [{"id": f"g{i}", "text": TEXTS[i % 4]} for i in range(18)]
    records += [{"id": "surrogate", "text": "نص \ud800 مكسور"}, {"id": "huge", "text": "ن" * 9_000_000}]
    records += [{"id": f"h{i}", "text": TEXTS[i % 4]} for i in range(3)]
    results = tmp_path / "results.jsonl"
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", _feed(tmp_path / "feed.jsonl", records),
                  "--output", str(results))
    assert run.returncode == 1
    assert "21 done, 2 failed" in run.stderr
    assert "surrogate: INVALID_ARGUMENT:" in run.stderr and "lone surrogate '\\ud800' at character 3" in run.stderr
    assert "huge: INVALID_ARGUMENT: text has 9000000 characters; the server's limit is 20000 (max_text_chars)" in run.stderr
    assert sorted(r["id"] for r in _records(results)) == sorted(r["id"] for r in records)


def test_a_record_over_the_servers_message_limit_fails_alone(bundles, tmp_path):
    server = start_server(bundles["tiny"], max_message_bytes=64 * 1024, max_text_chars=100_000)
    try:
        records = [{"id": "a", "text": TEXTS[0]}, {"id": "big", "text": "ن" * 40_000}, {"id": "b", "text": TEXTS[1]}]
        run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", _feed(tmp_path / "feed.jsonl", records),
                      "--concurrency", "1")
        assert run.returncode == 1
        assert "big: RESOURCE_EXHAUSTED: the request is 800" in run.stderr
        assert "bytes; the limit is 65536 (max_message_bytes)" in run.stderr
        assert "2 done, 1 failed" in run.stderr
    finally:
        server.stop(0)
