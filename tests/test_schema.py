"""The typed manifest: what recipes write is what the server reads, and nothing unknown passes."""

import json
import shutil

import pytest

from khulasa_server.errors import BundleError
from khulasa_server.models import bundle
from khulasa_server.models.schema import Decoding, ModelEntry, TokenizerSpec
from khulasa_server.tools.models_cli import main as models_main


def _with(bundles, tmp_path, kind, change):
    copy = tmp_path / "b"
    shutil.copytree(bundles[kind], copy)
    manifest = json.loads((copy / bundle.MANIFEST).read_text())
    change(manifest)
    (copy / bundle.MANIFEST).write_text(json.dumps(manifest))
    return copy


@pytest.mark.parametrize("kind, change, says", [
    ("tiny", lambda m: m["models"]["translator"]["decoding"]["translate"].update(beam_sise=4),
     "models.translator.decoding.translate.beam_sise: unknown option; known: beam_size,"),
    ("tiny", lambda m: m["models"]["translator"].update(max_input_token=90),
     "models.translator.max_input_token: unknown key; known: path, engine,"),
    ("tiny", lambda m: m["models"]["translator"]["tokenizer"].update(targte="x.spm"),
     "models.translator.tokenizer.targte: unknown key"),
    ("tiny", lambda m: m["models"]["translator"]["tokenizer"].update(kind="wordpiece"),
     "models.translator.tokenizer.kind: 'wordpiece' is not one of sentencepiece, hf"),
    ("tiny", lambda m: m["models"]["translator"].update(engine="rnn"),
     "models.translator: engine 'rnn' is not one of generator, seq2seq"),
    ("tiny-llm", lambda m: m["models"]["llm"]["prompts"]["translate"].update(sytem="Be brief."),
     "models.llm.prompts.translate.sytem: unknown key; known: system, user"),
    ("tiny-llm", lambda m: m["models"]["llm"]["max_input_tokens_by_task"].update(summarise=100),
     "models.llm.max_input_tokens_by_task.summarise: unknown task"),
    ("tiny-llm", lambda m: m["models"]["llm"]["decoding"].update(summarise={}),
     "models.llm.decoding.summarise: expected a task (translate, summarize)"),
])
def test_unknown_keys_are_refused_at_load_naming_key_and_place(bundles, tmp_path, kind, change, says):
    with pytest.raises(BundleError) as info:
        bundle.load(_with(bundles, tmp_path, kind, change), verify_checksums=False)
    assert says in str(info.value)


@pytest.mark.parametrize("kind", ["tiny", "tiny-llm"])
def test_manifests_read_back_as_written(bundles, kind):
    manifest = json.loads((bundles[kind] / bundle.MANIFEST).read_text())
    loaded = bundle.load(bundles[kind])
    for name, entry in loaded.models.items():
        assert entry.to_dict(root=loaded.path) == manifest["models"][name]
        assert ModelEntry.from_dict(name, entry.to_dict(loaded.path), "x", loaded.path) == entry


def test_decoding_options_are_typed_and_unset_ones_stay_unset():
    options = Decoding.from_dict({"beam_size": 2, "length_penalty": 1}, "here")
    assert options.beam_size == 2 and options.repetition_penalty is None
    assert options.to_dict() == {"beam_size": 2, "length_penalty": 1}
    with pytest.raises(BundleError, match=r"here.beam_size: expected an integer of at least 1, got 0"):
        Decoding.from_dict({"beam_size": 0}, "here")


def test_manifests_are_written_only_from_model_entries(tmp_path):
    entry = ModelEntry(name="m", path=tmp_path / "m", engine="seq2seq", family="marian",
                       tokenizer=TokenizerSpec("sentencepiece", source="s.spm"), max_input_tokens=64)
    with pytest.raises(TypeError, match="models.m: expected a ModelEntry"):
        bundle.write_manifest(tmp_path, {"name": "x", "models": {"m": entry.to_dict()}})


def test_eval_refuses_a_misspelled_decoding_override(bundles, capsys):
    assert models_main(["eval", str(bundles["tiny"]), "--limit", "1", "--set", "translate.beam_sise=2"]) == 1
    assert "--set translate.beam_sise: unknown option" in capsys.readouterr().err


def test_a_registered_engine_is_all_a_bundle_needs(bundles, tmp_path):
    """One registry: the loader accepts what is registered, and the pipeline builds it from there."""
    from khulasa_server.models.engines import ENGINES, Runtime
    from khulasa_server.models.engines.base import register
    from khulasa_server.models.engines.seq2seq import Seq2SeqEngine
    from khulasa_server.pipeline.options import ArticleOptions
    from khulasa_server.pipeline import Pipeline

    copy = _with(bundles, tmp_path, "tiny", lambda m: m["models"]["translator"].update(engine="marian-echo"))
    with pytest.raises(BundleError, match="engine 'marian-echo' is not one of"):
        bundle.load(copy, verify_checksums=False)

    @register("marian-echo")
    class Echo(Seq2SeqEngine):
        def run(self, task, rows):
            return [o.__class__(f"echo {r.text}", 0.0, 1, False) for o, r in zip(super().run(task, rows), rows)]

    try:
        pipeline = Pipeline.load(copy, Runtime(), verify=False)
        assert isinstance(pipeline.translation.engine, Echo)
        assert pipeline.translate(["قال الوزير."], ArticleOptions(source_language="ar"))[0].text == "echo قال الوزير."
    finally:
        del ENGINES["marian-echo"]
