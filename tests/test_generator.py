"""How the LLM engine decodes a batch (tiny-llm, real CTranslate2): the shared system prompt,
groups by prompt length, each output's own bound, and stopping a summary once it has enough
sentences."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khulasa_server.models import bundle
from khulasa_server.models.engines.base import Row, Runtime, length_bound
from khulasa_server.models.engines.generator import GeneratorEngine, _Stopper, prompt_groups
from khulasa_server.pipeline.results import SummarySentence
from khulasa_server.pipeline.summary import within_words
from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import sentences_of

TEXTS = ["قال الوزير إن المحادثات ستستأنف.", "ارتفعت أسعار النفط في الأسواق العالمية أمس بعد إعلان خفض الإنتاج.",
         "فاز المنتخب.", "أعلنت وزارة المالية أن معدل التضخم تراجع إلى 3.2% في شهر مارس، وقال المتحدث إن الحكومة ستواصل دعم الأسعار."]


class Recorder:
    """The engine's ctranslate2.Generator, recording each generate_batch call and its results."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def generate_batch(self, inputs, **options):
        results = [r.result() for r in self.model.generate_batch(inputs, **options)]
        self.calls.append({"inputs": inputs, "options": options, "results": results})
        return [SimpleNamespace(result=lambda r=r: r) for r in results]


@pytest.fixture(scope="module")
def engine(bundles):
    return GeneratorEngine(bundle.load(bundles["tiny-llm"]).model_for("translate"), Runtime())


@pytest.fixture
def recorded(engine):
    model = engine._model
    engine._model = Recorder(model)
    yield engine
    engine._model = model


def test_shared_system_prompt_gives_the_same_tokens_as_the_full_prompt(recorded):
    engine = recorded
    options = engine.entry.decoding["translate"]
    for text, note in [(TEXTS[1], ""), (TEXTS[3], "Use these translations: المالية = Finance")]:
        [out] = engine.run("translate", [Row(text, note=note)])
        [call] = engine._model.calls[-1:]
        static = call["options"]["static_prompt"]
        assert static and static == engine.static_prompt("translate")  # the prefix was shared
        full = engine.prompt_tokens("translate", text, note)
        assert static + call["inputs"][0] == full  # and the model saw exactly the prompt's tokens
        [alone] = engine._model.model.generate_batch(
            [full], max_length=length_bound(options, engine.count_tokens(text)), include_prompt_in_result=False,
            end_token=list(engine.entry.end_tokens), repetition_penalty=float(options.repetition_penalty))
        assert call["results"][0].sequences[0] == alone.sequences[0]


def test_each_output_stops_at_its_own_bound(recorded):
    engine = recorded
    texts = ["قال الوزير إن المحادثات ستستأنف الأسبوع المقبل.",
             "قال الوزير إن المحادثات ستستأنف الأسبوع المقبل في العاصمة بعد توقف دام شهرين."]
    options = engine.entry.decoding["translate"]
    bounds = [length_bound(options, engine.count_tokens(t)) for t in texts]
    assert bounds[0] < bounds[1]
    engine.run("translate", list(map(Row, texts)))
    [call] = engine._model.calls  # close lengths: one call, decoded up to the longer bound
    assert call["options"]["max_length"] == bounds[1] and call["options"]["max_batch_size"] == 0
    short, long = sorted(call["results"], key=lambda r: len(r.sequences[0]))
    assert len(long.sequences[0]) == bounds[1]  # random weights run to their bound
    assert len(short.sequences[0]) <= bounds[0]  # the other stopped at its own


def test_one_call_when_lengths_are_close_and_split_when_far(recorded):
    engine = recorded
    engine.run("translate", [Row(TEXTS[1]), Row(TEXTS[1].replace("أمس", "اليوم"))])
    assert len(engine._model.calls) == 1 and len(engine._model.calls[0]["inputs"]) == 2
    engine._model.calls.clear()
    engine.run("translate", [Row(TEXTS[2]), Row(TEXTS[3] + " " + TEXTS[3])])
    assert len(engine._model.calls) == 2  # the short prompt is not fed token by token behind the long one


def test_prompt_groups_plan():
    lengths = [60, 140, 150, 145, 62, 138]
    outputs = [10, 80, 90, 85, 12, 78]
    groups = prompt_groups(lengths, outputs, 4096)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert sorted(map(sorted, groups)) == [[0, 4], [1, 2, 3, 5]]
    # Within the budget of tokens held (prompt and expected output): no group over it unless
    # it has one member.
    for budget in (300, 700):
        for g in prompt_groups(lengths, outputs, budget):
            assert max(lengths[i] + outputs[i] for i in g) * len(g) <= budget or len(g) == 1
    # Short prompts with long outputs hold their outputs too: 6 rows × (20 + 200) > 1000.
    assert all(len(g) <= 4 for g in prompt_groups([20] * 6, [200] * 6, 1000))
    # Equal prompts always share a call; with no cost per member, any split costs more steps.
    assert prompt_groups([100] * 6, [50] * 6, 4096) == [list(range(6))]
    assert len(prompt_groups([100, 110, 120], [50, 50, 50], 4096, row_cost=0.0)) == 1


