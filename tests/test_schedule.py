"""How the gathering engine schedules an LLM's calls (tiny-llm, real CTranslate2): one call at a
time, the next one planned over every row queued by then, so rows that arrive while a call runs
(a new request's paragraphs, a name repair's prompts) join the rows still waiting; and the
step counts each call leaves (models/engines/steps.py)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from khulasa_server.models import bundle
from khulasa_server.models.engines.base import Row, Runtime
from khulasa_server.models.engines.generator import GeneratorEngine
from khulasa_server.models.engines.steps import StepCounts, call_shape
from khulasa_server.models.scheduler import GatheringEngine, GatheringOptions

SHORT = "فاز المنتخب."
LONG = (
    "أعلنت وزارة المالية أن معدل التضخم تراجع إلى 3.2% في شهر مارس، وقال المتحدث باسم الوزارة إن الحكومة ستواصل "
    "دعم أسعار الخبز والوقود حتى نهاية العام، مشيرا إلى أن الميزانية الجديدة تتضمن زيادة في الإنفاق على الصحة والتعليم."
)
LONG_TOO = (
    "قال رئيس البنك المركزي في مؤتمر صحفي اليوم إن البنك سيبقي أسعار الفائدة دون تغيير خلال الاجتماع المقبل، "
    "وأضاف أن الاحتياطي من العملات الأجنبية ارتفع إلى 35 مليار دولار بفضل عائدات السياحة وتحويلات العاملين في الخارج."
)
NOTE = "Use these translations: المالية = Finance"


class Gated:
    """The engine's ctranslate2.Generator, recording each generate_batch call; while `open` is
    clear, each call waits for a permit (`allow`), so a test can queue work while one runs."""

    def __init__(self, model):
        self.model, self.calls = model, []
        self.entered, self.open = threading.Event(), threading.Event()
        self.open.set()
        self._permits = threading.Semaphore(0)

    def allow(self, calls: int = 1) -> None:
        for _ in range(calls):
            self._permits.release()

    def generate_batch(self, inputs, **options):
        self.entered.set()
        if not self.open.is_set():
            assert self._permits.acquire(timeout=30), "the test never let this call run"
        results = [r.result() for r in self.model.generate_batch(inputs, **options)]
        self.calls.append({"inputs": inputs, "options": options})
        return [SimpleNamespace(result=lambda r=r: r) for r in results]


@pytest.fixture
def gated(bundles):
    engine = GeneratorEngine(bundle.load(bundles["tiny-llm"]).model_for("translate"), Runtime())
    engine._model = Gated(engine._model)
    yield engine
    engine._model = None


def _in_thread(fn, *args) -> tuple[threading.Thread, list]:
    box: list = []
    thread = threading.Thread(target=lambda: box.append(fn(*args)))
    thread.start()
    return thread, box


def test_rows_queued_during_a_call_join_the_rows_still_waiting(gated):
    """A request with a short and a long paragraph takes two calls (prompt lengths differ too
    much to share one); a second request, with a long paragraph and a note as a name repair
    has, arrives while the first call runs. Its row is decoded in the same call as the first
    request's long paragraph, not in a call of its own after the first request is done."""
    engine = gated
    assert len(engine.plan("translate", [Row(SHORT), Row(LONG)])) == 2  # the premise: two calls
    assert len(engine.plan("translate", [Row(LONG), Row(LONG_TOO, note=NOTE)])) == 1  # and these share one
    short = engine.run("translate", [Row(SHORT)])[0].text
    together = [o.text for o in engine.run("translate", [Row(LONG), Row(LONG_TOO, note=NOTE)])]  # the call expected below
    engine._model.calls.clear()
    engine._model.entered.clear()
    engine._model.open.clear()
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.0, cache_size=0))
    try:
        first, first_out = _in_thread(batcher.run, "translate", [Row(SHORT), Row(LONG)])
        assert engine._model.entered.wait(30)
        queued = batcher.gatherer.queued_tokens
        second, second_out = _in_thread(batcher.run, "translate", [Row(LONG_TOO, note=NOTE)])
        while batcher.gatherer.queued_tokens == queued:  # the second request is in the queue
            threading.Event().wait(0.01)
        engine._model.allow(2)
        first.join(60)
        second.join(60)
    finally:
        batcher.close()
    calls = engine._model.calls
    assert len(calls) == 2, [len(c["inputs"]) for c in calls]
    assert len(calls[0]["inputs"]) == 1 and len(calls[1]["inputs"]) == 2
    assert calls[1]["options"]["static_prompt"]  # the repair's prompt shares the static prefix
    # and each request got its own rows' outputs back
    assert [o.text for o in first_out[0]] == [short, together[0]]
    assert second_out[0][0].text == together[1]


def test_a_request_is_answered_when_its_own_rows_are_done(gated):
    """Two requests gathered together: one short paragraph, and a short and a long one (two
    calls). The short request's row shares the first call and it is answered then, while
    the other request's long paragraph is still to be decoded; not after the whole batch."""
    engine = gated
    assert len(engine.plan("translate", [Row(SHORT), Row(LONG), Row("فاز الفريق.")])) == 2  # the premise
    engine._model.open.clear()
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.5, cache_size=0))
    try:
        both, both_out = _in_thread(batcher.run, "translate", [Row(SHORT), Row(LONG)])
        short, short_out = _in_thread(batcher.run, "translate", [Row("فاز الفريق.")])
        assert engine._model.entered.wait(30)
        engine._model.entered.clear()
        engine._model.allow()  # the first call: both requests' short rows
        assert engine._model.entered.wait(30)  # the second call is waiting for its permit
        short.join(30)
        answered_between = not short.is_alive() and both.is_alive()
        engine._model.allow()
        both.join(60)
    finally:
        batcher.close()
    assert [len(c["inputs"]) for c in engine._model.calls] == [2, 1]
    assert answered_between
    assert short_out and both_out


