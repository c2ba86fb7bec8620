"""Names of people and organizations that no list holds, found in Arabic news text by the
way news writes them: after a title or role (الرئيس, وزير الخارجية المصري, المتحدث باسم,
نظيره), after a verb of saying (وقال شكري إن), foreign names by their endings (-ski, -ov,
-ich, -enko, -shvili), clubs where a match report puts a team, and an institution's acronym in
parentheses. No dictionary: the words that stop or skip a name are listed below, and
docs/quality.md reports how precise the resulting flag is on the evaluation sets."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from khulasa_server.pipeline.names import arabic


def _light(word: str) -> str:
    """A word with diacritics removed and hamza-alef forms as bare alef, but ى and ي kept
    apart: على (on) is not علي (Ali)."""
    return re.sub("[أإآ]", "ا", arabic.strip_diacritics(word))


def _forms(words: str) -> frozenset[str]:
    return frozenset(_light(w) for w in words.split())


# Titles and roles that precede a name.
TITLES = _forms(
    "رئيس رئيسة الرئيس الرئيسة وزير وزيرة الوزير الوزيرة المتحدث المتحدثة الناطق الناطقة السفير "
    "السفيرة المدرب اللاعب اللاعبة النجم النجمة المرشح المرشحة الأمين المدير المديرة الملك الملكة "
    "الأمير الأميرة الشيخ الشيخة السيد السيدة الدكتور الدكتورة المستشار المستشارة النائب النائبة "
    "القائد الجنرال العقيد اللواء العميد المبعوث المبعوثة الكاتب الكاتبة الصحفي الصحفية المحلل "
    "المحللة الخبير الخبيرة الباحث الباحثة البابا الإمام المفوض المفوضة المنسق المنسقة المدعي "
    "القاضي القاضية الزعيم العاهل نظيره نظيرته نظيرها مراسل مراسلة الفنان الفنانة المخرج المغني "
    "المغنية الروائي الشاعر الحكم المهاجم المدافع الحارس الكابتن المالك المؤسس مدرب مدير سفير نائب "
    "نائبة محافظ المحافظ حاكم الحاكم مساعد المساعد مستشار مستشارة الممثل الممثلة ممثل ممثلة"
    # headed by, led by: a name follows as after a title (برئاسة محمد المنفي)
    " برئاسة بقيادة"
)
# Nouns that head a title's complement (رئيس مجلس النواب, المتحدث باسم الكرملين).
HEADS = _forms(
    "مجلس وزارة هيئة شركة منظمة لجنة حزب حركة بنك صندوق جامعة باسم مؤسسة مكتب محكمة جهاز وكالة نادي فريق منتخب مجموعة اتحاد "
    "مصرف بعثة رئاسة شؤون قوات قوة جيش حكومة سلطة إدارة جماعة إقليم ولاية محافظة"
)
SAYING = _forms(
    "قال قالت أكد أكدت أضاف أضافت أوضح أوضحت دعا دعت رحب رحبت أعلن أعلنت أشار أشارت صرح صرحت "
    "اعتبر اعتبرت شدد شددت ذكر ذكرت كشف كشفت حذر حذرت نفى نفت طالب طالبت أفاد أفادت"
)
# Words that end a name or are no name: particles, pronouns and the nouns that stand where a
# name could after a verb of saying (قال مسؤول, قالت مصادر).
STOP = _forms(
    "في من إلى على عن مع أن إن إنه إنها أنه أنها لا لم لن ما قد كان كانت هذا هذه ذلك تلك الذي التي "
    "الذين بعد قبل خلال منذ حتى بين عند لدى حول ضد دون غير أو ثم بل لكن يوم أمس اليوم الأسبوع "
    "مسؤول مسؤولون مسؤولة مصدر مصادر شهود شاهد خبراء خبير محللون محلل متحدث ناشطون سكان بيان "
    "جديد جديدة سابق سابقة محللة باحث باحثة تقرير وزير وزراء مراقبون دبلوماسي دبلوماسيون "
    "أيضا كذلك جميع بعض كل عدد أكثر أقل نحو هناك هنا "
    "الخميس الجمعة السبت الأحد الاثنين الثلاثاء الأربعاء "
    # نقلت عن رئيس البرلمان نبيه بري قوله: "his saying", after the name it quotes
    "قوله قولها فقط مساء صباح ليلة الهدف الهدفين الأهداف"
)
# Verbs whose subject is a person (والتقى هوكستين رئيس مجلس النواب, وأطلع مصطفى الوزير): a name
# follows as after a verb of saying.
MEETING = _forms("التقى التقت استقبل استقبلت يلتقي تلتقي سيلتقي ستلتقي أطلع أطلعت")
# Words after which a family name with the article stands as a subject (وكان النيادي قد, إن
# السيسي تلقى): only a nisba form (-ي) is taken there, the shape of such names.
SUBJECT = _forms("كان كانت إن أن")
# (and the particles of European names: رون فان رودن, Ron van Rooden)
JOINERS = _forms("أبو أبي بن ابن بنت عبد آل أم فان فون دي")
# Goals and nets, no names; in a match report the club follows them (هدفي النصر: Al Nassr's two goals).
GOALS = _forms("هدف هدفي هدفا هدفين شباك مرمى")
# Regnal ordinals end a name and belong to it (الملك محمد السادس: Mohammed VI).
ORDINALS = _forms("الأول الثاني الثالث الرابع الخامس السادس السابع الثامن التاسع العاشر")
FOREIGN_ENDINGS = re.compile("(?:سكي|يتش|ينكو|شفيلي|وفا|وف|كينا|سكا)$")  # … -kina, -ska (Rybakina, Radwanska)
MAX_NAME_WORDS = 3  # not counting joiners (أحمد بن سعيد آل مكتوم)
# Verbal nouns of the patterns تفعيل, استفعال, افتعال follow a subject where a name would
# (أعلنت ناسا تأجيل المهمة); no name has these shapes.
VERBAL_NOUN = re.compile("^(?:ت..ي.|است..ا.|ا.ت.ا.|م.ا..ه)$")  # … and مفاعلة (مكافحة)


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str  # the name as written, clitics of its first word removed
    words: tuple[str, ...]
    headed: bool = False  # named after a company's or place's noun (مطار حمد): English may write it in an institution's name


def _verbal_noun(word: str) -> bool:
    folded = arabic.fold(word)
    return bool(VERBAL_NOUN.match(folded) or folded[:1] in "لب" and VERBAL_NOUN.match(folded[1:]))


def _bare(word: str) -> str:
    """A word without a leading conjunction و/ف (folded)."""
    folded = _light(word)
    if folded[:1] in "وف" and len(folded) > 3 and folded[1:] in TITLES | SAYING | STOP | MEETING:
        return folded[1:]
    return folded


def _has_article(word: str) -> bool:
    folded = arabic.fold(word)
    return folded[:2] == "ال" and len(folded) > 3


def _nisba(word: str) -> bool:
    """A word with the article ending in -ي (السيسي, النيادي), not the clitic + article of بالحي."""
    folded = _light(word)
    return _has_article(word) and folded[-1:] == "ي" and len(folded) > 4


def _foreign(word: str) -> bool:
    folded = arabic.fold(word)
    if _has_article(word) or len(folded) < 5:
        return False
    match = FOREIGN_ENDINGS.search(folded)
    return match is not None and (match.group() not in ("وف", "وفا") or len(folded) >= 6)


def _first_name(words: list[re.Match[str]], j: int, i: int, text: str, after_title: bool) -> bool:
    """Whether a word that reads as clitic + article (فالديس: ف + الديس) is a first name
    (Valdis, Walter, Balotelli): it stands first after a title and a plain name word follows."""
    if j != i or not after_title or j + 1 >= len(words) or not re.fullmatch(r"\s+", text[words[j].end() : words[j + 1].start()]):
        return False
    after = words[j + 1].group()
    folded = _light(after)
    return not (
        _has_article(after)
        or _bare(after) in STOP | TITLES | SAYING
        or folded[:1] in "وفبلك"
        and folded[1:3] == "ال"
        or len(folded) < 3
        or _verbal_noun(after)
    )


def _name_ends(words: list[re.Match[str]], j: int, text: str) -> bool:
    """Whether a name may end at word j: punctuation or the text's end follows it, or a word
    that is no name (إن, في, قال, a title)."""
    if j + 1 >= len(words) or not re.fullmatch(r"\s+", text[words[j].end() : words[j + 1].start()]):
        return True
    return _bare(words[j + 1].group()) in STOP | SAYING | TITLES


# The prefixes of a verb in the imperfect or the future (يبحث, سيبحث): no name word has them
# after a first and a second name.
_VERB_PREFIX = re.compile("^(?:س[يتن]|[يتن]).{3,}$")


def _third_name_word(words: list[re.Match[str]], j: int, text: str) -> bool:
    """Whether a third plain word after a title belongs to the name (ألب أرسلان بيرقدار, حسن شيخ
    محمود): the name ends with it, and it does not read as a verb (ستارمر سيبحث; a word of three
    letters before a preposition is a past verb: إن المبعوث آموس هوكستين وصل إلى بيروت)."""
    light = _light(words[j].group())
    if len(light) == 3 and j + 1 < len(words) and _bare(words[j + 1].group()) in _PREPOSITIONS:
        return False
    return _name_ends(words, j, text) and not _VERB_PREFIX.match(light)


_PREPOSITIONS = _forms("إلى الى في من عن على مع")


def _name_from(words: list[re.Match[str]], i: int, text: str, after_title: bool) -> list[int]:
    """Indexes of the name words starting at word i (empty if none). After a verb of saying the
    first word may be a family name with the article (ودعا الصفدي); after a title a plain first
    name may be followed by one with the article (أمين الناصر, فاطمة الزهراء عمور)."""
    taken: list[int] = []
    plain = 0
    for j in range(i, min(len(words), i + 2 * MAX_NAME_WORDS)):
        if j > i and not re.fullmatch(r"\s+", text[words[j - 1].end() : words[j].start()]):
            break  # punctuation ends a name
        word = words[j].group()
        folded = _light(word)
        if j > i and folded in ORDINALS:
            taken.append(j)
            break
        # a family name with the article after a title's first name may have a verbal noun's
        # shape (مصطفى التراب: افتعال)
        family = (
            j > i and after_title and len(taken) == 1 and _has_article(word) and not _has_article(words[i].group())
        ) and _name_ends(words, j, text)  # a verbal noun governs what follows it: نوفاك التزام بلاده
        if _bare(word) in STOP | TITLES | SAYING | GOALS or len(folded) < 2 or _verbal_noun(word) and not family:
            break  # فقال ends a name
        if j == i and re.search('["«»“”]', text[words[j - 1].end() if j else 0 : words[j].start()]):
            break  # a quotation begins: what follows is speech, not a name
        clitic = folded[:1] in "وفبلك" and folded[1:3] == "ال" or folded[:2] == "لل"
        after_joiner = j > i and _light(words[j - 1].group()) in JOINERS  # بن فالح: Faleh, not ف + الح
        if clitic and not after_joiner and not _first_name(words, j, i, text, after_title):
            break  # a clitic + article word (بالإفراج) is no name
        joiner = folded in JOINERS
        if j == i:
            if _has_article(word) and (after_title or folded[-1:] not in "يى"):
                break
        else:
            previous = _light(words[j - 1].group())
            if _has_article(word) and not (
                folded[-1:] in "يى"
                or previous in JOINERS
                or after_title
                and len(taken) == 1
                and not _has_article(words[i].group())
                and folded[-1:] not in "ةه"
            ):
                break
            third = after_title and plain == 2 and _third_name_word(words, j, text)
            if plain >= 2 and _has_article(words[j - 1].group()) and not joiner and not _third_name_word(words, j, text):
                break  # a noun after the family name (هيثم الغيص وجود خلافات)
            if (
                not joiner
                and not _has_article(word)
                and plain >= 2
                and not third
                and previous not in JOINERS
                and not _has_article(words[j - 1].group())
            ):
                # a third plain word (محمد صلاح هدفين) is rarely part of the name, unless a
                # title announced one (وزير الطاقة التركي ألب أرسلان بيرقدار)
                break
        if not joiner:
            plain += 1
            if plain > MAX_NAME_WORDS:
                break
        taken.append(j)
    while taken and _light(words[taken[-1]].group()) in JOINERS:
        taken.pop()
    return taken


_BEFORE_NOUN = _forms("على من مع أمام ضد إلى بين")


def _as_noun(words: list[re.Match[str]], i: int) -> bool:
    """Whether a nationality word stands as a noun (the Tunisian Ons Jabeur), not as the
    adjective of the noun before it (النادي الأهلي المصري): after a preposition, or as the
    subject right after a sentence's first word (تأهلت التونسية)."""
    return i == 1 or i > 0 and _light(words[i - 1].group()) in _BEFORE_NOUN


