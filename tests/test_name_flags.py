"""The name flags on small sentence pairs written for these tests: each case fires where the
English loses or invents a name and stays silent on a faithful translation. The causes are
general (a function word taken for a name, a first name changed, a title's long complement,
names of clubs), not the outputs they were found on."""

from khulasa_server.pipeline import names
from khulasa_server.text.normalize import normalize


def flags(arabic: str, english: str) -> list[str]:
    source = normalize(arabic)
    return names.check(names.find(source), english)


def test_a_function_word_does_not_stand_for_a_name_of_one_consonant():
    # "The" has the consonants of الحوثي (T): it kept the Houthis whatever the English said
    source = "قال المتحدث باسم جماعة الحوثي إن السفينة أصيبت."
    assert "missing_name:Houthis" in flags(source, "The spokesman of the Nusra Front said the ship was hit.")
    assert "missing_name:Houthis" not in flags(source, "The Houthi spokesman said the ship was hit.")
