"""Opposites no negation word marks: a fall rendered as a rise, undermining as providing
opportunities, scarcity as plenty, compared clause by clause (`direction:SPAN`), and the senses of
those words that say no direction (declined to comment, rose to power, ما يزيد على "more than", a
range of numbers, both directions in one clause). Sentences here were written for these tests."""

from __future__ import annotations

import pytest
from conftest import flags_command

from khulasa_server.models.engines.base import Output
from khulasa_server.models.scheduler import LRUCache
from khulasa_server.pipeline import meaning
from khulasa_server.text.normalize import normalize

REVENUE = "تراجعت إيرادات القناة بأكثر من النصف مقارنة بالعام السابق."
ENVOY = "قال المبعوث إن التصعيد في البحر الأحمر يقوض فرص التوصل إلى تسوية سياسية."
WATER = "يعد الأردن من أكثر دول العالم فقرا في المياه."
WHEAT = "ارتفعت أسعار القمح بنسبة 12 في المئة خلال الشهر الماضي."
OIL = "وصل الوزير إلى الرياض يوم الأحد، فيما انخفضت أسعار النفط بنسبة 3 في المئة."
TRADE = "ارتفعت الصادرات بنسبة 5 في المئة، بينما تراجعت الواردات بنسبة 2 في المئة."
TIES = "عزز الاتفاق العلاقات الاقتصادية بين البلدين."
CARS = "تراجعت مبيعات السيارات بما يزيد على 20 في المئة."
TOLL = "ارتفع عدد القتلى إلى 40 بحسب الوزارة التي رفضت التعليق."
INFLATION = "ارتفع التضخم إلى 3 في المئة."
PARTY = "تراجعت شعبية الحزب الذي وصل إلى السلطة عام 2015."
JOBS = "انخفض معدل البطالة إلى 7 في المئة."
SHARES = "ارتفعت الأسهم الأوروبية رغم تراجع أسعار النفط."
PRICES = "ارتفعت الأسعار بعد سقوط النظام."
HARVEST = "تراجع إنتاج القمح بنسبة تتراوح بين 10 و15 في المئة."
VISITORS = "ارتفع عدد الزوار إلى ما بين 3 و4 ملايين."
STEADY = "تراجعت أسعار الذهب هذا الأسبوع."
HOUTHIS = "هدد الحوثيون باستهداف السفن الداعمة لإسرائيل."
BREAD = "يعاني البلد من نقص في الخبز رغم أنه أكبر منتج للقمح في المنطقة."
COLLAPSE = "ارتفع عدد القتلى جراء انهيار المبنى إلى 20."
ARAMCO = "ارتفع سهم أرامكو بنسبة 0.5 في المئة."

CASES = [
    # the three the negation check could not see: the English says the opposite
    (REVENUE, "The canal's revenues increased by more than half compared with the previous year.",
     ["direction:increased by more"]),
    (REVENUE, "The canal's revenues fell by more than half compared with the previous year.", []),
    (ENVOY, "The envoy said the escalation in the Red Sea will provide opportunities for a political settlement.",
     ["direction:provide opportunities for a"]),
    (ENVOY, "The envoy said the escalation in the Red Sea undermines the chances of a political settlement.", []),
    (ENVOY, "The envoy said the escalation in the Red Sea offers little chance of a political settlement.", []),
    (WATER, "Jordan is the world's largest producer of water.", ["direction:largest producer of water"]),
    (WATER, "Jordan is one of the most water-poor countries in the world.", []),
    (WATER, "Jordan is one of the poorest countries in the world in water.", []),
    (WHEAT, "Wheat prices fell by 12 percent last month.", ["direction:fell by 12"]),
    (WHEAT, "Wheat prices rose by 12 percent last month.", []),
    (TIES, "The agreement undermined economic relations between the two countries.",
     ["direction:undermined economic relations"]),
    (TIES, "The agreement strengthened economic relations between the two countries.", []),
    # clause by clause: the rise of the second clause, and two clauses each turned round
    (OIL, "The minister arrived in Riyadh on Sunday, while oil prices rose by 3 percent.", ["direction:rose by 3"]),
    (OIL, "The minister arrived in Riyadh on Sunday, while oil prices dropped by 3 percent.", []),
    (TRADE, "Exports fell by 5 percent, while imports rose by 2 percent.", ["direction:fell by 5", "direction:rose by 2"]),
    (TRADE, "Exports rose by 5 percent, while imports fell by 2 percent.", []),
    # ما يزيد على is "more than", no rise: the fall is the clause's only direction
    (CARS, "Car sales rose by more than 20 percent.", ["direction:rose by more"]),
    (CARS, "Car sales declined by more than 20 percent.", []),
    # "declined to comment" is a refusal, "declined to 3 percent" a fall
    (TOLL, "The death toll reached 40, according to the ministry, which declined to comment.", []),
    (INFLATION, "Inflation declined to 3 percent.", ["direction:declined to 3"]),
    (INFLATION, "Inflation rose to 3 percent.", []),
    # "rose to power" is no rise in an amount
    (PARTY, "The party, which rose to power in 2015, is losing popularity.", []),
    # a fall in unemployment reported as an improvement: no direction word in the English
    (JOBS, "The unemployment rate improved to 7 percent.", []),
    # both directions in one clause, on one side or both
    (SHARES, "European shares rose despite a fall in oil prices.", []),
    (PRICES, "Prices rose after the fall of the regime.", []),
    # ranges of numbers
    (HARVEST, "Wheat output shrank by between 10 and 15 percent.", []),
    (HARVEST, "Wheat output grew by 10 to 15 percent.", ["direction:grew by 10"]),
    (VISITORS, "The number of visitors rose to between 3 and 4 million.", []),
    (VISITORS, "The number of visitors fell to between 3 and 4 million.", ["direction:fell to between"]),
    # a negated direction is the negation check's: one flag, the one that says what happened
    (STEADY, "Gold prices did not rise this week.", ["negation:not rise this"]),
    # a threat is no undermining, and "supporting" no strengthening
    (HOUTHIS, "The Houthis vowed to target ships supporting Israel.", []),
    # both directions on the Arabic side too: the largest producer, the collapse of a building
    (BREAD, "The country has too little bread although it is the largest wheat producer in the region.", []),
    (COLLAPSE, "The death toll from the building collapse reached 20.", []),
    # the span keeps a decimal whole
    (ARAMCO, "Aramco shares fell 0.5% on Sunday.", ["direction:fell 0.5% on"]),
    (ARAMCO, "Aramco shares rose 0.5% on Sunday.", []),
    # a name is no direction
    (STEADY, "Gold prices at Niagara Falls went down this week.", []),
]