def _in(word: re.Match[str], known: Sequence[tuple[int, int]]) -> bool:
    return any(s < word.end() and word.start() < e for s, e in known)


def _complement(word: str) -> bool:
    """A word of a title's complement: الخارجية, المصري, مجلس, لمنظمة, للأونروا."""
    folded = _light(word)
    return (
        _has_article(word)
        or folded in HEADS
        or folded[:1] == "ل"
        and folded[1:] in HEADS
        or folded[:2] == "لل"
        or folded[:1] == "ل"
        and folded[1:3] == "ال"
    )


# Clubs are named with everyday words (النصر victory, الهلال crescent, الاتحاد union) and stand
# where a match report puts a team: after نادي or فريق, and as the subject or the opponent
# (على) of a verb of play. Only in a segment about a match, told by its words.
SPORT = _forms(
    "مباراة المباراة مباراته هدف هدفا هدفين هدفي الهدف الأهداف الدوري دوري الشوط بطولة البطولة كأس لقب "
    "نقطة نقاط الدقيقة مجموعة مجموعتين الجولة المنتخب الملعب نهائي النهائي"
)
CLUB_HEADS = _forms("نادي النادي فريق الفريق")
PLAY = _forms(
    "فاز فازت تغلب تغلبت توج توجت ارتقى ارتقت تعادل تعادلت خسر خسرت هزم هزمت واجه واجهت يواجه تواجه سيواجه ستواجه أقصى "
    "تأهل تأهلت يمثل تمثل سيمثل ستمثل"  # a club represents its country or continent
    " مواجهة"  # the tie between two clubs (من مواجهة بيراميدز والجيش الملكي)
)
# Words that stand where a club does but name none (the team, the player, the champion).
_NOT_CLUBS = _forms(
    "المنتخب الفريق النادي اللاعب اللاعبة البطل البطلة المتصدر الضيوف المضيف المباراة الفائز الخاسر المنافس الخصم"
)
_ON = _light("على")
# بهدف before a word with the article is "in order to" (بهدف التوصل إلى وقف إطلاق النار), even
# in a text that mentions sport; a goal is بهدف before a number or دون رد, never a club.
_IN_ORDER_TO = frozenset({_light("بهدف"), _light("وبهدف")})


