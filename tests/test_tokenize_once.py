"""A translated piece is tokenized once: when it is cut to the budget. The count, the gathering
engine's queue accounting, the engine and the timings all reuse those tokens."""

import collections

import pytest

from khulasa_server.models.engines import Runtime
from khulasa_server.models.scheduler import GatheringOptions
from khulasa_server.pipeline import Pipeline

SENTENCES = ["ارتفعت أسعار النفط اليوم.", "قال الوزير إن المحادثات ستستأنف الأسبوع المقبل في العاصمة."]


@pytest.fixture(params=["tiny", "tiny-llm"])
def served(request, bundles):
    """A pipeline as the server sets it up (gathering across requests, no cache), and a count of
    what its translator's tokenizer encodes."""
    gathering = GatheringOptions(max_batch_tokens=4096, max_delay=0.0, max_queue_tokens=1 << 30, cache_size=0)
    pipeline = Pipeline.load(bundles[request.param], Runtime(), gathering=gathering)
    engine = pipeline.translation.engine.engine
    tok = engine._source_tok if hasattr(engine, "_source_tok") else engine._tok
    encoded: collections.Counter = collections.Counter()
    encode = tok.encode

    def counted(text):
        encoded[text] += 1
        return encode(text)

    tok.encode = counted
    yield pipeline, encoded
    pipeline.close()


def test_each_piece_is_tokenized_once_on_its_way_to_the_model(served):
    pipeline, encoded = served
    pipeline.translation.repair_names = False  # a name repair decodes a piece again, on purpose
    results = pipeline.translate(["\n".join(SENTENCES)])
    assert [s.source for s in results[0].segments] == SENTENCES
    assert [encoded[s] for s in SENTENCES] == [1, 1]
    assert results[0].text
