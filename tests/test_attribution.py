"""Flags that look from the English back to the Arabic: places, institutions, nationalities and
people the English adds (`added_name`), titles it gives a person that the Arabic does not
(`changed_role`), institutions it loses (`missing_name:Kremlin`). The English sentences are
the kinds of output the default model gave on news like this; each case also has a faithful
translation that must stay silent."""

from __future__ import annotations

import pytest
from conftest import ROOT, flags_command

from khulasa_server.pipeline import names
from khulasa_server.pipeline.names import entities, roles
from khulasa_server.text.normalize import normalize

ZELENSKY = "أكد الرئيس الأوكراني فولوديمير زيلينسكي، يوم السبت، أن بلاده قدمت مقترحا رسميا لعقد جولة جديدة من المحادثات."
PESKOV = "وقال المتحدث باسم الكرملين دميتري بيسكوف إن موسكو ستحدد موعد الجولة المقبلة بعد التوصل إلى تفاهم."
PRESIDENT = "وأكد الرئيس الأوكراني أن الاتفاق المحتمل سيشمل تطويرا مشتركا لتقنيات الطائرات المسيرة."
RAZUMKOV = "وأعلن النائب الأوكراني دميتري رازومكوف أن كييف بصدد مراجعة عضويتها في اتفاقية المعادن مع الولايات المتحدة."
HEADLINE = "الكرملين يرحب بجولة مفاوضات جديدة مع أوكرانيا"
MONDAY = "أعلن الكرملين، اليوم الاثنين، تأييده لعقد جولة جديدة من محادثات السلام مع أوكرانيا."
COUNTERPART = "استقبل وزير الخارجية التركي هاكان فيدان نظيره العراقي فؤاد حسين في أنقرة يوم الثلاثاء."
WHITE_HOUSE = "ونفت المتحدثة باسم البيت الأبيض كارولين ليفيت هذه التقارير يوم الأربعاء."

CASES = [
    # (source, English, flags it must raise exactly)
    (ZELENSKY, "President Fidel Zilensky of the United Arab Emirates confirmed on Saturday that his country had made "
     "a formal proposal for a new round of talks.",
     # a foreign family name names its person: Fidel Zilensky is Zelensky misspelt, not someone else
     ["missing_name:Ukrainian", "added_name:United Arab Emirates"]),
    (ZELENSKY, "Ukrainian President Volodymyr Zelensky said on Saturday that his country had made a formal proposal "
     "for a new round of talks.", []),
    (PESKOV, "Mr. Dimitri Bieskof, the head of the French Foreign Ministry, said that Moscow would set the date of the "
     "next round once an understanding is reached.",
     ["missing_name:Kremlin", "added_name:French", "added_name:Foreign Ministry", "changed_role:head (Dimitri Bieskof)"]),
    (PESKOV, "Kremlin spokesman Dmitry Peskov said Moscow would set the date of the next round after an understanding "
     "is reached.", []),
    (PRESIDENT, "The Egyptian President has confirmed that the proposed agreement will include joint development of "
     "drone technologies.", ["missing_name:Ukrainian", "added_name:Egyptian"]),
    (PRESIDENT, "The Ukrainian president said the possible agreement would include joint development of drone "
     "technology.", []),
    (RAZUMKOV, "The Egyptian MP Dimitri Razzouk announced that Kiffa will be reviewed in the minerals agreement with "
     "the United States.",
     ["missing_name:Ukrainian", "unverified_name:دميتري رازومكوف", "added_name:Egyptian", "added_name:Dimitri Razzouk"]),
    (RAZUMKOV, "Ukrainian MP Dmytro Razumkov announced that Kyiv is reviewing its membership of the minerals agreement "
     "with the United States.", []),
    (HEADLINE, "The Russian Federation welcomes a new round of talks with Ukraine",
     ["missing_name:Kremlin", "added_name:Russian Federation"]),
    (HEADLINE, "Kremlin welcomes new round of negotiations with Ukraine", []),
    # a weekday after اليوم ("today Monday") may be rendered "today"
    (MONDAY, "The Kremlin announced today its support for a new round of peace talks with Ukraine.", []),
    (MONDAY, "The Kremlin announced its support for a new round of peace talks with Ukraine.", ["missing_name:Monday"]),
    (COUNTERPART, "Turkish Foreign Minister Hakan Fidan visited Iraqi Prime Minister Fuad Hasin in Ankara on Tuesday.",
     ["changed_role:prime minister (Fuad Hasin)"]),
    # his counterpart (نظيره) holds the role of the minister named before him
    (COUNTERPART, "Turkish Foreign Minister Hakan Fidan received Iraqi Foreign Minister Fuad Hussein in Ankara on "
     "Tuesday.", []),
    (COUNTERPART, "Turkish Foreign Minister Hakan Fidan received his Iraqi counterpart Fuad Hussein in Ankara on "
     "Tuesday.", []),
    (WHITE_HOUSE, "The president of the United Arab Emirates, Mohammed bin Zayed Al Nahyan, denied these reports on "
     "Wednesday.",
     ["missing_name:White House", "unverified_name:كارولين ليفيت", "added_name:United Arab Emirates",
      "added_name:Mohammed bin Zayed Al Nahyan"]),
    (WHITE_HOUSE, "White House spokeswoman Karoline Leavitt denied these reports on Wednesday.", []),
]