def _is(word: str, forms: frozenset[str]) -> bool:
    """Whether a word is one of `forms`, alone or after a conjunction or preposition (وفاز, بهدفين)."""
    folded = _light(word)
    return folded in forms or folded[:1] in "وفبل" and folded[1:] in forms


def _club(words: list[re.Match[str]], j: int, text: str, known: Sequence[tuple[int, int]]) -> list[int]:
    """The club (one word with the article) or player standing at word j, if any."""
    if j >= len(words) or _in(words[j], known):
        return []
    if _light(words[j].group()) in CLUB_HEADS:
        j += 1
    if j >= len(words) or _in(words[j], known):
        return []
    word = words[j].group()
    folded = _light(word)
    if _has_article(word):
        bad = folded in STOP | TITLES | _NOT_CLUBS or _verbal_noun(word)
        return [] if bad else [j]
    return _name_from(words, j, text, after_title=False)


# Nouns a name of a company, an agency, a newspaper or a movement follows (شركة ريبسول, وكالة
# وفا, صحيفة فايننشال تايمز), and nouns a place's own name follows (حقل الشرارة, مطار حمد,
# مخيمي جنين), where no list reaches: the word after them is a name unless it is one of the
# common nouns that follow them there (شركة نفط, وكالة أنباء) or an adjective (شركة صينية).
ORG_HEADS = _forms("شركة صحيفة وكالة قناة مجلة")
PLACE_HEADS = _forms("محافظة مديرية مديريتي حقل حقلي مطار مصفاة مصنع مخيم مخيمي مستشفى معبر منجم")
# (a newspaper and a governorate are named with everyday words and the article: صحيفة الوسط,
# محافظة الضالع; after the other nouns such a word is mostly what it says: حقل الغاز, مخيم
# اللاجئين, مطار العاصمة, مستشفى الولادة)
_ARTICLE_NAMED = _forms("صحيفة محافظة")
_AFTER_HEADS = _forms(
    "أنباء نفط طيران تأمين استثمار اتصالات أمن حماية خدمات نقل شحن إنشاءات مقاولات تطوير صناعة "
    "إعلام أخبار غاز كهرباء مياه لاجئين نازحين"
)


