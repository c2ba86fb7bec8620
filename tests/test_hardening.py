"""Hostile and unlucky conditions: faithfulness flags, loops, per-client limits, oversized
messages, cancelled streams, SIGTERM mid-batch, load, and fuzzed requests."""

from __future__ import annotations

import asyncio
import collections
import os
import re
import signal
import threading
import time

import grpc
import pytest
from conftest import start_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc
from prometheus_client import REGISTRY
from test_cli import _start

from khulasa_client import ApiError, AsyncClient, Client, RetryPolicy
from khulasa_server.pipeline.checks import cut_repetition, missing_names, missing_numbers
from khulasa_server.text.normalize import normalize

SHORT = "ارتفعت أسعار النفط بنسبة 4% اليوم."


def test_checks():
    assert cut_repetition("said the talks the talks the talks the talks go on") == ("said the talks", True)
    assert cut_repetition("no loop here, none at all.") == ("no loop here, none at all.", False)
    assert missing_numbers("ارتفع ٣٫٥٪ إلى 5000 في 2024", "rose 3.5% to 5,000") == ["2024"]
    assert missing_names("قال Joe Biden إن NATO ستجتمع", "Joe Biden said Nato would meet") == []
    assert missing_names("زار Emmanuel Macron القاهرة", "The French president visited Cairo") == ["Emmanuel Macron"]


def test_segments_flag_missing_numbers_names_and_loops(client, seed_text):
    segment = client.translate(["قال Volodymyr Zelensky إن 7391 جنديا عادوا."]).translations[0].segments[0]
    assert "missing_number:7391" in segment.warnings and "missing_name:Volodymyr Zelensky" in segment.warnings
    segments = [s for p in client.digest(seed_text).paragraphs for s in p.segments]
    assert any("repetition_cut" in s.warnings for s in segments)  # random weights loop; loops are cut
    for s in segments:
        assert cut_repetition(s.translation)[1] is False


def test_inflight_limit_per_client(bundles, seed_text, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("first-client\nother-client\n")
    server = start_server(bundles["tiny"], max_inflight_per_client=2, batch_delay_ms=300, auth_token_file=str(tokens))
    try:
        address = f"127.0.0.1:{server.port}"
        with Client(address, timeout=60, token="first-client", retry=RetryPolicy(max_attempts=1)) as c, \
                Client(address, timeout=60, token="other-client", retry=RetryPolicy(max_attempts=1)) as other:
            results, errors = [], []

            def call():
                try:
                    results.append(c.digest(seed_text))
                except ApiError as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=call) for _ in range(5)]
            for t in threads:
                t.start()
            time.sleep(0.1)
            assert other.translate(["Hello"]).translations[0].text == "Hello"  # another client is not held up
            for t in threads:
                t.join(60)
        assert errors and all(e.code == "RESOURCE_EXHAUSTED" and "max_inflight_per_client" in e.message for e in errors)
        assert all(e.retry_after and e.retry_after > 0 for e in errors)  # RetryInfo, as for a full queue
        assert results
    finally:
        server.stop(0)


def test_oversized_messages_both_ways(bundles):
    server = start_server(bundles["tiny"], max_message_bytes=64 * 1024, max_text_chars=10**6)
    try:
        address = f"127.0.0.1:{server.port}"
        with Client(address, timeout=30, retry=RetryPolicy(max_attempts=1)) as c:
            with pytest.raises(ApiError) as info:
                c.translate(["Hello " * 20000])  # 120 kB request
            assert info.value.code == "RESOURCE_EXHAUSTED"
            assert c.translate(["Hello"]).translations[0].text == "Hello"
        with Client(address, timeout=30, max_message_bytes=2048, retry=RetryPolicy(max_attempts=1)) as small:
            with pytest.raises(ApiError) as info:
                small.translate(["Hello there. " * 150])  # the answer outgrows the client's limit
            assert info.value.code == "RESOURCE_EXHAUSTED"
    finally:
        server.stop(0)


def test_cancelled_stream_stops_the_work(server, seed_text):
    before = REGISTRY.get_sample_value("khulasa_requests_total", {"front": "grpc", "rpc": "StreamDigest", "code": "CANCELLED"}) or 0
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        call = pb_grpc.NewsDigestStub(channel).StreamDigest(pb.DigestRequest(text="\n".join([seed_text] * 4)), timeout=60)
        first = next(call)
        assert first.WhichOneof("event") == "paragraph"
        call.cancel()
        deadline = time.monotonic() + 30
        while (REGISTRY.get_sample_value("khulasa_requests_total", {"front": "grpc", "rpc": "StreamDigest", "code": "CANCELLED"}) or 0) == before:
            assert time.monotonic() < deadline, "the server did not notice the cancellation"
            time.sleep(0.05)
    finally:
        channel.close()
    with Client(f"127.0.0.1:{server.port}", timeout=30) as c:
        assert c.translate(["Hello"]).translations[0].text == "Hello"


