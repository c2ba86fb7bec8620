"""The usual English spelling of names (pipeline/names/usual.py): arabic-name-romanizer for Arabic names,
data/foreign_names.tsv for foreign ones, in the repair's terms, in names-in-source and in the checks."""

import pytest

from khulasa_server.pipeline import names
from khulasa_server.pipeline.names import repair, usual
from khulasa_server.pipeline.names.romanize import kept
from khulasa_server.pipeline.names.source import english_in_source
from khulasa_server.text.normalize import normalize

FORMS = [(form, row.english) for row in usual.foreign_rows() for form in row.arabic]


def test_the_romanizer_is_installed():
    # a server without it falls back to romanize(); the suite must test the real thing
    assert usual.available()


@pytest.mark.parametrize("arabic, english", FORMS, ids=[f"{e}:{a}" for a, e in FORMS])
def test_each_foreign_name_row(arabic, english):
    """Each row gives its English, which the name check accepts."""
    assert usual.usual(arabic) == english
    assert usual.written(arabic, f"On Monday {english} said so.")


CLUBS = [(form, row.english) for row in usual.club_rows() for form in row.arabic]


@pytest.mark.parametrize("arabic, english", CLUBS, ids=[f"{e}:{a}" for a, e in CLUBS])
def test_each_club_row(arabic, english):
    """Each club gives its English, which the name check accepts, and is no listed person."""
    assert usual.attested(arabic) == english and usual.usual(arabic) == english
    assert usual.written(arabic, f"On Monday {english} won.")
    assert not usual.listed(arabic)


def test_a_club_the_finder_sees_is_written_in_english_and_an_everyday_word_is_not():
    text = normalize("وفاز الأهلي على الترجي بهدف دون رد.")
    assert english_in_source(text, names.find(text), "all") == "وفاز Al Ahly على Esperance بهدف دون رد."
    # الأهلي is also "civil" and النصر "victory": where the finder sees no name they stay as they are
    for sentence in ("أكد المجتمع الأهلي دعمه للمبادرة.", "احتفل الشعب بعيد النصر أمس."):
        text = normalize(sentence)
        assert english_in_source(text, names.find(text), "all") == text


def test_foreign_names_file_rows_are_well_formed():
    rows = usual.foreign_rows()
    assert len(rows) >= 60 and len({r.english for r in rows}) == len(rows)
    with pytest.raises(ValueError, match="line 1: 3 tab-separated columns"):
        usual.parse("زيلينسكي\tZelensky")


@pytest.mark.parametrize(
    "arabic, english",
    [("سامح شكري", "Sameh Shoukry"), ("أيمن الصفدي", "Ayman Safadi"), ("فؤاد حسين", "Fouad Hussein"),
     ("محمد بن سلمان", "Mohammad bin Salman"), ("أحمد أبو الغيط", "Ahmed Aboul Gheit")],
)
def test_arab_names_get_their_usual_spelling(arabic, english):
    assert usual.usual(arabic) == english


def test_a_spelling_the_consonants_do_not_support_is_not_used():
    # the model's guess for an unknown foreign name drops a syllable (رازومكوف → Razoum);
    # the word by word romanization keeps every consonant instead
    assert kept("رازومكوف", usual.usual("فيكتور رازومكوف"))


SENTENCE = "وقال وزير الخارجية المصري سامح شكري إن المحادثات مع المتحدث باسم الكرملين دميتري بيسكوف كانت مثمرة."


def test_repair_terms_and_names_in_source_use_the_usual_spelling():
    found = names.find(normalize(SENTENCE))
    note = repair.note(names.repair_terms(found))
    assert "سامح شكري = Sameh Shoukry" in note and "دميتري بيسكوف = Dmitry Peskov" in note
    written = english_in_source(normalize(SENTENCE), found, "all")
    assert "Sameh Shoukry" in written and "Dmitry Peskov" in written


@pytest.mark.parametrize(
    "arabic, english",
    [
        ("وقال وزير الدفاع الإسرائيلي يسرائيل كاتس إن الجيش سيرد.", "Israeli Defense Minister Israel Katz said the army would respond."),
        ("وقال المستشار الألماني أولاف شولتس إن الحرب التجارية لا تخدم أحدا.", "German Chancellor Olaf Scholz said a trade war serves no one."),
        ("وحذر المدير العام تيدروس أدهانوم من انهيار النظام الصحي.", "Director-General Tedros Adhanom warned of the collapse of the health system."),
        ("وقال وزير الطاقة السعودي الأمير عبد العزيز بن سلمان إن السوق بحاجة إلى الاستقرار.",
         "Saudi Energy Minister Prince Abdulaziz bin Salman said the market needed stability."),
    ],
)
def test_a_name_in_its_usual_spelling_is_not_flagged(arabic, english):
    """The consonant check alone flags these (dh read as ذ in Adhanom, a first name joined to
    Abdul): the name written as the romanizer spells it is the name."""
    assert not [w for w in names.check(names.find(normalize(arabic)), english) if w.startswith(repair.NAME_FLAGS)]


