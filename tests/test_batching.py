"""The cross-request batcher, its cache, its queue bound, and dropping work nobody waits for."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
from conftest import start_server
from prometheus_client import REGISTRY

from khulasa_client import ApiError, Client, RetryPolicy
from khulasa_server.models import bundle
from khulasa_server.models.engines import Row, Runtime
from khulasa_server.models.engines.seq2seq import Seq2SeqEngine
from khulasa_server.models.scheduler import GatheringEngine, GatheringOptions, Overloaded
from khulasa_server.scope import Cancelled, DeadlineExceeded, RequestScope, current

TEXTS = ["ارتفعت أسعار النفط اليوم.", "فاز المنتخب في المباراة.", "قال الوزير إن الخطة جاهزة.", "سجلت البورصة مكاسب.",
         "افتتح الرئيس مستشفى جديدا.", "تراجع سعر الذهب.", "وصل الوزير إلى عمان.", "أطلقت الوكالة قمرا صناعيا."]


class Recorded(Seq2SeqEngine):
    """The real tiny translator, recording what each model call carried; `gate` can hold the
    model so that tests control timing."""

    def __init__(self, entry):
        super().__init__(entry, Runtime())
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.delay = 0.0

    def run(self, task, rows):
        self.gate.wait(30)
        time.sleep(self.delay)
        self.calls.append([r.text for r in rows])
        self.threads.add(threading.current_thread().name)
        return super().run(task, rows)


@pytest.fixture
def engine(bundles):
    return Recorded(bundle.load(bundles["tiny"]).model_for("translate"))


def _parallel(fn, args) -> list:
    results = [None] * len(args)

    def call(i):
        try:
            results[i] = fn(args[i])
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(args))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_requests_share_batches_and_get_their_own_results(engine):
    alone = {t: engine.run("translate", [Row(t)])[0].text for t in TEXTS}
    engine.calls.clear()
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.2, cache_size=0))
    try:
        results = _parallel(lambda t: batcher.run("translate", [Row(t)])[0].text, TEXTS)
    finally:
        batcher.close()
    assert results == [alone[t] for t in TEXTS]  # scattered back to the right caller
    assert len(engine.calls) < len(TEXTS) and max(len(c) for c in engine.calls) > 1


def test_callers_that_come_back_together_keep_one_batch(engine):
    """Closed-loop callers (each sends again when answered) return spread over more than
    max_delay; the batcher waits for all of them rather than splitting their batch."""
    engine.delay = 0.3  # a batch "decodes" for 0.3 s: the hold is 30 ms
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.002, cache_size=0))
    rounds = 4

    def caller(i: int) -> None:
        for r in range(rounds):
            batcher.run("translate", [Row(f"{TEXTS[i]} {r}")])
            time.sleep(0.002 * i)  # back 0-14 ms after the answer, like clients over a network

    try:
        _parallel(caller, list(range(len(TEXTS))))
    finally:
        batcher.close()
    sizes = [len(c) for c in engine.calls]
    assert sum(sizes) == rounds * len(TEXTS)
    # Thread start-up may split the first round; after that every batch is whole (the last
    # one holds whoever was left behind by that first split).
    assert len(sizes) <= rounds + 1 and all(n == len(TEXTS) for n in sizes[1:-1]), sizes


def test_replicas_share_the_callers_evenly(engine):
    """With two replicas (workers), closed-loop callers settle into two batches of half each,
    decoded side by side, rather than one full batch and an idle replica."""
    engine.delay = 0.3
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.002, cache_size=0), workers=2)
    rounds = 8

    def caller(i: int) -> None:
        for r in range(rounds):
            batcher.run("translate", [Row(f"{TEXTS[i]} {r}")])
            time.sleep(0.002 * (i % 4))

    try:
        _parallel(caller, list(range(len(TEXTS))))
        # A worker that lost a race for the queue must go back to waiting, not end.
        assert all(t.is_alive() for t in batcher.threads)
    finally:
        batcher.close()
    sizes = [len(c) for c in engine.calls]
    assert sum(sizes) == rounds * len(TEXTS) and len(engine.threads) == 2
    # The first rounds settle who goes with whom; then every batch is half the callers.
    assert sizes[4:-2] and all(n == len(TEXTS) // 2 for n in sizes[4:-2]), sizes


def test_cache_answers_repeats_without_the_model(engine):
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.0))
    try:
        first = batcher.run("translate", list(map(Row, TEXTS[:2])))
        calls = len(engine.calls)
        hits = REGISTRY.get_sample_value("khulasa_cache_total", {"result": "hit"}) or 0
        assert batcher.run("translate", list(map(Row, TEXTS[:2]))) == first
        assert len(engine.calls) == calls
        assert REGISTRY.get_sample_value("khulasa_cache_total", {"result": "hit"}) == hits + 2
    finally:
        batcher.close()


def test_full_queue_refuses_with_a_retry_hint(engine):
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.0, max_queue_tokens=40, cache_size=0))
    engine.gate.clear()  # the model is busy
    try:
        busy = threading.Thread(target=batcher.run, args=("translate", [Row(TEXTS[0])]))
        busy.start()
        time.sleep(0.2)  # the worker holds job 1 at the gate; the queue is empty again
        queued = threading.Thread(target=batcher.run, args=("translate", [Row(TEXTS[1] * 3)]))
        queued.start()
        time.sleep(0.1)
        with pytest.raises(Overloaded) as info:
            batcher.run("translate", [Row(TEXTS[2] * 3)])
        assert info.value.retry_after > 0 and "max_queue_tokens" in str(info.value)
    finally:
        engine.gate.set()
        busy.join(30)
        queued.join(30)
        batcher.close()


@pytest.mark.parametrize("scope, error", [
    (lambda: RequestScope(deadline=time.monotonic() + 0.2), DeadlineExceeded),
    (lambda: RequestScope(is_active=_flag_after(0.2)), Cancelled),
])
def test_expired_or_cancelled_work_never_reaches_the_model(engine, scope, error):
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.0, cache_size=0))
    engine.gate.clear()
    dropped = REGISTRY.get_sample_value("khulasa_dropped_total") or 0
    try:
        blocker = threading.Thread(target=batcher.run, args=("translate", [Row(TEXTS[0])]))
        blocker.start()
        time.sleep(0.1)
        token = current.set(scope())
        try:
            with pytest.raises(error):
                batcher.run("translate", [Row("هذا النص لن يترجم أبدا.")])
        finally:
            current.reset(token)
        engine.gate.set()
        blocker.join(30)
        time.sleep(0.2)
        assert all("هذا النص لن يترجم أبدا." not in call for call in engine.calls)
        assert REGISTRY.get_sample_value("khulasa_dropped_total") == dropped + 1
    finally:
        engine.gate.set()
        batcher.close()


def _flag_after(seconds: float):
    end = time.monotonic() + seconds
    return lambda: time.monotonic() < end


def test_overload_over_grpc_is_resource_exhausted_with_retry_info(bundles, seed_text):
    # The first article waits 300 ms for company; every other one arriving meanwhile finds the
    # 1-token queue full.
    server = start_server(bundles["tiny"], max_queue_tokens=1, batch_delay_ms=300)
    try:
        with Client(f"127.0.0.1:{server.port}", timeout=60, retry=RetryPolicy(max_attempts=1)) as c:
            results = _parallel(lambda i: c.digest(seed_text), list(range(6)))
        refused = [r for r in results if isinstance(r, ApiError)]
        assert refused and all(r.code == "RESOURCE_EXHAUSTED" for r in refused)
        assert all(r.retry_after and r.retry_after > 0 for r in refused)
        assert "max_queue_tokens" in refused[0].message
        assert any(not isinstance(r, Exception) and r.translation for r in results)
    finally:
        server.stop(0)


def test_client_deadline_is_deadline_exceeded(client, seed_text):
    with pytest.raises(ApiError) as info:
        client.digest(seed_text * 3, timeout=0.05)
    assert info.value.code == "DEADLINE_EXCEEDED"
    assert client.translate(["Hello"]).translations[0].text == "Hello"  # the server carries on


def test_metrics_endpoint(bundles):
    server = start_server(bundles["tiny"], metrics_listen="127.0.0.1:0")
    try:
        port = server.start_metrics()
        with Client(f"127.0.0.1:{server.port}", timeout=30) as c:
            c.digest("أعلنت الحكومة خطة جديدة للطاقة.")
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        for name in ('khulasa_requests_total{code="OK",front="grpc",rpc="Digest"}', "khulasa_request_seconds_bucket",
                     "khulasa_queue_tokens", "khulasa_batch_tokens_bucket", "khulasa_tokens_total",
                     "khulasa_cache_total", "khulasa_model_load_seconds"):
            assert name in body, name
    finally:
        server.stop(0)


def test_a_failing_input_fails_only_its_own_request(engine):
    """Three callers share a batch; one of their inputs makes the model call fail. The batch is
    decoded again one caller at a time, so the other two get their answers."""

    class Faulty(Recorded):
        def run(self, task, rows):
            if any("FAULT" in r.text for r in rows):  # an input the model cannot take
                self.calls.append([r.text for r in rows])
                raise ValueError("input the model cannot take")
            return super().run(task, rows)

    faulty = Faulty(engine.entry)
    batcher = GatheringEngine(faulty, GatheringOptions(max_delay=0.3, cache_size=0))
    try:
        results = _parallel(lambda t: batcher.run("translate", [Row(t)]), [TEXTS[0], "FAULT " + TEXTS[1], TEXTS[2]])
    finally:
        batcher.close()
    assert len(faulty.calls[0]) == 3  # they did share a batch
    assert isinstance(results[1], ValueError)
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception), results
    assert [r[0].text for r in (results[0], results[2])] == [engine.run("translate", [Row(t)])[0].text for t in TEXTS[0:3:2]]