@pytest.mark.parametrize("source, english, expected", CASES)
def test_invented_and_lost_attributions_are_flagged_and_faithful_ones_are_not(source, english, expected):
    assert names.check(names.find(normalize(source)), english) == expected


def test_every_entity_row_has_both_sides_and_is_found_in_arabic():
    rows = entities.rows()
    assert len(rows) > 100
    for row in rows:
        assert row.english and row.kind in ("organization", "office", "demonym", "place", "capital", "country"), row
        if row.kind in ("country", "capital"):
            assert row.also, row  # the gazetteer country it stands for
        else:
            assert row.arabic, row
        if row.kind in entities.SOURCE_KINDS:
            for form in entities.arabic_forms(row)[:2]:
                hits = names.find(normalize(f"قال {form} يوم الأحد")).places
                assert any(row.english in hit.english for hit in hits), (row.english, form)


def test_demonyms_and_their_countries_are_one_group():
    groups = entities.groups()
    assert {"Egypt", "Egyptian", "Egyptians"} <= groups.of("Egyptian")
    assert {"Russia", "Russian", "Russian Federation"} <= groups.of("Russian Federation")
    assert "Egypt" not in groups.of("Ukrainian")


def test_roles():
    assert roles.holds("president", "الرئيس الأوكراني فولوديمير", "")
    assert not roles.holds("president", "رئيس الوزراء العراقي", "")  # a prime minister is no president
    assert roles.holds("prime minister", "رئيس الوزراء العراقي", "")
    assert not roles.holds("head", "المتحدث باسم الكرملين دميتري", "")
    assert roles.holds("foreign minister", "وزير الخارجية التركي", "")
    assert not roles.holds("defense minister", "وزير الخارجية التركي", "")
    assert roles.holds("deputy foreign minister", "نائب وزير الخارجية", "")
    assert not roles.holds("deputy foreign minister", "وزير الخارجية", "")
    assert roles.holds("astronaut", "", "")  # a role the list does not know is not judged


def test_flags_fire_and_stay_silent_end_to_end_on_the_tiny_bundle(server, client):
    """Through the real server, gRPC and the CLI's flag explanations. Random weights write noise,
    so the English of two sentences is put in the translator's sentence cache first (where a
    repeated sentence's translation comes from): the server's own checks, segmenting and wire
    format run as for any output."""
    from khulasa import flags as client_flags

    from khulasa_server.models.engines.base import Output
    from khulasa_server.models.scheduler import LRUCache

    invented = "Mr. Dimitri Bieskof, the head of the French Foreign Ministry, said that Moscow would set the date."
    faithful = "Ukrainian President Volodymyr Zelensky said on Saturday that his country had made a formal proposal."
    cache = server.core.pipeline.translation.engine.cache
    for source, english in ((PESKOV, invented), (ZELENSKY, faithful)):
        cache.put(LRUCache.key("translate", normalize(source)), Output(english, -0.1, 20, False))
    response = client.translate([PESKOV + "\n" + ZELENSKY])
    segments = response.translations[0].segments
    assert [s.translation for s in segments] == [invented, faithful]
    assert list(segments[0].warnings) == [
        "missing_name:Kremlin", "added_name:French", "added_name:Foreign Ministry", "changed_role:head (Dimitri Bieskof)"]
    assert list(segments[1].warnings) == []
    shown = [f.explanation for f in client_flags.of(response)]
    assert "“French” is named in the English but not in the Arabic: check who or what the source names" in shown
    assert any("head (Dimitri Bieskof)" in line for line in shown)