def test_another_name_is_still_flagged():
    arabic = "وقال وزير الدفاع الإسرائيلي يسرائيل كاتس إن الجيش سيرد."
    warnings = names.check(names.find(normalize(arabic)), "Israeli Defense Minister Benny Gantz said the army would respond.")
    assert "unverified_name:يسرائيل كاتس" in warnings and "added_name:Benny Gantz" in warnings


def test_the_tiny_llm_is_reprompted_with_the_usual_spelling(llm_server):
    """Through a real server's pipeline on the tiny bundle: the noise loses the names, the
    checks flag them, and the second prompt CTranslate2 receives spells them as the press does."""
    engine = llm_server.core.pipeline.translation.engine
    generator = getattr(engine, "engine", engine)  # under the gathering engine
    model, prompts = generator._model, []

    class Recording:
        def generate_batch(self, inputs, **options):
            prompts.extend(generator._tok.decode((options.get("static_prompt") or []) + list(i)) for i in inputs)
            return model.generate_batch(inputs, **options)

    generator._model = Recording()
    try:
        result = llm_server.core.pipeline.translate([SENTENCE])[0]
    finally:
        generator._model = model
    warnings = [w for s in result.segments for w in s.warnings]
    assert "unverified_name:سامح شكري" in warnings or "unverified_name:دميتري بيسكوف" in warnings
    assert any("سامح شكري = Sameh Shoukry" in p and "دميتري بيسكوف = Dmitry Peskov" in p for p in prompts)


@pytest.mark.parametrize(
    "arabic, english",
    [("نبيه بري", "Nabih Berri"),  # the whole name attested, where word by word gives Nabih Barre
     ("محمد صلاح", "Mohamed Salah"),
     ("نبيل عبد الله", "Nabil Abdullah"),  # each word attested (romanize() wrote Abad al-Lah)
     ("حسين", "Hussein"),  # one word: the word count, not a corpus's whole-name Hacene
     ("دميتري بيسكوف", "Dmitry Peskov")],  # a row of data/foreign_names.tsv
)
def test_an_attested_spelling_goes_into_the_source(arabic, english):
    assert usual.attested(arabic) == english
    text = normalize(f"وقال {arabic} إن الوفد وصل.")
    assert english_in_source(text, names.find(text), "all") == f"وقال {english} إن الوفد وصل."


@pytest.mark.parametrize("arabic", ["مايكروسوفت", "أرني سلوت", "آموس هوكشتاين"])
def test_a_guessed_spelling_stays_out_of_the_source(arabic):
    """The romanizer's model guesses Maycrovte and Arni Sallout: the model, reading the Arabic,
    writes Microsoft and Slot itself, but copies a guess it is given."""
    text = normalize(f"وقال رئيس {arabic} إن الصفقة ستنقل تقنيات متقدمة.")
    found = names.find(text)
    assert usual.attested(arabic) is None
    assert arabic in english_in_source(text, found, "all")


@pytest.mark.parametrize(
    "english, flagged",
    [("Dmytro Razumov", True),  # one consonant off the listed Razumkov: another name
     ("Dmytro Razumkov", False), ("Razumkov", False)],
)
def test_a_listed_foreign_name_allows_no_near_spelling(english, flagged):
    arabic = normalize("وقال رئيس البرلمان الأوكراني دميترو رازومكوف إن المحادثات مهمة.")
    warnings = names.check(names.find(arabic), f"Ukrainian parliament speaker {english} said the talks were important.")
    assert ("unverified_name:دميترو رازومكوف" in warnings) is flagged


def test_a_listed_name_in_another_transliteration_is_kept():
    # same consonants, other vowels or doubled letters: Zelenskyy is Zelensky
    arabic = normalize("من جهته، طالب الرئيس الأوكراني فولوديمير زيلينسكي بوقف كامل لإطلاق النار.")
    assert not [w for w in names.check(names.find(arabic), "Ukrainian President Volodymyr Zelenskyy called for a full ceasefire.")
                if w.startswith(repair.NAME_FLAGS)]