def test_step_counts_of_a_call():
    # rows with prompts 10, 12, 20 tokens: 10 prefilled each, the rest fed one per step
    counts = call_shape([10, 12, 20], [5, 9, 4])
    assert counts == StepCounts(calls=1, rows=3, steps=14, prefill=30, prompt=12, output=18, row_steps=42)
    assert counts.idle == 42 - 12 - 18


def test_the_engine_counts_its_steps(gated):
    engine = gated
    before = engine.steps.snapshot()
    outs = engine.run("translate", [Row(SHORT), Row(LONG)])
    after = engine.steps.snapshot()
    assert after.calls - before.calls == len(engine._model.calls[-2:]) == 2
    assert after.rows - before.rows == 2
    # every generated token is a counted row-step (plus the step that gave an end token)
    assert sum(o.tokens for o in outs) <= after.output - before.output <= sum(o.tokens for o in outs) + 2


SHORT_TOO = "فاز الفريق."
NAMED = "قال أيمن الصفدي إن المحادثات ستستأنف."  # a gazetteer name: the tiny model's output loses it
ARRIVED = "وصل الوفد إلى عمان مساء أمس."
MIDDLE = "أعلنت وزارة المالية أن معدل التضخم تراجع إلى ثلاثة في المئة في الربيع، وقال المتحدث باسم الوزارة إن الحكومة ستواصل دعم أسعار الخبز والوقود حتى نهاية العام."  # as long as NAMED's prompt with its repair note


def test_a_sparse_call_waits_for_rows_while_a_fuller_one_runs(gated):
    """A mixed queue: a one-paragraph request (short) and a two-paragraph one (long), planned
    as two calls. The call with two rows runs first; a short paragraph arriving meanwhile then
    joins the first request's short one: two calls of two rows each, where taking the oldest
    request's call first gives three calls (1, 2 and 1 rows) for the same rows."""
    engine = gated
    assert engine.plan("translate", [Row(SHORT), Row(LONG), Row(LONG_TOO)]) == [[0], [1, 2]]  # the premise
    assert len(engine.plan("translate", [Row(SHORT), Row(SHORT_TOO)])) == 1
    engine._model.open.clear()
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=0.5, cache_size=0))
    try:
        short, short_out = _in_thread(batcher.run, "translate", [Row(SHORT)])
        while not batcher.gatherer.queued_tokens:
            threading.Event().wait(0.01)
        longs, longs_out = _in_thread(batcher.run, "translate", [Row(LONG), Row(LONG_TOO)])
        assert engine._model.entered.wait(30)  # the first call, both requests gathered
        queued = batcher.gatherer.queued_tokens
        late, late_out = _in_thread(batcher.run, "translate", [Row(SHORT_TOO)])
        while batcher.gatherer.queued_tokens == queued:
            threading.Event().wait(0.01)
        engine._model.allow(3)
        for thread in (short, longs, late):
            thread.join(60)
    finally:
        batcher.close()
    sizes = [len(c["inputs"]) for c in engine._model.calls]
    assert sizes == [2, 2], sizes
    assert short_out and longs_out and late_out


def test_name_repairs_share_calls_with_first_passes(gated):
    """An article of three paragraphs: two short ones (one with a name the tiny model loses) and a
    longer one, planned as two calls. The name repair of the first call's paragraph is sent as
    soon as that call is back, and decodes with the longer paragraph's first pass (its prompt,
    with the repair's note, is as long), not in a call of repairs after every first pass."""
    from khulasa_server.pipeline import names
    from khulasa_server.pipeline.options import ArticleOptions
    from khulasa_server.pipeline.results import Timings
    from khulasa_server.pipeline.translation import TranslationStage
    from khulasa_server.text.segment import Paragraph

    engine = gated
    assert engine.plan("translate", [Row(NAMED), Row(ARRIVED), Row(MIDDLE)]) == [[1, 0], [2]]  # the premise
    names.find(NAMED)  # the gazetteer loaded: the repair is sent within the gatherer's hold
    batcher = GatheringEngine(engine, GatheringOptions(max_delay=2.0, cache_size=0))
    stage = TranslationStage(batcher)
    try:
        paragraphs = [Paragraph(NAMED, "\n"), Paragraph(ARRIVED, "\n"), Paragraph(MIDDLE, "")]
        results = list(stage.paragraphs(paragraphs, [True] * 3, ArticleOptions(), Timings(), stream=False))
    finally:
        batcher.close()
    assert stage.name_repairs.tried >= 1 and len(results) == 3  # the premise: paragraphs repaired
    repairs = [["Write every name" in engine._tok.decode(list(row)) for row in c["inputs"]] for c in engine._model.calls]
    assert not any(repairs[0]) and True in repairs[1] and False in repairs[1], repairs
