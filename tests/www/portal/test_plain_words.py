"""The person's space speaks in short, easy words, its refusals included: a field left empty
and a password refused get the space's own messages, in the person's language, never
Django's (« Ce champ est obligatoire. », « Ce mot de passe est trop courant. »). The
professionals' password rules and words stay as they are."""

import html
import io

import pytest
from django.test import Client
from django.urls import reverse

from relais.www.accounts.forms import SetPasswordForm
from tests.factories import UserFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

DJANGO_REQUIRED = {
    "fr": "Ce champ est obligatoire.",
    "en": "This field is required.",
    "ar": "هذا الحقل مطلوب.",
}


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def speaking(client: Client, language: str) -> Client:
    client.post(reverse("portal:language"), {"language": language})
    return client


EMPTY_FORMS = {
    "portal:login_password": (
        {"identifier": "", "password": ""},
        [
            "Tapez votre numéro de portable, votre e-mail ou le numéro de votre carte.",
            "Tapez votre mot de passe.",
        ],
    ),
    "portal:login_code": (
        {"identifier": ""},
        ["Tapez votre numéro de portable, votre e-mail ou le numéro de votre carte."],
    ),
    "portal:login_card": (
        {"card_identifier": "", "recovery_code": ""},
        ["Tapez le numéro de votre carte.", "Tapez un code de votre carte."],
    ),
    "portal:activate": (
        {"phone": "", "code": ""},
        ["Tapez votre numéro de portable.", "Tapez le code reçu par SMS."],
    ),
}


@pytest.mark.parametrize("name", list(EMPTY_FORMS))
def test_an_empty_login_form_says_what_to_type(client, name):
    posted, said = EMPTY_FORMS[name]

    page = text_of(client.post(reverse(name), posted))

    assert all(sentence in page for sentence in said), said
    assert DJANGO_REQUIRED["fr"] not in page


def test_an_empty_code_says_what_to_type(client):
    client.post(reverse("portal:login_code"), {"identifier": "06 12 34 56 78"})

    page = text_of(client.post(reverse("portal:login_code_check"), {"code": ""}))

    assert "Tapez le code reçu." in page
    assert DJANGO_REQUIRED["fr"] not in page


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            [
                "Type your mobile number, your email or the number of your card.",
                "Type your password.",
            ],
        ),
        ("ar", ["اكتب رقم هاتفك المحمول أو بريدك الإلكتروني أو رقم بطاقتك.", "اكتب كلمة السر."]),
    ],
)
def test_an_empty_login_form_says_it_in_the_persons_language(client, language, said):
    speaking(client, language)

    page = text_of(
        client.post(reverse("portal:login_password"), {"identifier": "", "password": ""})
    )

    assert all(sentence in page for sentence in said), said
    assert DJANGO_REQUIRED[language] not in page


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("fr", "Choisissez le papier dans la liste."),
        ("en", "Choose the paper in the list."),
        ("ar", "اختر الورقة من القائمة."),
    ],
)
def test_a_paper_sent_without_its_kind_says_what_to_choose(language, said):
    client = speaking(log_in_person(Client(), PersonAccountFactory()), language)
    handle = io.BytesIO(b"%PDF-1.4\n")
    handle.name = "papier.pdf"

    page = text_of(client.post(reverse("portal:document_add"), {"kind": "", "files": handle}))

    assert said in page
    assert DJANGO_REQUIRED[language] not in page


def choose_password(client: Client, password: str):
    return client.post(
        reverse("portal:password_choose"), {"password1": password, "password2": password}
    )


@pytest.mark.parametrize(
    ("language", "too_short", "too_easy"),
    [
        (
            "fr",
            "Ce mot de passe est trop court : il faut au moins 8 signes.",
            "Ce mot de passe est trop facile à deviner. Choisissez-en un autre.",
        ),
        (
            "en",
            "This password is too short: it needs at least 8 signs.",
            "This password is too easy to guess. Choose another one.",
        ),
        (
            "ar",
            "كلمة السر هذه قصيرة جدًا: يجب أن تتكون من 8 رموز على الأقل.",
            "كلمة السر هذه سهلة التخمين. اختر كلمة أخرى.",
        ),
    ],
)
def test_a_refused_password_is_said_in_plain_words(language, too_short, too_easy):
    account = PersonAccountFactory()
    client = speaking(log_in_person(Client(), account), language)

    short = text_of(choose_password(client, "Sol-62"))
    common = text_of(choose_password(client, "password"))

    assert too_short in short
    assert too_easy in common
    assert "caractères" not in short and "courant" not in common
    account.refresh_from_db()
    assert not account.has_password


def test_an_empty_new_password_says_what_to_type():
    client = log_in_person(Client(), PersonAccountFactory(with_password=True))

    page = text_of(
        client.post(
            reverse("portal:password_choose"),
            {"current_password": "", "password1": "", "password2": ""},
        )
    )

    assert "Tapez votre mot de passe actuel." in page
    assert "Tapez votre nouveau mot de passe." in page
    assert "Tapez encore une fois votre nouveau mot de passe." in page
    assert DJANGO_REQUIRED["fr"] not in page


def test_a_professionals_password_keeps_djangos_rules_and_words():
    form = SetPasswordForm(
        {"password1": "Sol-62-nord", "password2": "Sol-62-nord"}, user=UserFactory()
    )

    assert not form.is_valid()
    assert "Il doit contenir au minimum 12 caractères." in " ".join(form.errors["password1"])


@pytest.mark.parametrize(
    ("with_password", "said"),
    [(True, "Changer mon mot de passe"), (False, "Voulez-vous un mot de passe ?")],
)
def test_the_password_pages_title_says_what_its_heading_says(with_password, said):
    client = log_in_person(Client(), PersonAccountFactory(with_password=with_password))

    page = text_of(client.get(reverse("portal:password_choose")))

    assert f"<title>{said} — Relais</title>" in page
    assert f"</span> {said}</h1>" in page


TECHNICAL = "Informations techniques"


def test_the_export_page_says_in_plain_words_what_the_person_gets_and_what_to_do():
    client = log_in_person(Client(), PersonAccountFactory())

    page = text_of(client.get(reverse("portal:export")))
    main = page[page.index("<main") : page.index("</main>")]
    plain, technical = main.split(TECHNICAL)

    assert "Vous recevez un seul fichier. Dedans, il y a :" in plain
    assert "Gardez ce fichier : c'est une copie de votre dossier." in plain
    for jargon in ("ZIP", ".html", ".json", "JSON", "format"):
        assert jargon not in plain
    for name in ("ZIP", "resume.html", "relais-export.json", reverse("portal:export_schema")):
        assert name in technical


@pytest.mark.parametrize(
    ("language", "heading", "said"),
    [
        ("en", "Technical details", "You get a single file. Inside, there is:"),
        ("ar", "معلومات تقنية", "تحصل على ملف واحد. يوجد بداخله:"),
    ],
)
def test_the_export_page_speaks_the_persons_language(language, heading, said):
    client = speaking(log_in_person(Client(), PersonAccountFactory()), language)

    page = text_of(client.get(reverse("portal:export")))

    assert heading in page and said in page
    assert TECHNICAL not in page
