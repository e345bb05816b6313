import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.persons.normalisation import name_key, search_tokens
from relais.persons.sensitive import sensitive_terms_in

names = st.text(
    alphabet=st.characters(categories=["L", "Zs", "Pd"], include_characters="'’"), max_size=60
)


@given(names)
def test_it_gives_a_key_that_is_its_own_key(value):
    assert name_key(name_key(value)) == name_key(value)


ACCENTED = str.maketrans("aeiouc", "àéîöùç")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz -'", max_size=40))
def test_it_ignores_case_and_accents(value):
    assert name_key(value.upper()) == name_key(value) == name_key(value.translate(ACCENTED))


def test_it_matches_the_ways_one_name_is_written():
    written = ["Lefèvre-Dupré", "LEFEVRE DUPRE", "lefevre  dupré", "Lefèvre Dupre"]
    assert {name_key(value) for value in written} == {"lefevre dupre"}
    assert name_key("N'Diaye") == name_key("N’DIAYE") == "n diaye"
    assert name_key("Œuvray") == "oeuvray"


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Łukasz Wałęsa", "lukasz walesa"),
        ("Søren Østergaard", "soren ostergaard"),
        ("Đặng Văn Đức", "dang van duc"),
        ("Yıldız", "yildiz"),
        ("Þórður Guðmundsson", "thordur gudmundsson"),
        ("Ħal Tarxien", "hal tarxien"),
    ],
)
def test_it_keeps_the_letters_accents_cannot_be_taken_from(written, typed):
    """Letters with a stroke or of their own (ł, ø, đ, ı, þ…) are not an accent on a
    letter: they become the letter a French keyboard types, not nothing."""
    assert name_key(written) == name_key(written.upper()) == typed


def test_it_keeps_four_search_tokens_at_most():
    assert search_tokens("Jean-Pierre de la Fontaine") == ["jean", "pierre", "de", "la"]
    assert search_tokens("  ") == []


def test_it_finds_sensitive_terms_whatever_their_accents():
    assert sensitive_terms_in("Suivi en PSYCHIATRIE, problème de santé") == [
        "psychiatrie",
        "santé",
    ]
    assert sensitive_terms_in("Rendez-vous pour la CAF") == []
