import json
import shutil

import pytest

from khulasa_server.errors import BundleError
from khulasa_server.models import bundle
from khulasa_server.models.tokenizers import load_tokenizers
from khulasa_server.tools.models_cli import main as models_main
from khulasa_server.tools.recipes import tiny

SAMPLES = [
    "أعلنت وزارة المالية أن معدل التضخم تراجع إلى 3.2% في مارس.",
    "زار Joe Biden موقع https://example.com/a?b=1 يوم ١٢ مايو.",
    "Emoji 🙂 and ŝtrange letters, 中文, and ‹quotes›.",
]


def test_tiny_bundles_load_with_their_roles(bundles):
    tiny_bundle = bundle.load(bundles["tiny"])
    assert tiny_bundle.model_for("translate").family == "marian"
    assert tiny_bundle.model_for("summarize").family == "bart"
    llm = bundle.load(bundles["tiny-llm"])
    assert llm.roles == {"translate": "llm", "summarize": "llm"}
    assert llm.model_for("translate").chat_format == "chatml"
    manifest = json.loads((bundles["tiny"] / bundle.MANIFEST).read_text())
    assert set(manifest["checksums"]) >= {"translator/model.bin", "summarizer/model.bin", "translator/source.spm"}
    assert manifest["tools"]["ctranslate2"]


@pytest.mark.parametrize("kind, model", [("tiny", "translator"), ("tiny", "summarizer"), ("tiny-llm", "llm")])
def test_tokenizers_round_trip_any_text(bundles, kind, model):
    """Byte fallback / byte-level BPE: no character becomes <unk>."""
    entry = bundle.load(bundles[kind]).models[model]
    source, _ = load_tokenizers(entry)
    for text in SAMPLES:
        assert source.decode(source.encode(text)) == text


def test_checksum_mismatch_and_missing_file_are_caught(bundles, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(bundles["tiny"], copy)
    (copy / "summarizer" / "tokenizer.json").write_text("{}")
    with pytest.raises(BundleError, match="checksum mismatch for 'summarizer/tokenizer.json'"):
        bundle.load(copy)
    (copy / "summarizer" / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match="'summarizer/tokenizer.json' listed in khulasa.json is missing"):
        bundle.load(copy)


def test_manifest_errors_are_specific(bundles, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(bundles["tiny"], copy)
    manifest = json.loads((copy / bundle.MANIFEST).read_text())
    manifest["roles"]["summarize"] = "nope"
    (copy / bundle.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="role 'summarize' must name one of the models"):
        bundle.load(copy)
    (copy / bundle.MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        bundle.load(copy)


def test_bundle_names_resolve_under_khulasa_home(monkeypatch, tmp_path):
    monkeypatch.setenv("KHULASA_HOME", str(tmp_path))
    assert bundle.resolve("tiny") == tmp_path / "bundles" / "tiny"
    assert bundle.resolve("./tiny") == tmp_path.__class__("./tiny")


def test_models_cli_build_is_idempotent_and_verify_reports(tmp_path, capsys):
    out = tmp_path / "t"
    assert models_main(["build", "tiny-llm", "--out", str(out)]) == 0
    assert models_main(["build", "tiny-llm", "--out", str(out)]) == 0
    assert "already built" in capsys.readouterr().out
    assert models_main(["verify", str(out)]) == 0
    (out / "llm" / "model.bin").write_bytes(b"0")
    assert models_main(["verify", str(out)]) == 1
    assert "checksum mismatch" in capsys.readouterr().err


def test_build_refuses_to_overwrite_and_leaves_no_debris(tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    with pytest.raises(FileExistsError):
        tiny.build("tiny", out)
    with pytest.raises(ValueError):
        tiny.build("nonsense", tmp_path / "y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_each_task_has_its_own_input_budget(bundles, tmp_path):
    entry = bundle.load(bundles["tiny-llm"]).model_for("summarize")
    assert entry.input_tokens("translate") == entry.max_input_tokens == 128
    assert entry.input_tokens("summarize") == 512  # a whole article in one pass
    assert bundle.load(bundles["tiny"]).model_for("translate").input_tokens("summarize") == 96  # none given: the default
    copy = tmp_path / "b"
    shutil.copytree(bundles["tiny-llm"], copy)
    manifest = json.loads((copy / bundle.MANIFEST).read_text())
    manifest["models"]["llm"]["max_input_tokens_by_task"] = {"summarize": "lots"}
    (copy / bundle.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="models.llm: max_input_tokens_by_task must map task names to positive integers"):
        bundle.load(copy, verify_checksums=False)