def _headed(words: list[re.Match[str]], i: int, text: str, known: Sequence[tuple[int, int]]) -> list[int]:
    """The name after a company's, newspaper's or place's head noun at word i, if any."""
    j = i + 1
    if j >= len(words) or _in(words[j], known) or not re.fullmatch(r"\s+", text[words[i].end() : words[j].start()]):
        return []
    word = words[j].group()
    folded = _light(word)
    if _bare(word) in STOP | TITLES | SAYING | _AFTER_HEADS or _verbal_noun(word) or len(folded) < 3:
        return []
    if folded[-2:] == "يه" or folded[-1:] == "ة" and folded[-2:-1] == "ي":
        return []  # an adjective: شركة صينية, صحيفة محلية
    place = not _is(words[i].group(), ORG_HEADS)
    if not place and folded[-1:] == "ة" and not _has_article(word):
        return []  # an adjective agreeing with the feminine noun: شركة ناشئة, صحيفة كبيرة
    if place and folded[-1:] == "ي" and not _has_article(word) or folded[:2] in ("تت", "يت", "لل"):
        return []  # مستشفى جامعي, مطار دولي; a verb (شركة تتعامل); للسيارات
    if _has_article(word):
        if not _is(words[i].group(), _ARTICLE_NAMED) or folded[:1] in "وفبلك" and folded[1:3] == "ال":
            return []
        return [j]
    if folded[:1] in "وفبلك" and folded[1:3] == "ال" or folded[-2:] == "ات":
        return []  # a plural: مصنع سيارات
    if place:
        return [j]
    name = _name_from(words, j, text, after_title=False)
    # the next such noun begins another name (وكالة بترا وصحيفة الغد)
    # (nor is a verb after it part of it: شركة إيني ستواصل)
    return list(
        itertools.takewhile(
            lambda k: (
                not _is(words[k].group(), ORG_HEADS | PLACE_HEADS)
                and not (k > j and _VERB_PREFIX.match(_light(words[k].group())))
            ),
            name,
        )
    )


