from khulasa_server.pipeline.extractive import summarize

ARTICLE = [
    "Central bank raises rates",
    "The central bank raised its main interest rate by two points on Thursday to fight inflation. "
    "Inflation reached 12 percent in March, the highest level in five years.",
    "The bank said inflation would fall below 8 percent by the end of next year. "
    "The bank said inflation would fall below 8 percent by the end of next year.",
    "Analysts expect the higher interest rate to slow lending to small businesses. The weather was sunny.",
]


def test_picks_whole_sentences_in_article_order_with_their_paragraph():
    picked = summarize(ARTICLE, 3)
    assert 1 <= len(picked) <= 3
    for sentence, index in picked:
        assert sentence in ARTICLE[index]
    positions = [" ".join(ARTICLE).index(s) for s, _ in picked]
    assert positions == sorted(positions)
    assert picked[0][0].startswith("The central bank raised")  # the lead


def test_skips_duplicates_and_respects_the_count():
    sentences = [s for s, _ in summarize(ARTICLE, 4)]
    assert len(sentences) == len(set(sentences)) <= 4
    assert summarize(ARTICLE, 1) == [(ARTICLE[1].split(". ")[0] + ".", 1)]  # the lead wins


def test_empty_input():
    assert summarize(["", "  "], 3) == []