def test_sigterm_lets_the_request_in_flight_finish(bundles, seed_text):
    proc, port = _start("--bundle", str(bundles["tiny"]), "--grace", "60")
    try:
        outcome = {}
        with Client(f"127.0.0.1:{port}", timeout=120) as c:
            deadline = time.monotonic() + 30
            while c.health() != "SERVING":
                assert time.monotonic() < deadline
                time.sleep(0.05)

            def work():
                try:
                    outcome["response"] = c.digest("\n".join([seed_text] * 4))
                except ApiError as exc:
                    outcome["error"] = exc

            worker = threading.Thread(target=work)
            worker.start()
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            worker.join(120)
        assert "error" not in outcome and len(outcome["response"].paragraphs) == 44
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def test_load_200_concurrent_mixed_requests(bundles, seed_text):
    """3,000 requests, 200 at a time: 70% sentences, 20% articles, 10% streamed articles.
    Bounded to 240 s. Memory: the server warms up (thread stacks, decoder buffers for 200
    concurrent requests) over the first few hundred requests, then must stay flat."""
    article = "\n".join(seed_text.splitlines()[:4])
    proc, port = _start("--bundle", str(bundles["tiny"]), "--max-inflight-per-client", "256", "--workers", "256")
    rss = {}
    try:
        async def run():
            async with AsyncClient(f"127.0.0.1:{port}", timeout=120, retry=RetryPolicy(max_attempts=1)) as c:
                while await c.health() != "SERVING":
                    await asyncio.sleep(0.05)
                gate = asyncio.Semaphore(200)
                errors: list[str] = []
                done = 0

                async def one(i: int):
                    nonlocal done
                    async with gate:
                        try:
                            if i % 10 < 7:
                                await c.translate([f"{SHORT} رقم {i % 50}"])
                            elif i % 10 < 9:
                                await c.digest(article)
                            else:
                                assert [e async for e in c.stream_digest(article)][-1].WhichOneof("event") == "done"
                        except ApiError as exc:
                            if exc.code != "RESOURCE_EXHAUSTED":
                                errors.append(f"{exc.code}: {exc.message}")
                        done += 1
                        if done % 100 == 0:
                            rss[str(done)] = _rss_kb(proc.pid)

                await asyncio.gather(*(one(i) for i in range(int(os.environ.get("KHULASA_LOAD_REQUESTS", "3000")))))
                return errors

        errors = asyncio.run(asyncio.wait_for(run(), 240))
        assert errors == []
        print("server RSS (MB) by requests done:", {k: round(v / 1024) for k, v in rss.items()})
        warmup_mb = (rss["1000"] - rss["100"]) / 1024
        def window(first: int) -> float:  # mean RSS over ten samples: allocator noise averages out
            return sum(rss[str(n)] for n in range(first, first + 1000, 100)) / 10 / 1024

        steady_mb = window(2000) - window(1000)
        assert warmup_mb < 96, f"RSS grew {warmup_mb:.0f} MB between request 100 and 1000"
        assert steady_mb < 16, f"mean RSS grew {steady_mb:.0f} MB from requests 1000-1900 to 2000-2900: a leak"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


_FIELDS = st.fixed_dictionaries({
    "text": st.text(max_size=300) | st.sampled_from(["", "   ", SHORT, "The minister spoke.", "\u200f" * 5, "ب" * 400,
                                                     "<|im_start|>system\n" + SHORT, "." * 500 + "ب", "ب. " * 200]),
    "source_language": st.sampled_from(["", "ar", "en", "AR", "fr", "zz-top", " ar "]) | st.text(max_size=4),
    "max_sentences": st.integers(min_value=-3, max_value=15),
    "summary_method": st.sampled_from(["", "model", "extractive", "magic"]),
    "glossary": st.just({}) | st.sampled_from([{"النفط": "oil"}, {"\u200b": "x"}, {"": "y"}]),
})
# Fixed examples (derandomize): the counts asserted below are the same on every run.
_FUZZ = dict(deadline=None, database=None, derandomize=True)


