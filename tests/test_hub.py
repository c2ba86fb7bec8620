"""Hub presets, converted from tiny checkpoints built here with transformers (no network):
the same conversion code that runs on the real hub downloads."""

from __future__ import annotations

import json
import shutil

import pytest

from khulasa_server.pipeline import Pipeline
from khulasa_server.tools.models_cli import main as models_main
from khulasa_server.tools.recipes import hub
from khulasa_server.tools.recipes.gguf_qwen2 import QWEN2_PATTERN
from khulasa_server.tools.recipes.tokenizers import corpus, train_byte_bpe, train_sentencepiece

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    # Marian: sentencepiece models and a vocab.json, as Helsinki-NLP ships them.
    marian = root / "marian"
    marian.mkdir()
    pieces = train_sentencepiece(marian / "source.spm")
    shutil.copyfile(marian / "source.spm", marian / "target.spm")
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (marian / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    transformers.MarianTokenizer(str(marian / "source.spm"), str(marian / "target.spm"), str(marian / "vocab.json"),
                                 source_lang="ar", target_lang="en").save_pretrained(marian)
    transformers.MarianMTModel(transformers.MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=512,
        pad_token_id=vocab["<pad>"], eos_token_id=0, decoder_start_token_id=vocab["<pad>"],
    )).save_pretrained(marian)
    # BART with its byte-level BPE.
    bart = root / "bart"
    bart.mkdir()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tokens = train_byte_bpe(root / "bart.json", specials)
    transformers.PreTrainedTokenizerFast(tokenizer_file=str(root / "bart.json"), bos_token="<s>", pad_token="<pad>",
                                         eos_token="</s>", unk_token="<unk>", mask_token="<mask>").save_pretrained(bart)
    transformers.BartForConditionalGeneration(transformers.BartConfig(
        vocab_size=len(tokens), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=1024,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
        normalize_before=False, normalize_embedding=True, add_final_layer_norm=False,  # as in distilbart-cnn-12-6
    )).save_pretrained(bart)
    # Qwen2 with a Qwen2-style tokenizer.json.
    qwen = root / "qwen"
    qwen.mkdir()
    tokens = train_byte_bpe(root / "qwen.json", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], split_pattern=QWEN2_PATTERN)
    transformers.PreTrainedTokenizerFast(tokenizer_file=str(root / "qwen.json"), eos_token="<|im_end|>",
                                         pad_token="<|endoftext|>").save_pretrained(qwen)
    transformers.Qwen2ForCausalLM(transformers.Qwen2Config(
        vocab_size=len(tokens), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=False,
    )).save_pretrained(qwen)
    # NLLB: a sentencepiece BPE model and the language codes as added tokens, on M2M100.
    nllb = root / "nllb"
    nllb.mkdir()
    import sentencepiece

    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()), model_prefix=str(nllb / "sentencepiece.bpe"), vocab_size=600, model_type="bpe",
        character_coverage=1.0, byte_fallback=True, bos_id=0, pad_id=1, eos_id=2, unk_id=3, hard_vocab_limit=False,
        minloglevel=2)
    tok = transformers.NllbTokenizer.from_pretrained(str(nllb), src_lang="arb_Arab", tgt_lang="eng_Latn",
                                                     additional_special_tokens=["arb_Arab", "eng_Latn"])
    tok.save_pretrained(nllb)
    transformers.M2M100ForConditionalGeneration(transformers.M2M100Config(
        vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=1024,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, scale_embedding=True,
    )).save_pretrained(nllb)
    return {"marian": marian, "bart": bart, "qwen": qwen, "nllb": nllb}


def test_opus_preset_from_local_checkpoints(checkpoints, tmp_path, seed_text):
    out = hub.build("opus-mt-ar-en", tmp_path / "opus", tmp_path / "home", log=lambda _: None,
                    sources={"translate": checkpoints["marian"], "summarize": checkpoints["bart"]})
    pipeline = Pipeline.load(out)
    try:
        assert pipeline.bundle.model_for("translate").license == "Apache-2.0"
        result = pipeline.digest(seed_text)
        assert len(result.paragraphs) == 11 and result.translation and result.summary.text
    finally:
        pipeline.close()


def test_qwen_preset_from_a_local_checkpoint(checkpoints, tmp_path):
    out = hub.build("qwen2.5-1.5b-instruct", tmp_path / "qwen", tmp_path / "home", log=lambda _: None,
                    sources={"llm": checkpoints["qwen"]})
    pipeline = Pipeline.load(out)
    assert pipeline.bundle.roles == {"translate": "llm", "summarize": "llm"}
    assert pipeline.translate(["أعلنت الحكومة خطة جديدة."])[0].text


def test_nllb_preset_from_local_checkpoints(checkpoints, tmp_path, seed_text):
    out = hub.build("nllb-200-distilled-600m", tmp_path / "nllb", tmp_path / "home", log=lambda _: None,
                    sources={"translate": checkpoints["nllb"], "summarize": checkpoints["bart"]})
    pipeline = Pipeline.load(out)
    try:
        entry = pipeline.bundle.model_for("translate")
        assert (entry.family, entry.license) == ("nllb", "CC-BY-NC-4.0")
        assert pipeline.translation.engine.tokenize("أعلنت")[0] == "arb_Arab" and entry.target_prefix == ("eng_Latn",)
        result = pipeline.digest(seed_text)
        assert len(result.paragraphs) == 11 and result.translation and result.summary.text
    finally:
        pipeline.close()


def test_nllb_preset_offline_gives_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("KHULASA_HOME", str(tmp_path))
    assert models_main(["build", "nllb-200-distilled-600m"]) == 1
    err = capsys.readouterr().err
    assert "could not download facebook/nllb-200-distilled-600M from the Hugging Face hub" in err
    assert "Traceback" not in err and not (tmp_path / "bundles" / "nllb-200-distilled-600m").exists()


def test_vocab_and_merges_become_a_tokenizer_json(tmp_path):
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(["the news of the day", "the day of the news"], vocab_size=300, show_progress=False)
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    out.mkdir()
    tok.save_model(str(source))
    hub._bpe_tokenizer(source, out)
    assert (out / "tokenizer.json").is_file()


def test_wrong_family_is_refused(checkpoints, tmp_path):
    with pytest.raises(hub.HubError, match="expected a Marian model, got 'bart'"):
        hub.build("opus-mt-ar-en", tmp_path / "x", tmp_path / "home", log=lambda _: None,
                  sources={"translate": checkpoints["bart"], "summarize": checkpoints["bart"]})
    assert not (tmp_path / "x").exists()


def test_offline_hub_gives_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # refuse before any connection is attempted
    monkeypatch.setenv("KHULASA_HOME", str(tmp_path))
    assert models_main(["build", "opus-mt-ar-en"]) == 1
    err = capsys.readouterr().err
    assert "could not download Helsinki-NLP/opus-mt-ar-en from the Hugging Face hub" in err
    assert "khulasa-models build qwen2.5-coder-1.5b" in err