def test_summary_stops_once_enough_sentences_are_complete(recorded):
    engine = recorded
    engine.run("summarize", [Row("The talks resume in May. Prices rose.", max_sentences=1)])
    assert engine._model.calls[-1]["options"]["callback"] is not None


def _stopped(text: str, cuts: list[int], stop: _Stopper) -> tuple[list[str], int]:
    """The text cut into tokens of the given lengths, and how many of them a stopper takes before
    it ends the row (all of them if it never does)."""
    tokens, at = [], 0
    for n in cuts * (len(text) // len(cuts) + 1):
        if at >= len(text):
            break
        tokens.append(text[at:at + n])
        at += n
    fed = 0
    for fed, token in enumerate(tokens, 1):
        if stop(SimpleNamespace(batch_id=0, token=token)):
            break
    return tokens, fed


@settings(max_examples=300, deadline=None)
@given(
    sentences=st.lists(st.sampled_from([
        "The minister said talks resume.", "Prices rose 3.2% in March!", "Dr. Smith met the U.S. envoy.",
        'He said: "We will win."', "Is it over?", "J. K. Rowling wrote it.", "Shares fell...", "(Reuters) Oil rose.",
        "It cost 4.5 billion.", "\nA new paragraph starts.", "e.g. this one.", "”", "...",
    ]), min_size=1, max_size=7),
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=200),
    limit=st.integers(1, 4),
)
def test_a_stopped_summary_keeps_the_same_first_sentences(sentences, cuts, limit):
    """Wherever decoding stops, the sentences the pipeline keeps are those of the whole text."""
    text = " ".join(sentences)
    tokens, fed = _stopped(text, cuts, _Stopper([10_000], [limit], [lambda: True], "".join))
    prefix, whole = normalize("".join(tokens[:fed])), normalize(text)  # the pipeline normalizes a summary
    assert sentences_of(prefix)[:limit] == sentences_of(whole)[:limit]
    if fed < len(tokens):  # it stopped early: enough sentences were there
        assert len(sentences_of(prefix)) > limit


@settings(max_examples=300, deadline=None)
@given(
    sentences=st.lists(st.sampled_from([
        "The minister said talks resume.", "Prices rose 3.2% in March, the statistics office said on Monday!",
        "Dr. Smith met the U.S. envoy.", 'He said: "We will win."', "Is it over?", "Shares fell...",
        "It cost 4.5 billion.", "\nA new paragraph starts.", "”", "...", "A very long sentence " * 9 + "ends.",
    ]), min_size=1, max_size=7),
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=200),
    limit=st.integers(1, 4),
    words=st.integers(3, 40),
)
def test_a_summary_stopped_at_its_words_keeps_what_the_whole_would_keep(sentences, cuts, limit, words):
    """Decoding stops once the settled sentences hold more than max_words words: the summary
    keeps only sentences within them (within_words), so what it keeps is what the whole output
    gives. (Stopping at the first word past the bound would not do: "resume. P" is no sentence
    boundary yet, where the whole text's "resume. Prices" is.)"""
    text = " ".join(sentences)
    tokens, fed = _stopped(text, cuts, _Stopper([10_000], [limit], [lambda: True], "".join, [words]))

    def kept(output: str) -> list[str]:
        return [s.text for s in within_words([SummarySentence(s, [0]) for s in sentences_of(normalize(output))[:limit]], words)]

    assert kept("".join(tokens[:fed])) == kept(text)
    settled = sentences_of(normalize("".join(tokens[:fed])))
    if fed < len(tokens) and len(settled) <= limit:  # it stopped for its words
        assert sum(len(s.split()) for s in settled[:-1]) > words


def test_a_summary_row_stops_once_its_settled_sentences_are_over_the_words():
    """Six words in two settled sentences are over five: the row ends as the third begins (its
    words could never be kept), where without the bound it runs on."""
    text = "Talks resume in May. Prices rose again. Markets fell sharply on Monday."
    tokens = [w + " " for w in text.split()]
    assert _stopped(text, [len(t) for t in tokens], _Stopper([10_000], [0], [lambda: True], "".join, [5]))[1] == 8
    assert _stopped(text, [len(t) for t in tokens], _Stopper([10_000], [0], [lambda: True], "".join, [7]))[1] == 12
    assert _stopped(text, [len(t) for t in tokens], _Stopper([10_000], [0], [lambda: True], "".join))[1] == 12


def test_decoding_stops_for_a_text_whose_caller_has_gone(engine):
    """A whole article decodes in one call: a caller that leaves must not keep the model busy
    with its rows until the longest is done; the others decode on."""
    options = engine.entry.decoding["translate"]
    here, gone = engine.run("translate", [Row(TEXTS[3], alive=lambda: True), Row(TEXTS[3], alive=lambda: False)])
    assert gone.tokens <= 1  # stopped at its first step
    assert here.tokens > 1 and here.tokens <= length_bound(options, engine.count_tokens(TEXTS[3]))