@pytest.mark.parametrize("source,english,expected", CASES)
def test_opposite_directions_are_flagged_and_other_senses_stay_silent(source, english, expected):
    assert meaning.check(normalize(source), english) == expected


def test_a_clause_the_english_moved_is_no_opposite():
    """Positions align the clauses, so a clause the English moves (a relative clause put first)
    lands beside the other direction. Where the English says each direction of the Arabic
    somewhere, nothing is flagged, unless the same number follows opposite words on the two
    sides: then the clause was turned round, not moved."""
    source = "ارتفعت أسعار النفط بنسبة 3 في المئة، بعد أن هبطت الأسبوع الماضي."
    assert meaning.direction_flags(source, "Oil prices, which fell last week, rose by 3 percent.") == []
    # the rise of the first clause made a fall of the same 3 percent; the second clause's "rose"
    # could be a moved word, and the sentence is flagged already
    assert meaning.direction_flags(source, "Oil prices fell by 3 percent, after they rose last week.") == ["direction:fell by 3"]


def test_the_direction_flag_reaches_grpc_and_is_explained(server, client):
    """Through the real server, on a chosen English held in the translator's sentence cache (as
    in test_trust): the server's own checks put the flag on the segment, and the flag vocabulary
    the CLI and the reading page share explains it."""
    from khulasa import flags

    cache = server.core.pipeline.translation.engine.cache
    flipped = "The canal's revenues increased by more than half compared with the previous year."
    tokens = ((0, 40, -0.01), (40, len(flipped), -0.02))
    cache.put(LRUCache.key("translate", normalize(REVENUE)), Output(flipped, -0.02, 2, False, tokens))
    (segment,) = client.translate([REVENUE]).translations[0].segments
    assert segment.translation == flipped
    assert "direction:increased by more" in segment.warnings
    assert flags.severity("direction") == "high"
    assert "increased by more" in flags.explain("direction", "increased by more")
    assert "opposite" in flags.explain("direction", "increased by more")


def test_the_flags_command_counts_a_direction_flag_as_a_negation_found(tmp_path):
    """khulasa-models flags: an opposite labelled as a negation flip is found by `direction:`,
    and the flag is right; the same sentence turned the right way gets none."""
    flipped, kept = CASES[0][1], CASES[1][1]
    rows = [
        {"set": "t", "n": 0, "ar": REVENUE, "hypothesis": flipped, "added": [], "lost": [], "changed_role": [],
         "meaning": [{"type": "negation", "severity": "major", "span": "increased by more than half"}]},
        {"set": "t", "n": 1, "ar": REVENUE, "hypothesis": kept, "added": [], "lost": [], "changed_role": [], "meaning": []},
    ]
    _, found = flags_command(tmp_path, rows)
    part = found["meaning"]["tuned (three sets)"]
    assert part["meaning_by_type"]["negation"]["recall_major"] == 100.0
    assert part["meaning_flags"]["kinds"]["direction"] == {"flags": 1, "right": 1}