_TO = _forms("إلى لدى في")  # المبعوث الأممي الخاص إلى سوريا غير بيدرسن
MAX_COMPLEMENT = 8  # المبعوث الشخصي للأمين العام للأمم المتحدة إلى السودان رمطان لعمامرة


MAX_INSTITUTION = 12  # المفوض العام لوكالة الأمم المتحدة لإغاثة وتشغيل اللاجئين الفلسطينيين (الأونروا)
_PARENTHESIS = re.compile(r"\(([^()\d]{2,40})\)\s*$")


def _after_acronym(words: list[re.Match[str]], i: int, j: int, text: str) -> int | None:
    """Where a name starts after a title whose institution ends in its acronym in parentheses
    (المتحدث باسم قوة الأمم المتحدة المؤقتة في لبنان (يونيفيل) أندريا تيننتي): the word after
    the closing parenthesis, when the complement reaches the parenthesis or stops before it at
    a word that is no name (لإغاثة). Punctuation before it ends the title."""
    for k in range(i + 1, min(len(words), i + MAX_INSTITUTION + 1)):
        gap = text[words[k - 1].end() : words[k].start()]
        if ")" in gap:
            return k if k >= j and _PARENTHESIS.search(text[words[i].end() : words[k].start()]) else None
        if re.search('[.،,:؛"«»]', gap):
            return None
    return None


def _acronym(words: list[re.Match[str]], i: int, text: str, known: Sequence[tuple[int, int]]) -> bool:
    """A word alone in parentheses after a name of several words is that institution's
    acronym (قوة الأمم المتحدة المؤقتة في لبنان (يونيفيل)): a name."""
    start, end = words[i].start(), words[i].end()
    return (
        text[:start].rstrip().endswith("(")
        and text[end:].lstrip().startswith(")")
        and i >= 2
        and not _in(words[i], known)
        and _bare(words[i].group()) not in STOP | TITLES | SAYING
    )