def test_flag_scores_command_counts_right_and_wrong_flags(tmp_path):
    """khulasa-models flags: a flag pointing at a labelled problem is right, one that does not is
    wrong, a label no flag points at is missed."""

    rows = [
        {"set": "t", "n": 0, "ar": PRESIDENT, "hypothesis": CASES[4][1], "added": ["Egyptian"],
         "lost": [{"ar": "الأوكراني", "en": "Ukrainian"}], "changed_role": []},
        # a label the checks cannot see (a drone is no name), and no flag
        {"set": "t", "n": 1, "ar": PRESIDENT, "hypothesis": CASES[5][1], "added": ["Shahed"], "lost": [],
         "changed_role": []},
        # a flag with no label: wrong
        {"set": "t", "n": 2, "ar": HEADLINE, "hypothesis": "Greece welcomes a new round of talks with Ukraine",
         "added": [], "lost": [], "changed_role": []},
    ]
    run, found = flags_command(tmp_path, rows)
    result = found["all"]
    assert result["invented"] == {"labels": 2, "found": 1, "flags": 2, "right": 1, "precision": 50.0, "recall": 50.0}
    assert result["lost"]["labels"] == 1 and result["lost"]["found"] == 1 and result["lost"]["right"] == 1
    assert "| all | invented | 2 | 2 | 1 | 1 | 50.0 | 50.0 |" in run.stdout


def test_the_labelled_outputs_are_whole():
    """Every labelled output has its source, its English and the three label lists."""
    from khulasa_server.tools import name_scores

    rows = name_scores.load([ROOT / "tests" / "data" / "eval_flags.jsonl"])
    assert len(rows) >= 280 and {r["set"] for r in rows} == {"eval_news", "eval_names", "eval_attribution", "eval_meaning"}
    for row in rows:
        assert row["ar"] and row["hypothesis"] and all(isinstance(row[k], list) for k in ("added", "lost", "changed_role"))
    assert sum(len(r["added"]) + len(r["changed_role"]) for r in rows if r["set"] == "eval_attribution") >= 40


def test_names_written_into_the_source_in_english():
    from khulasa_server.pipeline.names.source import english_in_source

    text = normalize("وقال المتحدث باسم الكرملين دميتري بيسكوف إن الوفد وصل وبالقاهرة ثم إلى عمان.")
    found = names.find(text)
    assert english_in_source(text, found, "places") == (
        "وقال المتحدث باسم Kremlin دميتري بيسكوف إن الوفد وصل وب Cairo ثم إلى عمان.")  # عمان: Oman or Amman, left
    assert english_in_source(text, found, "all") == (
        "وقال المتحدث باسم Kremlin Dmitry Peskov إن الوفد وصل وب Cairo ثم إلى عمان.")  # its usual spelling


def test_the_model_reads_the_names_in_english_unless_turned_off(llm_server):
    """names_in_source ("all" by default): the LLM's prompt holds the English names; the checks
    still read the source as sent (the segment's source is unchanged); off, it reads the source."""
    from khulasa_server.models.scheduler import LRUCache
    from khulasa_server.pipeline.names.source import english_in_source

    pipeline = llm_server.core.pipeline
    cache = pipeline.translation.engine.cache
    assert pipeline.translation.names_in_source == "all"
    text = normalize("عاد الوفد من الإسكندرية صباح السبت.")  # a sentence of this test alone: the cache is the session's
    english = english_in_source(text, names.find(text), "all")
    assert "Alexandria" in english and "Saturday" in english
    result = pipeline.translate([text])[0]
    assert cache.get(LRUCache.key("translate", english)) and not cache.get(LRUCache.key("translate", text))
    assert result.segments[0].source == text
    pipeline.translation.names_in_source = ""
    try:
        pipeline.translate([text])
    finally:
        pipeline.translation.names_in_source = "all"
    assert cache.get(LRUCache.key("translate", text))


def test_a_city_written_with_the_hamza_geonames_drops_is_found():
    """GeoNames lists انقره; news writes أنقرة. A short word keeps the rule that a hamza the text
    writes is not dropped (أمان, safety, is not امان, Amman)."""
    assert [p.english for p in names.find(normalize("وصل الوزير إلى أنقرة يوم الثلاثاء.")).places][0] == ("Ankara",)
    assert not names.find(normalize("وطالب الوزير بالأمان للجميع في أمان تام.")).places
