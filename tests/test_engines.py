"""Engines on the tiny models: length bounds, batching, and refusing oversized input."""

import pytest

from khulasa_server.models.engines.base import Row, batch_budget, length_bound, length_groups
from khulasa_server.models.schema import Decoding


def test_length_bound_follows_input_length():
    assert length_bound(Decoding(max_length_ratio=1.5, max_length_extra=8), 10) == 23
    assert length_bound(Decoding(max_decoding_length=60), 1000) == 60


def test_length_groups_cover_every_index_once_and_respect_the_budget():
    lengths = [5, 90, 7, 30, 30, 2, 64, 64, 1]
    groups = length_groups(lengths, 128)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        assert max(lengths[i] for i in g) * len(g) <= 128 or len(g) == 1


def test_beam_search_divides_the_batch_budget_by_the_beam():
    assert batch_budget(4096, Decoding()) == 4096
    assert batch_budget(4096, Decoding(beam_size=1)) == 4096
    assert batch_budget(4096, Decoding(beam_size=4)) == 1024
    assert batch_budget(2, Decoding(beam_size=8)) == 1  # never zero: one input still makes a batch


def test_random_weights_hit_the_length_bound_and_say_so(pipeline):
    engine = pipeline.translation.engine
    text = "أعلنت وزارة المالية أن معدل التضخم تراجع."
    [out] = engine.run("translate", [Row(text)])
    # Random weights never emit an end token: decoding stops at the bound tied to input length.
    assert out.hit_limit and out.tokens == length_bound(engine.entry.decoding["translate"], engine.count_tokens(text))
    assert out.text and out.score < 0


def test_batched_and_single_outputs_agree(pipeline):
    engine = pipeline.translation.engine
    texts = ["ارتفعت أسعار النفط.", "فاز المنتخب الوطني في المباراة النهائية أمس.", "قال الرئيس."]
    together = [o.text for o in engine.run("translate", list(map(Row, texts)))]
    assert together == [engine.run("translate", [Row(t)])[0].text for t in texts]


def test_input_over_budget_is_refused_not_truncated(pipeline):
    engine = pipeline.translation.engine
    with pytest.raises(ValueError, match="exceeds"):
        engine.run("translate", [Row("كلمة " * 500)])


def test_generator_prompt_uses_chat_format(llm_server):
    engine = llm_server.core.pipeline.translation.engine.engine  # beneath the server's batcher
    prompt = engine.prompt("translate", "نص {x} فيه أقواس")
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_start|>assistant\n")
    assert "نص {x} فيه أقواس" in prompt


def test_seq2seq_sends_no_more_batches_for_a_caller_that_has_gone(bundles):
    """A whole article reaches the engine in one run: its batches go a few at a time, each only
    while a caller of its texts is still there."""
    import threading

    from khulasa_server.models import bundle
    from khulasa_server.models.engines.base import Runtime
    from khulasa_server.models.engines.seq2seq import Seq2SeqEngine

    engine = Seq2SeqEngine(bundle.load(bundles["tiny"]).model_for("translate"), Runtime(max_batch_tokens=48))
    model = engine._model
    texts = [f"قال الوزير إن المحادثات رقم {i} ستستأنف غدا في العاصمة." for i in range(24)]

    def sent(alive):
        calls, gone = [], threading.Event()

        class Model:
            num_translators = 1

            def translate_batch(self, inputs, **options):
                calls.append(len(inputs))
                gone.set()  # the caller leaves once the first batch is on its way
                return model.translate_batch(inputs, **options)

        engine._model = Model()
        try:
            return calls, engine.run("translate", [Row(t, alive=lambda: alive or not gone.is_set()) for t in texts])
        finally:
            engine._model = model

    calls, outputs = sent(alive=True)
    assert len(calls) > 3 and all(o is not None for o in outputs)  # the control: many batches
    calls, outputs = sent(alive=False)
    assert len(calls) == 1 and sum(o is None for o in outputs) == len(texts) - calls[0]


def test_a_piece_the_target_sentencepiece_lacks_is_kept_not_dropped(bundles):
    """A Marian vocabulary is shared by source and target: a piece the target's sentencepiece
    model lacks is source text the model copied (a name), and must reach the reader."""
    from khulasa_server.models import bundle
    from khulasa_server.models.tokenizers import load_tokenizers

    _, target = load_tokenizers(bundle.load(bundles["tiny"]).model_for("translate"))
    known = [target._sp.id_to_piece(i) for i in range(10, 13)]  # pieces of the target's own model
    assert "▁بيسكوف" not in known and target._sp.piece_to_id("▁بيسكوف") == target._sp.unk_id()
    decoded = target.decode([*known, "▁بيسكوف"])
    assert decoded.startswith(target.decode(known)) and "بيسكوف" in decoded