def test_a_gone_caller_gets_an_error_not_a_cut_translation(engine):
    from khulasa_server.scope import Cancelled, RequestScope, current

    token = current.set(RequestScope(is_active=lambda: False))
    try:
        with pytest.raises(Cancelled):
            engine.run("translate", list(map(Row, TEXTS[:2])))
    finally:
        current.reset(token)



def test_worked_examples_are_earlier_turns_of_the_cached_prefix(recorded):
    """The bundle's examples come after the system prompt as whole chat turns, inside the
    static prompt: computed once, and given to CTranslate2 as static_prompt on every call."""
    from khulasa_server.models.engines.generator import render_prompt

    engine = recorded
    examples = engine.entry.prompts["translate"].examples
    assert len(examples) == 6  # the tiny bundle carries the recipe's examples in its manifest
    prompt = render_prompt(engine.entry, "translate", TEXTS[0])
    for text, answer in examples:
        assert f"{text}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n<|im_start|>user\n" in prompt
    assert prompt.index(examples[-1][1]) < prompt.index(TEXTS[0])
    static = engine.static_prompt("translate")
    answer = engine._tok.encode(examples[-1][1])
    assert any(static[i : i + len(answer)] == answer for i in range(len(static)))
    engine.run("translate", [Row(TEXTS[0])])
    engine.run("translate", [Row(TEXTS[1])])
    assert engine.static_prompt("translate") is static  # computed once
    assert all(call["options"]["static_prompt"] == static for call in engine._model.calls)


def test_examples_round_trip_through_the_manifest_and_bad_ones_are_named():
    from khulasa_server.errors import BundleError
    from khulasa_server.models.schema import Prompt

    raw = {"user": "Translate: {text}", "examples": [{"text": "مرحبا", "answer": "Hello"}]}
    prompt = Prompt.from_dict(raw, "models.llm.prompts.translate")
    assert prompt.examples == (("مرحبا", "Hello"),) and Prompt.from_dict(prompt.to_dict(), "x") == prompt
    assert "examples" not in Prompt(user="{text}").to_dict()  # manifests without examples stay as they were
    with pytest.raises(BundleError, match=r"translate.examples\[0\]: expected non-empty strings text and answer"):
        Prompt.from_dict({"user": "{text}", "examples": [{"text": "مرحبا"}]}, "models.llm.prompts.translate")


@pytest.mark.parametrize("examples", [0, 2])
def test_the_default_bundle_lists_the_examples_it_was_built_with(tmp_path, monkeypatch, examples):
    """`khulasa-models build qwen2.5-coder-1.5b [--examples N]`: none by default (two keep more
    names but make batched decoding up to 2x slower, docs/quality.md); with N, the recipe's first
    N, their Arabic with the names in English as names-in-source writes a text. The 1.1 GB
    download and its conversion are not what this checks: they are replaced by a file."""
    import json

    from khulasa_server.models import bundle as bundle_mod
    from khulasa_server.tools.models_cli import main as models_main
    from khulasa_server.tools.recipes import presets, prompts

    def convert(_gguf, out):
        out.mkdir(parents=True)
        (out / "model.bin").write_bytes(b"weights")
        return {"chat_format": "chatml"}

    monkeypatch.setattr(presets, "fetch", lambda *a: tmp_path / "model.gguf")
    monkeypatch.setattr(presets.gguf_qwen2, "convert", convert)
    out = tmp_path / "bundle"
    assert models_main(["build", "qwen2.5-coder-1.5b", "--out", str(out), "--examples", str(examples)]) == 0
    raw = json.loads((out / bundle_mod.MANIFEST).read_text(encoding="utf-8"))
    listed = raw["models"]["llm"]["prompts"]["translate"].get("examples", [])
    assert [e["answer"] for e in listed] == [a for _, a in prompts.EXAMPLES[:examples]]
    if examples:
        assert "Khaled Nouri" in listed[1]["text"] and "Monday" in listed[1]["text"]
        assert "French" in listed[0]["text"] and "الفرنسية" not in listed[0]["text"]


def test_examples_are_for_the_default_bundle_only(tmp_path, capsys):
    from khulasa_server.tools.models_cli import main as models_main

    assert models_main(["build", "tiny-llm", "--out", str(tmp_path / "b"), "--examples", "2"]) == 2
    assert "--examples applies to qwen2.5-coder-1.5b only" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    # the same when the bundle is already built
    assert models_main(["build", "tiny-llm", "--out", str(tmp_path / "b")]) == 0
    assert models_main(["build", "tiny-llm", "--out", str(tmp_path / "b"), "--examples", "2"]) == 2
    assert "--examples applies to qwen2.5-coder-1.5b only" in capsys.readouterr().err