ARTICLE = "تأهلت التونسية أنس جابر إلى الدور ربع النهائي.\n\nوتغلبت جابر على منافستها في مباراة استمرت ساعتين."


def test_a_surname_alone_is_spelled_as_the_article_s_full_name():
    """جابر alone is the corpus's Gaber (a given name); after أنس جابر (Ons Jabeur) in the same
    article it is Jabeur, as a newspaper spells one person throughout."""
    from khulasa_server.pipeline.names.source import surnames

    first, second = (normalize(p) for p in ARTICLE.split("\n\n"))
    found = [names.find(first), names.find(second)]
    assert usual.attested("جابر") == "Gaber"
    article = surnames(found)
    assert article == {"جابر": "Jabeur"}
    assert "Jabeur" in english_in_source(second, found[1], "all", article)
    assert "Gaber" in english_in_source(second, found[1], "all")  # alone, the word's own spelling
    # the repair's terms say what the first decoding read
    assert ("جابر", "Jabeur") in names.repair_terms(found[1], article=article)
    assert ("جابر", "Gaber") in names.repair_terms(found[1])
    # a name the spelling joins is no evidence for its last word (عبد الله → Abdullah)
    assert surnames([names.find(normalize("وقال العميد نبيل عبد الله إن القوات تقدمت."))]) == {}


def test_a_surname_two_people_spell_differently_is_left_alone():
    """Sameh Shoukry and Mohamed Shokry in one article: a later شكري alone could be either."""
    from khulasa_server.pipeline.names.source import surnames

    one = names.find(normalize("وقال الوزير سامح شكري إن الوفد وصل."))
    both = names.find(normalize("وقال الوزير سامح شكري إن الكاتب محمد شكري سيحضر المؤتمر."))
    assert surnames([one]) == {"شكري": "Shoukry"}
    assert surnames([both]) == {}


@pytest.mark.parametrize("stream", [False, True])
def test_the_model_reads_a_later_surname_as_the_article_spells_it(llm_server, stream):
    """In one call (digest) or in streamed groups (the first paragraph alone): the second
    paragraph reaches the model with Jabeur, not Gaber."""
    from khulasa_server.models.scheduler import LRUCache
    from khulasa_server.pipeline.names.source import english_in_source, surnames

    pipeline = llm_server.core.pipeline
    cache = pipeline.translation.engine.cache
    text = ARTICLE.replace("ساعتين", "ساعتين" + (" ونصف" if stream else ""))  # each case its own cache rows
    first, second = (normalize(p) for p in text.split("\n\n"))
    article = surnames([names.find(first), names.find(second)])
    read = english_in_source(second, names.find(second), "all", article)
    assert "Jabeur" in read and "Gaber" not in read
    list(pipeline.iter_digest(text, stream=stream))
    assert cache.get(LRUCache.key("translate", read))


def test_texts_of_one_request_do_not_share_surnames(llm_server):
    """translate([a, b]) decodes both texts' pieces in one call; b's جابر is not a's Ons Jabeur."""
    from khulasa_server.models.scheduler import LRUCache

    pipeline = llm_server.core.pipeline
    cache = pipeline.translation.engine.cache
    first, second = (normalize(p) for p in ARTICLE.replace("ساعتين", "ثلاث ساعات").split("\n\n"))
    pipeline.translate([first, second])
    alone = english_in_source(second, names.find(second), "all")
    assert "Gaber" in alone and cache.get(LRUCache.key("translate", alone))


def test_the_repair_reads_what_the_first_pass_read_with_a_note_of_the_names_left_in_arabic(llm_server):
    """The first pass read Dmitry Peskov and Cairo in English and آموس هوكستين (no attested
    spelling) in Arabic; the tiny model's output loses them, and the second decoding reads the
    same text with a note for the name still in Arabic only."""
    from khulasa_server.models.scheduler import LRUCache

    pipeline = llm_server.core.pipeline
    cache = pipeline.translation.engine.cache
    text = normalize("وقال دميتري بيسكوف إن المبعوث آموس هوكستين وصل إلى القاهرة مساء أمس.")
    found = names.find(text)
    read = english_in_source(text, found, "all")
    assert "Dmitry Peskov" in read and "Cairo" in read and "آموس هوكستين" in read
    pipeline.translate([text])
    still = [(a, e) for a, e in names.repair_terms(found) if a in read]
    assert [a for a, _ in still] == ["آموس هوكستين"]
    assert cache.get(LRUCache.key("translate", read, repair.note(still)))
    assert not cache.get(LRUCache.key("translate", text, repair.note(names.repair_terms(found))))
