"""Default instruction prompts and manifest entry for LLM bundles. {text} is replaced by the
source text."""

from dataclasses import replace
from pathlib import Path

from khulasa_server.models.schema import Decoding, ModelEntry, Prompt, TokenizerSpec

# Worked examples for a translation prompt (earlier chat turns, cached with the system prompt):
# written for khulasa, from no evaluation set, each teaching what the small model got wrong: a
# spokesman of an institution with a denial, a minister with a nationality, a name in its usual
# spelling, a date and numbers. docs/quality.md measured 0, 2, 4 and 6 on the default model:
# in plain Arabic none kept the most names; written as the model reads a text with names in the
# source (in_source()), two keep the most, but make batched decoding up to 2x slower, so the
# default bundle has none and `khulasa-models build qwen2.5-coder-1.5b --examples 2` adds them.
# The tiny LLM bundle carries them all; a bundle's manifest may list its own
# (prompts.translate.examples).
EXAMPLES = (
    (
        "ونفى المتحدث باسم وزارة الخارجية الفرنسية كريستوف لوموان وجود أي خلاف مع الحكومة الإيطالية بشأن الهجرة.",
        "French Foreign Ministry spokesman Christophe Lemoine denied any disagreement with the Italian government "
        "over migration.",
    ),
    (
        "استقبل وزير الداخلية التونسي خالد النوري يوم الاثنين سفير اليابان لدى تونس.",
        "Tunisian Interior Minister Khaled Nouri received the Japanese ambassador to Tunisia on Monday.",
    ),
    (
        "ارتفعت صادرات المغرب من الفوسفات بنسبة 14 في المئة في الربع الأول من عام 2024 لتبلغ 3.2 مليار دولار.",
        "Morocco's phosphate exports rose by 14 percent in the first quarter of 2024 to reach 3.2 billion dollars.",
    ),
    (
        "وقال المستشار النمساوي كارل نيهامر إن بلاده سترسل 20 طنا من المساعدات الطبية إلى السودان.",
        "Austrian Chancellor Karl Nehammer said his country would send 20 tonnes of medical aid to Sudan.",
    ),
    (
        "وأكدت المتحدثة باسم المفوضية الأوروبية أن الاتحاد لن يغير موقفه من الاتفاق.",
        "The spokeswoman for the European Commission stressed that the union would not change its position on the agreement.",
    ),
    (
        "وتعقد القمة في الدوحة يومي 12 و13 نوفمبر بمشاركة 40 دولة.",
        "The summit will be held in Doha on 12 and 13 November, with 40 countries taking part.",
    ),
)


def in_source(examples: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The examples as the model reads a text with names in the source (the default): the
    Arabic with its names in English (pipeline/names/source.py), the answer as written."""
    from khulasa_server.pipeline import names
    from khulasa_server.pipeline.names.source import english_in_source
    from khulasa_server.text.normalize import normalize

    out = []
    for arabic, english in examples:
        text = normalize(arabic)
        out.append((english_in_source(text, names.find(text), "all"), english))
    return tuple(out)


TRANSLATE = Prompt(
    system="You are a professional news translator. You translate Arabic news into clear, "
    "faithful English. Keep every name, number, date and percentage exactly.",
    user="Translate this Arabic news text into English. Answer with the translation only.\n\n{text}",
)
SUMMARIZE = Prompt(
    system="You are a news editor. You write short, factual English summaries.",
    user="Summarize this news article in two or three English sentences. Use only facts "
    "from the article. Answer with the summary only.\n\n{text}",
)


SUMMARY_INPUT_TOKENS = 2048


def chatml_entry(
    source: str, license: str, chat_format: str = "chatml", examples: tuple[tuple[str, str], ...] = ()
) -> ModelEntry:
    """The manifest entry of a ChatML instruction model in `llm/` serving both roles, with
    `examples` as the translation prompt's worked examples."""
    return ModelEntry(
        name="llm",
        path=Path("llm"),
        engine="generator",
        family="qwen2",
        quantization="int8",
        source=source,
        license=license,
        tokenizer=TokenizerSpec("hf", file="tokenizer.json"),
        chat_format=chat_format,
        end_tokens=("<|im_end|>", "<|endoftext|>"),
        # Paragraph-sized prompts: context helps, and Arabic costs ~2 tokens a word here.
        max_input_tokens=384,
        # A whole article summarized in one pass (a 1,500-word English article is ~2,000
        # tokens; Qwen2.5 reads 32k): chunks, and summaries of summaries, only beyond that.
        max_input_tokens_by_task={"summarize": SUMMARY_INPUT_TOKENS},
        prompts={"translate": replace(TRANSLATE, examples=examples), "summarize": SUMMARIZE},
        decoding={
            # Measured on the news set (docs/quality.md): greedy matches beam 2 at half the
            # time; the 6-gram ban guards against loops at no significant cost.
            "translate": Decoding(beam_size=1, max_length_ratio=1.5, max_length_extra=32, no_repeat_ngram_size=6),
            "summarize": Decoding(beam_size=1, max_decoding_length=160, repetition_penalty=1.1),
        },
    )
