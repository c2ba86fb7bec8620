"""Proper names: the gazetteer with Arabic spelling variants, the finder of other names, the
romanization and consonant-skeleton check, and the flags and repair through real servers."""

from importlib import resources

import pytest

from khulasa_server.pipeline import names
from khulasa_server.pipeline.names import candidates, gazetteer, repair
from khulasa_server.pipeline.names.arabic import compatible, fold, splits
from khulasa_server.pipeline.names.romanize import arabic_skeleton, english_skeleton, kept, romanize
from khulasa_server.text.normalize import normalize

GAZ = gazetteer.default()


def places(text):
    return [(h.text, h.english) for h in GAZ.find(normalize(text))]


def test_gazetteer_finds_names_through_clitics_and_spelling_variants():
    assert places("وصل الوفد إلى القاهرة") == [("القاهرة", ("Cairo",))]
    assert places("وبالقاهرة وللقاهره") == [("القاهرة", ("Cairo",)), ("لقاهره", ("Cairo",))]  # و ب ال, ل ال with ه
    assert places("في اسطنبول") == [("اسطنبول", ("Istanbul",))]  # hamza dropped by the writer
    assert places("زار الإمارات العربية المتحدة") == [("الإمارات العربية المتحدة", ("United Arab Emirates",))]
    assert places("فرنسا وألمانيا") == [("فرنسا", ("France",)), ("ألمانيا", ("Germany",))]
    assert places("بيروت") == [("بيروت", ("Beirut",))]  # a name that begins with ب is not ب + يروت


def test_gazetteer_does_not_take_ordinary_words_for_names():
    assert places("أمان المواطنين") == []  # the hamza it writes rules out امان (a GeoNames form of Amman)
    assert places("زار المدينة القديمة") == []  # "the city", listed by GeoNames for Medina
    assert places("عقبة أمام الاتفاق") == []  # Aqaba is العقبة; bare عقبة is "obstacle"
    assert places("مارس الضغط على الحكومة") == []  # "he exerted", not March
    assert places("قدم البنك دعما ماليا ودعم مالي") == []  # مالي is "financial" far more often than Mali
    assert places("في مارس الماضي") == [("مارس", ("March",))]
    assert places("ارتفع في 12 مارس") == [("مارس", ("March",))]
    assert not compatible("أمان", "امان") and compatible("امان", "أمان") and compatible("القاهره", "القاهرة")


def test_ambiguous_forms_are_marked_and_never_forced():
    hit, = GAZ.find("اجتماع في عمان")
    assert hit.ambiguous and set(hit.english) == {"Oman", "Amman"}
    found = names.find("اجتماع في عمان ثم في القاهرة")
    assert names.terms(found) == [("القاهرة", "Cairo")]  # Cairo is a term, عمان is not
    assert names.check(found, "A meeting in Oman, then in Cairo") == []
    assert names.check(found, "A meeting in Amman, then in Cairo") == []
    assert names.check(found, "A meeting in Muscat, then in Cairo") == ["missing_name:Amman / Oman"] or \
        names.check(found, "A meeting in Muscat, then in Cairo") == ["missing_name:Oman / Amman"]


def test_gazetteer_file_is_generated_with_licences():
    text = resources.files("khulasa_server.data").joinpath("gazetteer.tsv").read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Unicode License" in line for line in header) and any("CC BY 4.0" in line for line in header)
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    assert len(rows) > 2000 and {r[3] for r in rows} == {"cldr", "geonames", "iso-codes"}
    persian = set("پچژگکیےٹڈ")
    assert not [r[0] for r in rows if persian & set(r[0])]


def test_gazetteer_file_is_fresh(tmp_path):
    """The shipped file is what `khulasa-models gazetteer` makes from the pinned sources."""
    from khulasa_server.tools.models_cli import main

    out = tmp_path / "gazetteer.tsv"
    assert main(["gazetteer", "--out", str(out)]) == 0
    shipped = resources.files("khulasa_server.data").joinpath("gazetteer.tsv").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == shipped


