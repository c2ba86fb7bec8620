import pytest

from khulasa_server.text.detect import detect


@pytest.mark.parametrize(
    "text, expected",
    [
        ("أعلنت وزارة المالية أن التضخم تراجع", "ar"),
        ("زار Joe Biden و Emmanuel Macron القاهرة أمس في زيارة رسمية", "ar"),
        ("The central bank kept interest rates unchanged on Thursday.", "en"),
        ("Hello", "en"),
        ("La banque centrale a maintenu ses taux directeurs inchangés pour le mois de mars", "latn"),
        ("El banco central mantuvo las tasas sin cambios en la reunión del jueves", "latn"),
        ("Центральный банк сохранил ставку", "other"),
        ("این یک گزارش خبری کوتاه است که امروز منتشر شد", "fa"),
        ("12345 67.8%", "und"),
        ("قال Volodymyr Zelensky إن 7391 جنديا عادوا.", "ar"),
    ],
)
def test_detect(text, expected):
    assert detect(text) == expected


def test_english_headline_without_function_words_is_english():
    assert detect("Central Bank Keeps Rates Unchanged Amid Inflation Fears") == "en"