def find(text: str, known: Sequence[tuple[int, int]] = (), nationals: Sequence[int] = ()) -> list[Candidate]:
    """Candidate names in a normalized Arabic text; spans in `known` (gazetteer hits) are skipped.
    `nationals`: where the nationality words of the text end: one used as a noun is a title
    (التونسية أنس جابر, البرازيلي ماركوس ليوناردو)."""
    ends = set(nationals)
    words = arabic.words(text)
    sport = any(_is(w.group(), SPORT) for w in words)
    found: list[list[int]] = []
    headed: set[int] = set()  # where names found after a company's or place's noun start
    i = 0
    while i < len(words):
        bare = _bare(words[i].group())
        name: list[int] = []
        if sport and (_is(words[i].group(), PLAY) or _light(words[i].group()) in CLUB_HEADS):
            name = _club(words, i + 1, text, known)
        elif (
            sport
            and _is(words[i].group(), GOALS)
            and _light(words[i].group()) not in _IN_ORDER_TO
            and i + 1 < len(words)
            and _has_article(words[i + 1].group())
        ):
            name = _club(words, i + 1, text, known)
        elif sport and _light(words[i].group()) == _ON and any(_is(w.group(), PLAY) for w in words[max(0, i - 4) : i]):
            name = _club(words, i + 1, text, known)
        elif bare in TITLES:
            j = i + 1
            # skip the title's complement: ال-words (الخارجية المصري) and head nouns (مجلس النواب)
            while j < len(words):
                if _complement(words[j].group()):
                    j += 1
                elif _in(words[j], known):
                    j += 1  # a place or institution the list holds (الأمين العام لأوبك, حكومة إقليم كردستان)
                elif _light(words[j].group()) in _TO and j + 1 < len(words) and _in(words[j + 1], known):
                    j += 2  # … to Syria
                else:
                    break
            after = _after_acronym(words, i, j, text)
            if after is not None:
                name = _name_from(words, after, text, after_title=True)
            elif j < len(words) and j - i <= MAX_COMPLEMENT:
                name = _name_from(words, j, text, after_title=True)
        elif bare in SAYING and i + 1 < len(words):
            j = i + 1
            if _light(words[j].group()) in HEADS:  # أعلنت شركة أرامكو: the name follows the noun
                j += 1
            common = j < len(words) and _bare(words[j].group()) in _AFTER_HEADS  # قالت وكالة أنباء
            name = _name_from(words, j, text, after_title=False) if j < len(words) and not common else []
            if j > i + 1:  # after a company's noun, as in _headed: no verb (قالت شركة توتال ستواصل)
                name = [k for k in name if not (k > j and _VERB_PREFIX.match(_light(words[k].group())))]
        elif bare in MEETING and i + 1 < len(words):
            name = _name_from(words, i + 1, text, after_title=False)
        elif bare in SUBJECT and i + 1 < len(words) and _nisba(words[i + 1].group()) and not _in(words[i + 1], known):
            name = _name_from(words, i + 1, text, after_title=False)[:1]
        elif _is(words[i].group(), ORG_HEADS | PLACE_HEADS):
            name = _headed(words, i, text, known)
            headed.update(name[:1])
        elif _foreign(words[i].group()):
            name = [i]
        elif words[i].end() in ends and i + 1 < len(words) and not _in(words[i + 1], known) and _as_noun(words, i):
            name = _name_from(words, i + 1, text, after_title=True)
        if name:
            found.append(name)
            i = name[-1] + 1
        else:
            i += 1
    taken = {k for name in found for k in name}
    found += [[k] for k in range(len(words)) if k not in taken and _acronym(words, k, text, known)]
    out = []
    for name in sorted(found):
        # a name ends where a gazetteer name begins (أرامكو السعودية: السعودية is Saudi Arabia)
        name = name[
            : next(
                (k for k, w in enumerate(name) if any(s < words[w].end() and words[w].start() < e for s, e in known)), len(name)
            )
        ]
        if not name:
            continue
        start, end = words[name[0]].start(), words[name[-1]].end()
        out.append(Candidate(start, end, text[start:end], tuple(words[k].group() for k in name), name[0] in headed))
    return out
