"""tiny-nllb: an NLLB-type translator (language codes as source and target prefix), built by
`khulasa-models build tiny-nllb` and served end to end over gRPC on 127.0.0.1."""

from __future__ import annotations

import pytest
from conftest import start_server

from khulasa_client import Client
from khulasa_server.models import bundle
from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import split_paragraphs
from khulasa_server.tools.models_cli import main as models_main


class RecordedModel:
    """The real CTranslate2 translator, recording the options of each translate_batch call."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def translate_batch(self, source, **options):
        self.calls.append({"source": source, **options})
        return self.model.translate_batch(source, **options)


@pytest.fixture(scope="module")
def nllb_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("nllb") / "tiny-nllb"
    assert models_main(["build", "tiny-nllb", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def nllb_server(nllb_bundle):
    server = start_server(nllb_bundle)
    yield server
    server.stop(0)


def test_the_bundle_says_how_languages_are_marked(nllb_bundle):
    entry = bundle.load(nllb_bundle).model_for("translate")
    assert (entry.family, entry.engine, entry.tokenizer.kind) == ("nllb", "seq2seq", "sentencepiece")
    assert entry.source_prefix == ("arb_Arab",) and entry.source_suffix == ("</s>",) and entry.target_prefix == ("eng_Latn",)


def test_translate_and_digest_over_grpc(nllb_server, seed_text):
    engine = nllb_server.core.pipeline.translation.engine.engine
    model = engine._model = RecordedModel(engine._model)
    with Client(f"127.0.0.1:{nllb_server.port}", timeout=120) as client:
        info = client.model_info()
        assert {m.name: m.family for m in info.models} == {"translator": "nllb", "summarizer": "bart"}
        [translation] = client.translate(["أعلنت الحكومة خطة جديدة للطاقة."]).translations
        assert translation.detected_language == "ar" and translation.text and translation.segments[0].score < 0
        sent = model.calls[-1]
        # The source language's code starts each source, the target's is forced first.
        assert all(s[0] == "arb_Arab" and s[-1] == "</s>" for s in sent["source"])
        assert sent["target_prefix"] == [["eng_Latn"]] * len(sent["source"])
        digest = client.digest(seed_text, id="n1")
    assert digest.id == "n1" and digest.detected_language == "ar"
    assert len(digest.paragraphs) == len(split_paragraphs(normalize(seed_text))) == 11
    assert digest.translation and digest.summary
    # Language codes are vocabulary, not text: random weights emit them anywhere, and no reader sees one.
    assert not any(code in s.translation for p in digest.paragraphs for s in p.segments for code in ("eng_Latn", "arb_Arab"))