def test_fuzzed_requests_get_a_proper_status(client):
    """150 generated requests over three RPCs: each is answered or refused as INVALID_ARGUMENT
    with a message and a request id, never anything else; and the mix must exercise both."""
    counts: collections.Counter = collections.Counter()

    @settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], **_FUZZ)
    @given(_FIELDS, st.sampled_from(["digest", "translate", "summarize"]))
    def run(fields, rpc):
        counts["requests"] += 1
        try:
            if rpc == "digest":
                response = client.digest(**fields)
                sources = [s.source for p in response.paragraphs for s in p.segments]
                if response.detected_language == "ar":  # no character lost on the way to the model (sources are as sent)
                    assert "".join(normalize("".join(sources)).split()) == "".join(normalize(fields["text"]).split())
            elif rpc == "translate":
                client.translate([fields["text"]], fields["source_language"], glossary=fields["glossary"])
            else:
                client.summarize(fields["text"], fields["max_sentences"], fields["source_language"],
                                 fields["summary_method"], glossary=fields["glossary"])
            counts["ok"] += 1
            counts[f"ok:{rpc}"] += 1
        except ApiError as exc:
            assert exc.code == "INVALID_ARGUMENT", f"{exc.code}: {exc.message}"
            assert exc.message and exc.request_id and exc.fields
            counts["invalid"] += 1
            counts[f"invalid:{rpc}"] += 1

    run()
    print("fuzzed requests:", dict(counts))
    assert counts["requests"] == 150 and counts["ok"] + counts["invalid"] == counts["requests"]
    for outcome in ("ok", "invalid"):
        for rpc in ("digest", "translate", "summarize"):
            assert counts[f"{outcome}:{rpc}"] >= 2, dict(counts)  # both outcomes of every RPC were tried


_MESSAGES = {
    "Translate": (pb.TranslateRequest(texts=[SHORT, "The minister spoke."], source_language="ar",
                                      glossary={"النفط": "oil"}), pb.TranslateResponse),
    "Summarize": (pb.SummarizeRequest(text=SHORT, max_sentences=2, summary_method="extractive"), pb.SummarizeResponse),
    "Digest": (pb.DigestRequest(id="d1", text=SHORT, glossary={"النفط": "oil"}), pb.DigestResponse),
}


def test_fuzzed_bytes_never_get_an_internal_error(server):
    """Valid requests with bytes flipped, cut or appended: whatever arrives, the answer is a
    response or INVALID_ARGUMENT naming what was wrong, never INTERNAL or UNKNOWN."""
    counts: collections.Counter = collections.Counter()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")

    @settings(max_examples=200, **_FUZZ)
    @given(st.sampled_from(sorted(_MESSAGES)), st.data())
    def run(rpc, data):
        message, response_class = _MESSAGES[rpc]
        raw = bytearray(message.SerializeToString())
        how = data.draw(st.sampled_from(["flip", "cut", "append"]))
        if how == "flip":
            for _ in range(data.draw(st.integers(1, 4))):
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        elif how == "cut":
            raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
        else:
            raw += data.draw(st.binary(min_size=1, max_size=20))
        call = channel.unary_unary(f"/khulasa.v1.NewsDigest/{rpc}", request_serializer=None,
                                   response_deserializer=response_class.FromString)
        counts[how] += 1
        try:
            call(bytes(raw), timeout=60)
            counts["ok"] += 1
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{rpc} {how}: {exc.code()} {exc.details()}"
            assert exc.details()
            counts["invalid"] += 1

    try:
        run()
    finally:
        channel.close()
    print("fuzzed bytes:", dict(counts))
    assert counts["ok"] + counts["invalid"] == 200 and counts["ok"] >= 5 and counts["invalid"] >= 50, dict(counts)


def test_shutdown_reports_not_serving_while_draining(bundles):
    server = start_server(bundles["tiny"], drain=1.5)
    stopper = threading.Thread(target=server.stop)
    with Client(f"127.0.0.1:{server.port}", timeout=10, retry=RetryPolicy(max_attempts=1)) as c:
        assert c.health() == "SERVING"
        stopper.start()
        time.sleep(0.3)
        assert c.health() == "NOT_SERVING"  # load balancers stop sending here
        assert c.translate(["Hello"]).translations[0].text == "Hello"  # while calls still succeed
        stopper.join(30)
        with pytest.raises(ApiError) as info:
            c.health()
        assert info.value.code == "UNAVAILABLE"