def test_arabic_splits_and_fold():
    assert fold("إسطنبولَ") == "اسطنبول" and fold("القاهرة") == "القاهره" and fold("مصطفى") == "مصطفي"
    readings = [(s.prefix, s.article, s.stem) for s in splits("وبالقاهرة")]
    assert readings[0] == ("", False, "وبالقاهرة") and ("وب", True, "قاهرة") in readings


@pytest.mark.parametrize("text, expected", [
    ("التقى وزير الخارجية المصري سامح شكري نظيره الأردني أيمن الصفدي في القاهرة يوم الأحد.", ["سامح شكري", "أيمن الصفدي"]),
    ("وقال الرئيس التنفيذي أمين الناصر إن الشركة ستواصل الاستثمار.", ["أمين الناصر"]),
    ("وقال رئيس مجلس النواب نبيه بري إنه سيدعو إلى جلسة جديدة.", ["نبيه بري"]),
    ("وسجل هدف المباراة الوحيد اللاعب وسام أبو علي في الدقيقة 86.", ["وسام أبو علي"]),
    ("وقالت وزيرة السياحة فاطمة الزهراء عمور إن العدد ارتفع.", ["فاطمة الزهراء عمور"]),
    ("ودعا الصفدي المجتمع الدولي إلى التحرك.", ["الصفدي"]),
    ("قال المتحدث باسم الكرملين ديمتري بيسكوف إن المحادثات ستستمر.", ["ديمتري بيسكوف"]),
    ("ورحب زيلينسكي بالقرار.", ["زيلينسكي"]),
    ("وقال مسؤول إن الحكومة ستعلن القرار.", []),  # "an official" is no name
    ("وقالت الحكومة إن الأسعار سترتفع.", []),
    ("فشل البرلمان في انتخاب رئيس جديد للجمهورية.", []),
    ("سجل النجم المصري محمد صلاح هدفين في المباراة.", ["محمد صلاح"]),  # not "محمد صلاح هدفين"
    ("وقال الأمين العام للجامعة العربية أحمد أبو الغيط إن القمة ستعقد.", ["أحمد أبو الغيط"]),  # ل + complement
    ("وصل الشيخ محمد بن راشد آل مكتوم إلى المعرض.", ["محمد بن راشد آل مكتوم"]),  # joiners do not count
    ("أعلنت شركة تسلا تأجيل إطلاق السيارة.", ["تسلا"]),  # a verbal noun (تفعيل) ends the name
])
def test_candidate_names(text, expected):
    assert [c.text for c in candidates.find(normalize(text))] == expected


def test_candidates_stop_at_gazetteer_names():
    text = normalize("أعلنت شركة أرامكو السعودية أن أرباحها تراجعت.")
    found = names.find(text)
    assert [c.text for c in found.others] == ["أرامكو"] and [h.english for h in found.places] == [("Saudi Arabia",)]


def test_romanization():
    assert romanize("الصفدي") == "al-Safadi"
    assert romanize("أبو علي") == "Abu Ali"
    assert romanize("إسطنبول") == "Istanbul"
    assert romanize("بيسكوف") == "Biskuf"


@pytest.mark.parametrize("arabic, english", [
    ("بيسكوف", "Dmitry Peskov said"), ("زيلينسكي", "President Zelenskyy"), ("ترامب", "Donald Trump"),
    ("شكري", "Shoukry said"), ("الصفدي", "Ayman al-Safadi"), ("فرنجية", "Suleiman Frangieh"),
    ("الكرملين", "The Kremlin said"), ("الحديدة", "in Hodeidah"), ("أبو علي", "Wessam Abou Ali"),
])
def test_skeleton_match_accepts_english_spellings(arabic, english):
    assert kept(arabic.split()[-1], english), (arabic, arabic_skeleton(arabic), english)


