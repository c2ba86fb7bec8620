"""Tokenizers trained on the spot for the tiny bundles: the real kinds (sentencepiece with
byte fallback, byte-level BPE), so every character of any input can be encoded."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path


def corpus() -> list[str]:
    """Arabic and English sentences shipped with the package."""
    text = resources.files("khulasa_server.data").joinpath("corpus.tsv").read_text(encoding="utf-8")
    lines: list[str] = []
    for row in text.splitlines():
        lines.extend(part for part in row.split("\t") if part)
    return lines


def train_sentencepiece(out: Path, vocab_size: int = 800) -> list[str]:
    """Writes a unigram model to `out` and returns its pieces in id order."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()),
        model_writer=model,
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        byte_fallback=True,
        normalization_rule_name="identity",
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    out.write_bytes(model.getvalue())
    sp = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def train_byte_bpe(out: Path, special_tokens: list[str], vocab_size: int = 1000, split_pattern: str | None = None) -> list[str]:
    """Writes a byte-level BPE tokenizer.json to `out` and returns its tokens in id order.
    split_pattern: the pre-tokenizer regex (Qwen2's, say); GPT-2's when None (BART)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    if split_pattern is None:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(split_pattern), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer)
    tok.save(str(out))
    vocab = tok.get_vocab()
    return [t for t, _ in sorted(vocab.items(), key=lambda item: item[1])]
