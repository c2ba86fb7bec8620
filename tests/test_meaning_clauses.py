"""Negation and polarity compared clause by clause: a source that negates one clause and an
English that negates another has as many negations on each side, and still says the opposite
twice. Sentences here were written for these tests."""

from __future__ import annotations

import pytest

from khulasa_server.pipeline import meaning
from khulasa_server.text.normalize import normalize

ABSENT = "لم يحضر الوزير الاجتماع، وأعلن الوفد موافقته على الخطة."
LATE = "وصل الوفد إلى القاهرة صباح الأحد، لكنه لم يلتق الرئيس."
SANCTIONS = "قالت المتحدثة إن بلادها ستواصل دعم الحكومة، ولم تستبعد فرض عقوبات جديدة."
STILL = "لا يزال الوضع صعبا في الشمال، لكن الحكومة لم تعلن حالة الطوارئ."
PRESSURE = (
    'قال المتحدث باسم وزارة الخارجية الإيرانية إسماعيل بقائي يوم الاثنين إن طهران "لن تتفاوض تحت الضغط"، '
    "ردا على قرار مجلس محافظي الوكالة الدولية للطاقة الذرية الذي انتقد مستوى تعاونها مع المفتشين."
)

CASES = [
    # the source negates the first clause, the English the second (and the other way round)
    (ABSENT, "The minister attended the meeting, and the delegation did not announce its approval of the plan.",
     ["negation:لم يحضر", "negation:not announce its"]),
    (ABSENT, "The minister attended the meeting, and the delegation didn't announce its approval of the plan.",
     ["negation:لم يحضر", "negation:didn't announce its"]),
    (ABSENT, "The minister did not attend the meeting, and the delegation announced its approval of the plan.", []),
    (ABSENT, "The minister didn't attend the meeting, and the delegation announced its approval of the plan.", []),
    (LATE, "The delegation did not arrive in Cairo on Sunday morning, but it met the president.",
     ["negation:not arrive in", "negation:لم يلتق"]),
    (LATE, "The delegation arrived in Cairo on Sunday morning, but it did not meet the president.", []),
    # "did not rule out" leaves a possibility open: no negation of the clause on either side
    (SANCTIONS, "The spokeswoman said her country would keep supporting the government, and did not rule out new sanctions.", []),
    (SANCTIONS, "The spokeswoman said her country would keep supporting the government, and would not allow new sanctions.",
     ["negation:not allow new"]),
    (SANCTIONS, "The spokeswoman said her country would keep supporting the government, and ruled out new sanctions.",
     ["negation:ruled out new sanctions"]),
    # the exemptions hold inside a clause: لا يزال "still"
    (STILL, "The situation is still difficult in the north, but the government has not declared a state of emergency.", []),
    (STILL, "The situation is not difficult in the north, but the government has declared a state of emergency.",
     ["negation:not difficult in", "negation:لم تعلن"]),
    # a clause boundary a few words apart on the two sides (the name set off by commas in the
    # English) moves no negation to another clause
    (PRESSURE, "The spokesman of the Iranian Foreign Ministry, Ismail Baghaei, said on Monday that Tehran will not "
     "negotiate under pressure, in response to the decision of the Board of Governors of the International Atomic "
     "Energy Agency, which criticized its cooperation with the inspectors.", []),
]


@pytest.mark.parametrize("source,english,expected", CASES)
def test_negation_is_compared_clause_by_clause(source, english, expected):
    assert meaning.check(normalize(source), english) == expected


def test_a_sentence_of_one_clause_is_counted_as_before():
    """One clause a side is one block: the extra English negation, or the Arabic one left
    unanswered, with "only" answering a negation the Arabic words as one."""
    talks = "قال الوزير إن بلاده لن تشارك في المحادثات."
    assert meaning.negation_flags(talks, "The minister said his country would take part.") == ["negation:لن تشارك"]
    stock = "لن يكفي المخزون لأكثر من عشرة أيام."
    assert meaning.negation_flags(stock, "The stock will last only ten days.") == []
    welcome = "رحب الكرملين بالمحادثات."
    assert meaning.negation_flags(welcome, "The Kremlin never welcomed the talks.") == ["negation:never welcomed the"]


def test_ruled_out_and_its_negation():
    assert meaning.arabic_negations("واستبعد الوزير فرض عقوبات.") == ["واستبعد الوزير"]
    assert meaning.arabic_negations("ولم يستبعد الوزير فرض عقوبات.") == []
    assert meaning.english_negations("The minister did not rule out sanctions and won't exclude talks.") == []
    assert meaning.english_negations("The minister ruled out sanctions.") == ["ruled out sanctions"]


def test_excluding_is_except():
    assert meaning.check("ارتفعت الصادرات باستثناء النفط.", "Exports rose, excluding oil.") == []


VACUUM = "ويعاني البلد من فراغ رئاسي منذ انتهاء ولاية الرئيس السابق في أكتوبر."
MARKETS = "وأكد الوزير أن الهدف هو استقرار الأسواق لا رفع الأسعار."
PROTESTS = "وقال المتحدث إن الحكومة لم تمنع التظاهرات في العاصمة."


@pytest.mark.parametrize(
    "source,english,expected",
    [
        # an absence said without a particle (فراغ, غياب) answers the English "without"
        (VACUUM, "The country has been without a president since the former president's term ended in October.", []),
        (VACUUM, "The country has had no president since the former president's term ended in October.", []),
        ("وقال إن البلد يعاني من أزمة اقتصادية.", "He said the country is without an economic crisis.",
         ["negation:without an economic"]),
        # an English verb that carries the negation answers the Arabic one...
        (MARKETS, "The minister stressed that the goal is to stabilize the markets and prevent price rises.", []),
        (MARKETS, "The minister stressed that the goal is to stabilize the markets and raise prices.", ["negation:لا رفع"]),
        # ...but not a negated prevention: لم تمنع "did not prevent" is not "prevented"
        (PROTESTS, "The spokesman said the government prevented the protests in the capital.", ["negation:لم تمنع"]),
        (PROTESTS, "The spokesman said the government did not prevent the protests in the capital.", []),
    ],
)
def test_absence_words_and_english_verbs_of_prevention(source, english, expected):
    assert meaning.negation_flags(source, english) == expected