@pytest.mark.parametrize("arabic, english", [
    ("شكري", "Sherry said"), ("الكرملين", "the Palestinians said"), ("بيسكوف", "the head of the French Foreign Ministry"),
    ("زيلينسكي", "the Egyptian President"), ("الأنصاري", "Majid Al-Ahmad said"),
    ("بيسكوف", "dmitry peskov"),  # a name in English is capitalized
])
def test_skeleton_match_rejects_other_names(arabic, english):
    assert not kept(arabic, english)


def test_skeleton_classes():
    assert english_skeleton("Peskov") == arabic_skeleton("بيسكوف") == "BSKF"  # P=B, V=F
    assert english_skeleton("Qatar") == english_skeleton("Katar") == arabic_skeleton("قطر")
    assert english_skeleton("Jeddah") == english_skeleton("Geddah")


def test_flags():
    found = names.find(normalize("قال المتحدث باسم الكرملين ديمتري بيسكوف في الإسكندرية إن المحادثات ستستمر."))
    assert names.check(found, "Kremlin spokesman Dmitry Peskov said in Alexandria that the talks would go on.") == []
    assert names.check(found, "A spokesman for the Palestinians said in Cairo that talks would go on.") == [
        "missing_name:Kremlin", "missing_name:Alexandria", "unverified_name:ديمتري بيسكوف", "added_name:Palestinians",
        "added_name:Cairo"]


SOURCE = "قال المتحدث ديمتري بيسكوف إن الوفد وصل إلى الإسكندرية."


def _warnings(segments):
    return [w for s in segments for w in s.warnings]


def test_flags_reach_segments_on_the_tiny_bundle(client, server):
    segments = client.translate([SOURCE]).translations[0].segments
    warnings = _warnings(segments)
    assert "missing_name:Alexandria" in warnings and "unverified_name:ديمتري بيسكوف" in warnings  # noise keeps neither
    assert server.core.pipeline.translation.name_repairs.tried == 0  # a seq2seq model takes no terms: no repair


def test_llm_prompt_gets_gazetteer_terms_and_flags_reach_segments(llm_client, llm_server):
    pipeline = llm_server.core.pipeline
    found = names.find(normalize(SOURCE))
    assert names.terms(found) == [("الإسكندرية", "Alexandria")]
    response = llm_client.digest(SOURCE)
    warnings = _warnings(response.paragraphs[0].segments)
    assert "missing_name:Alexandria" in warnings and "unverified_name:ديمتري بيسكوف" in warnings


def test_flagged_segments_are_repaired_and_the_better_output_kept(llm_server):
    pipeline = llm_server.core.pipeline
    stats = pipeline.translation.name_repairs
    tried, kept_before = stats.tried, stats.kept
    stats.record = []
    try:
        text = SOURCE + "\n" + "وصل الوزير إلى القاهرة يوم الأحد."
        result = pipeline.translate([text])[0]
        log = list(stats.record)
    finally:
        stats.record = None
    flagged = [s for s in result.segments if any(w.startswith(("missing_name:", "unverified_name:")) for w in s.warnings)]
    assert stats.tried - tried == len(log) >= 2  # both paragraphs named something the noise lost
    assert stats.kept - kept_before == sum(entry[3] for entry in log)
    by_source = {s.source: s for s in result.segments}
    for source, first, second, better in log:
        # the segment holds the repaired output exactly when the checks preferred it
        assert by_source[source].translation == (second if better else first)
    assert flagged  # random weights cannot write the names even when told them


def test_repair_prompt_names_every_name_and_differs_from_the_first():
    from khulasa_server.pipeline import glossary
    from khulasa_server.pipeline.names import repair

    found = names.find(normalize(SOURCE))
    note = repair.note(names.repair_terms(found))
    assert "الإسكندرية = Alexandria" in note and "ديمتري بيسكوف = Dmitry Peskov" in note
    # greedy decoding of an unchanged prompt would only repeat the first output
    assert note != glossary.note(names.repair_terms(found))


def test_readers_get_the_name_flags_explained():
    from khulasa import flags

    assert flags.explain("unverified_name", "شكري") == "name “شكري” of the Arabic not found in the English in any spelling"
    assert flags.explain("missing_name", "Amman / Oman") == "name “Amman / Oman” not found in the English"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

_ARABIC_TEXT = st.text(alphabet=st.sampled_from(list("ابتثجحخدذرسشصضطظعغفقكلمنهويةىأإآؤئء الو ،.؟0123456789-")), max_size=80)


@settings(max_examples=200, deadline=None)
@given(_ARABIC_TEXT, st.text(max_size=60))
def test_name_checks_never_fail_on_any_text(arabic, english):
    text = normalize(arabic)
    found = names.find(text)
    for hit in found.places:
        assert text[hit.start:hit.end] == hit.text and hit.english
    for candidate in found.others:
        assert text[candidate.start:candidate.end] == candidate.text
    assert all(w.startswith(repair.NAME_FLAGS) for w in names.check(found, english))
    romanize(arabic)


def test_first_prompt_carries_no_name_terms_unless_asked(llm_server):
    """By default the names go into the prompt only when a flagged segment is decoded again
    (measured: terms in every first prompt cost chrF); name_terms_first puts them in the first."""
    from khulasa_server.models.scheduler import LRUCache
    from khulasa_server.pipeline import glossary
    from khulasa_server.pipeline.names import repair

    pipeline = llm_server.core.pipeline
    cache = pipeline.translation.engine.cache
    text = "وصل الوزير إلى الإسكندرية يوم السبت."
    found = names.find(normalize(text))
    plain, with_terms = (LRUCache.key("translate", text, note) for note in ("", glossary.note(names.terms(found))))
    repaired = LRUCache.key("translate", text, repair.note(names.repair_terms(found)))
    # The Arabic as the model reads it with names in the source off (the terms are what this is about).
    pipeline.translation.names_in_source = ""
    try:
        pipeline.translate([text])
        assert cache.get(plain) and cache.get(repaired) and not cache.get(with_terms)
        pipeline.translation.name_terms_first = True
        pipeline.translate([text])
    finally:
        pipeline.translation.name_terms_first = False
        pipeline.translation.names_in_source = "all"
    assert cache.get(with_terms)


def test_name_repair_can_be_turned_off_for_speed(bundles):
    """`--no-name-repair`: flags still reach the segments, nothing is decoded a second time."""
    from conftest import start_server

    from khulasa_client import Client

    server = start_server(bundles["tiny-llm"], name_repair=False)
    try:
        with Client(f"127.0.0.1:{server.port}", timeout=120) as client:
            warnings = _warnings(client.digest(SOURCE).paragraphs[0].segments)
        assert "unverified_name:ديمتري بيسكوف" in warnings
        assert server.core.pipeline.translation.name_repairs.tried == 0
    finally:
        server.stop(0)


def test_a_repair_that_loses_a_name_the_first_decoding_kept_is_not_kept():
    """The first decoding named the spokesman with a wrong title; a second that drops his name
    has fewer flags of its own count but leaves an attribution nobody can check."""
    first = ["changed_role:foreign minister (Esmaeil Baghaei)", "low_confidence"]
    second = ["unverified_name:إسماعيل بقائي"]
    assert repair.problems(second) < repair.problems(first) and not repair.better(first, second)
    # a name both lost, or a problem fewer with every name kept, is a better output
    assert repair.better(["unverified_name:يحيى سريع", "added_name:Syrian"], ["unverified_name:يحيى سريع"])
    assert repair.better(["missing_name:Cairo", "changed_role:chief (Nabil Abdullah)"], ["changed_role:chief (Nabil Abdullah)"])
    assert not repair.better(["missing_name:Cairo"], ["missing_name:Cairo"])
    # a weekday lost is one problem among others: an invented speaker gone is worth it
    putin = ["missing_name:Kremlin", "missing_name:Kyiv", "unverified_name:دميتري بيسكوف", "added_name:Vladimir"]
    assert repair.better(putin, ["missing_name:Tuesday", "missing_name:Kyiv", "unverified_name:دميتري بيسكوف"])
