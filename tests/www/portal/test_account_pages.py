"""The person's space from their file: opening with the person present, the carte Relais,
the invitation, restoring access at the office, closing; who may and who may not."""

import html
import re
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from relais.accounts.sessions import SECOND_FACTOR_AT
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.notifications import sms
from relais.organisations.models import Profession
from relais.persons.categories import DataCategory
from relais.portal.models import PersonAccount
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import committed, log_in_person, login_then

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory()


@pytest.fixture
def person(owner):
    person = PersonFactory(first_names="Yasmina", birth_name="Benali", phone="0612345678")
    ConsentFactory(person=person, organisation=owner.organisation)
    return person


@pytest.fixture
def owner_client(owner):
    return log_in(Client(), owner.user, owner)


# What the professional records when the person is at the office: the identity checked
# (all a first opening needs), and why a space already opened changes.
IDENTITY = {"identity_checked": "on", "identity_document": "cni"}
CHECKED = {**IDENTITY, "reason": "Téléphone perdu"}


def url(name: str, person) -> str:
    return reverse(f"person_account:{name}", args=[person.pk])


def page(response) -> str:
    return html.unescape(response.content.decode())


# A form refused shows the file's page again, with its errors: a view, journaled as such.
SHOWN_AGAIN = [AuditAction.SECTION_VIEWED]


def journal(person) -> list[str]:
    return list(
        AuditEvent.objects.filter(person_id=person.pk)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_it_shows_the_opening_form_and_journals_the_read(owner_client, person):
    response = owner_client.get(url("manage", person))

    assert response.status_code == 200
    assert "Ouvrir l'espace personnel, avec la personne" in page(response)
    assert "J'ai vérifié l'identité de la personne" in page(response)
    assert "Pièce présentée" in page(response)
    assert "Pourquoi rouvrir" not in page(response)
    assert 'value="0612345678"' in page(response)
    assert journal(person) == [AuditAction.SECTION_VIEWED]


def test_the_file_shows_the_tab_to_who_may_edit_the_identity(owner_client, person):
    response = owner_client.get(reverse("persons:file", args=[person.pk]))

    assert url("manage", person) in page(response)


def test_it_opens_the_space_and_prints_the_card_once(owner_client, owner, person, settings):
    response = owner_client.post(
        url("manage", person), {"phone": "06 12 34 56 78", "email": "", **IDENTITY}
    )

    assert response.status_code == 200
    account = PersonAccount.objects.get(person=person)
    text = page(response)
    assert account.card_identifier in text
    assert f"{settings.RELAIS_PUBLIC_URL}/mon-espace/connexion/" in text
    assert len(re.findall(r"<strong>\d{4} \d{4}</strong>", text)) == 8
    assert "Yasmina" not in text.split("<article")[1].split("</article>")[0]
    assert response["Cache-Control"] == "no-store"
    assert account.phone == "+33612345678"
    assert account.email is None
    assert journal(person) == [
        AuditAction.PERSON_ACCOUNT_OPENED,
        AuditAction.PERSON_CARD_PRINTED,
    ]
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_OPENED)
    assert event.actor_id == owner.user_id
    assert event.details["identity_document"] == "Carte nationale d'identité"
    assert "reopened" not in event.details
    after = owner_client.get(url("manage", person))
    assert account.card_identifier in page(after)
    assert not re.findall(r"<strong>\d{4} \d{4}</strong>", page(after))


def test_a_bad_phone_gets_a_french_error_and_opens_nothing(owner_client, person):
    response = owner_client.post(url("manage", person), {"phone": "01 44 55 66 77", **IDENTITY})

    assert response.status_code == 400
    assert "n'est pas un numéro de portable" in page(response)
    assert not PersonAccount.objects.exists()
    assert journal(person) == SHOWN_AGAIN


def test_a_weak_password_gets_a_french_error_and_opens_nothing(owner_client, person):
    response = owner_client.post(
        url("manage", person), {"password1": "yasmina1", "password2": "yasmina1", **IDENTITY}
    )

    assert response.status_code == 400
    assert "Votre mot de passe ressemble trop à votre nom ou à votre e-mail." in page(response)
    assert not PersonAccount.objects.exists()


def test_two_different_passwords_are_refused(owner_client, person):
    response = owner_client.post(
        url("manage", person),
        {"password1": "Soleil-62-nord", "password2": "Soleil-62-sud", **IDENTITY},
    )

    assert response.status_code == 400
    assert "ne sont pas identiques" in page(response)
    assert not PersonAccount.objects.exists()


@pytest.mark.parametrize(
    ("missing", "error"),
    [
        ("identity_checked", "Vérifiez d'abord l'identité de la personne."),
        ("identity_document", "Choisissez la pièce d'identité présentée."),
    ],
)
def test_a_first_opening_needs_the_identity_checked(owner_client, person, missing, error):
    posted = {"phone": "06 12 34 56 78", **IDENTITY}
    del posted[missing]

    response = owner_client.post(url("manage", person), posted)

    assert response.status_code == 400
    assert error in page(response)
    assert not PersonAccount.objects.exists()
    assert journal(person) == SHOWN_AGAIN


def test_a_first_opening_asks_for_a_recent_second_factor(owner_client, person):
    session = owner_client.session
    session[SECOND_FACTOR_AT] = time.time() - 3600
    session.save()

    response = owner_client.post(
        url("manage", person),
        {"phone": "06 12 34 56 78", **IDENTITY},
        HTTP_REFERER=f"http://testserver{url('manage', person)}",
    )

    assert response.status_code == 302
    assert response.url == (
        f"{reverse('accounts:second_factor')}?{urlencode({'next': url('manage', person)})}"
    )
    assert not PersonAccount.objects.exists()
    assert journal(person) == []


def test_it_updates_the_identifiers_ends_the_persons_sessions_and_tells_the_former_phone(
    owner_client, owner, person
):
    account = PersonAccountFactory(person=person, phone="+33612345678")
    persons_browser = log_in_person(Client(), account)

    with committed():
        response = owner_client.post(
            url("update", person),
            {"phone": "07 81 22 33 44", "email": "Yasmina@Exemple.test", **CHECKED},
        )

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.phone, account.email) == ("+33781223344", "yasmina@exemple.test")
    assert account.security_stamp == 1
    assert persons_browser.get(reverse("portal:home")).url == reverse("portal:login")
    [warning] = sms.outbox
    assert warning.to == "+33612345678"
    assert "changé au guichet" in warning.body
    assert "Yasmina" not in warning.body
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_UPDATED)
    assert (event.actor_id, event.reason) == (owner.user_id, "Téléphone perdu")
    assert event.details["identity_document"] == "Carte nationale d'identité"


def test_the_person_sees_the_change_of_identifiers_in_their_history(owner_client, person):
    account = PersonAccountFactory(person=person, phone="+33612345678")
    owner_client.post(url("update", person), {"phone": "07 81 22 33 44", **CHECKED})
    account.refresh_from_db()

    history = page(log_in_person(Client(), account).get(reverse("portal:history")))

    assert "A changé mon téléphone ou mon e-mail de connexion" in history
    assert "Pourquoi" in history
    assert "Téléphone perdu" in history
    assert "Urgence" not in history


@pytest.mark.parametrize(
    ("missing", "error"),
    [
        ("identity_checked", "Vérifiez d'abord l'identité de la personne."),
        ("identity_document", "Choisissez la pièce d'identité présentée."),
        ("reason", "Écrivez pourquoi les identifiants changent."),
    ],
)
def test_changing_the_identifiers_needs_the_identity_checked(owner_client, person, missing, error):
    account = PersonAccountFactory(person=person, phone="+33612345678")
    posted = {"phone": "07 81 22 33 44", **CHECKED}
    del posted[missing]

    response = owner_client.post(url("update", person), posted)

    assert response.status_code == 400
    assert error in page(response)
    account.refresh_from_db()
    assert (account.phone, account.security_stamp) == ("+33612345678", 0)
    assert AuditAction.PERSON_ACCOUNT_UPDATED not in journal(person)


def test_changing_the_identifiers_asks_for_a_recent_second_factor(owner_client, person):
    account = PersonAccountFactory(person=person, phone="+33612345678")
    session = owner_client.session
    session[SECOND_FACTOR_AT] = time.time() - 3600
    session.save()

    response = owner_client.post(url("update", person), {"phone": "0781223344", **CHECKED})

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:second_factor"))
    account.refresh_from_db()
    assert account.phone == "+33612345678"


def test_an_identifier_of_another_space_is_refused(owner_client, person):
    PersonAccountFactory(phone="+33781223344")
    account = PersonAccountFactory(person=person)

    response = owner_client.post(url("update", person), {"phone": "0781223344", **CHECKED})

    assert response.status_code == 400
    assert "déjà celui d'un autre espace" in page(response)
    account.refresh_from_db()
    assert account.phone is None


def test_it_sends_an_invitation_without_personal_data(owner_client, person):
    PersonAccountFactory(person=person, phone="+33612345678")

    response = owner_client.post(url("invite", person), follow=True)

    assert "Un SMS avec un code est parti" in page(response)
    (message,) = sms.outbox
    assert message.to == "+33612345678"
    for personal in ("Yasmina", "Benali", "612345678"):
        assert personal not in message.body


def test_the_invitation_says_how_long_its_code_works(owner_client, person, settings):
    settings.RELAIS_PORTAL_INVITATION_VALIDITY = timedelta(hours=48)
    PersonAccountFactory(person=person, phone="+33612345678")

    response = owner_client.post(url("invite", person), follow=True)

    assert "ouvrir son espace elle-même pendant 48 heures." in page(response)


def test_restoring_access_asks_for_a_recent_second_factor(owner_client, person):
    PersonAccountFactory(person=person)
    session = owner_client.session
    session[SECOND_FACTOR_AT] = time.time() - 3600
    session.save()

    response = owner_client.get(url("recover", person))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:second_factor"))


def test_restoring_access_needs_the_identity_checked(owner_client, person):
    account = PersonAccountFactory(person=person)

    response = owner_client.post(
        url("recover", person),
        {"identity_document": "cni", "reason": "Carte perdue", "new_card": "on"},
    )

    assert response.status_code == 400
    assert "Vérifiez d'abord l'identité de la personne" in page(response)
    account.refresh_from_db()
    assert account.security_stamp == 0
    assert AuditAction.PERSON_ACCOUNT_RECOVERED not in journal(person)


def test_restoring_access_prints_a_new_card_and_ends_the_persons_sessions(
    owner_client, owner, person
):
    account = PersonAccountFactory(person=person)
    persons_browser = log_in_person(Client(), account)

    response = owner_client.post(
        url("recover", person),
        {
            "identity_checked": "on",
            "identity_document": "passeport",
            "reason": "Carte perdue",
            "new_card": "on",
        },
    )

    assert response.status_code == 200
    assert len(re.findall(r"<strong>\d{4} \d{4}</strong>", page(response))) == 8
    account.refresh_from_db()
    assert account.security_stamp == 1
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_RECOVERED)
    assert (event.reason, event.actor_id) == ("Carte perdue", owner.user_id)
    assert event.details["identity_document"] == "Passeport"
    assert persons_browser.get(reverse("portal:password_choose")).url == login_then(
        reverse("portal:password_choose")
    )


def test_restoring_access_with_a_password_only(owner_client, person):
    account = PersonAccountFactory(person=person)

    response = owner_client.post(
        url("recover", person),
        {
            "identity_checked": "on",
            "identity_document": "titre_sejour",
            "reason": "Mot de passe oublié",
            "password1": "Soleil-62-nord",
            "password2": "Soleil-62-nord",
        },
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.has_password
    assert account.recovery_codes.count() == 0


def test_it_closes_the_space(owner_client, person):
    account = PersonAccountFactory(person=person, phone="+33612345678")

    response = owner_client.post(url("close", person), follow=True)

    assert "L'espace personnel est fermé" in page(response)
    assert "Vous pouvez le rouvrir" in page(response)
    account.refresh_from_db()
    assert not account.is_active
    assert account.phone is None
    assert journal(person)[-2] == AuditAction.PERSON_ACCOUNT_CLOSED


def test_closing_a_space_closed_meanwhile_says_so_in_french(owner_client, person):
    PersonAccountFactory(person=person, closed=True)

    response = owner_client.post(url("close", person), follow=True)

    assert response.status_code == 200
    assert "Cet espace personnel est déjà fermé." in page(response)
    assert AuditAction.PERSON_ACCOUNT_CLOSED not in journal(person)


def test_reopening_a_closed_space_needs_the_identity_checked(owner_client, person):
    account = PersonAccountFactory(person=person, closed=True)

    shown = owner_client.get(url("manage", person))
    response = owner_client.post(url("manage", person), {"phone": "0781223344"})

    assert "J'ai vérifié l'identité de la personne" in page(shown)
    assert response.status_code == 400
    assert "Vérifiez d'abord l'identité de la personne." in page(response)
    account.refresh_from_db()
    assert not account.is_active
    assert AuditAction.PERSON_ACCOUNT_OPENED not in journal(person)


def test_reopening_a_closed_space_asks_for_a_recent_second_factor(owner_client, person):
    account = PersonAccountFactory(person=person, closed=True)
    session = owner_client.session
    session[SECOND_FACTOR_AT] = time.time() - 3600
    session.save()

    response = owner_client.post(url("manage", person), {"phone": "0781223344", **CHECKED})

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:second_factor"))
    account.refresh_from_db()
    assert not account.is_active


def test_reopening_a_closed_space_with_the_identity_checked_prints_a_new_card(owner_client, person):
    account = PersonAccountFactory(person=person, closed=True)

    response = owner_client.post(
        url("manage", person),
        {**CHECKED, "reason": "Retour dans la structure", "phone": "0781223344"},
    )

    assert response.status_code == 200
    assert len(re.findall(r"<strong>\d{4} \d{4}</strong>", page(response))) == 8
    account.refresh_from_db()
    assert account.is_active
    assert account.phone == "+33781223344"
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_OPENED)
    assert event.reason == "Retour dans la structure"
    assert event.details["reopened"] is True


@pytest.mark.parametrize("name", ["manage", "update", "invite", "recover", "close"])
def test_an_outsider_gets_404_and_nothing_changes(outsider_client, person, name):
    PersonAccountFactory(person=person, phone="+33612345678")

    got = outsider_client.get(url(name, person))
    posted = outsider_client.post(
        url(name, person),
        {"identity_checked": "on", "identity_document": "cni", "reason": "x", "new_card": "on"},
    )

    assert posted.status_code == 404
    assert got.status_code in {404, 405}
    assert journal(person) == []
    assert sms.outbox == []
    assert PersonAccount.objects.get(person=person).is_active


def test_a_professional_who_may_only_read_the_identity_gets_404(person):
    reception = MembershipFactory(profession=Profession.RECEPTION_AGENT)
    ConsentFactory(person=person, organisation=reception.organisation)
    client = log_in(Client(), reception.user, reception)

    assert client.get(url("manage", person)).status_code == 404
    assert url("manage", person) not in page(client.get(reverse("persons:file", args=[person.pk])))


def test_a_consent_without_the_identity_gives_no_access(person):
    other = MembershipFactory()
    ConsentFactory(
        person=person, organisation=other.organisation, categories=[DataCategory.DOCUMENTS]
    )
    client = log_in(Client(), other.user, other)

    assert client.post(url("manage", person), {"phone": "0612345678"}).status_code == 404
    assert not PersonAccount.objects.exists()


def test_a_person_session_cannot_open_the_account_pages(person):
    account = PersonAccountFactory(person=person)
    client = log_in_person(Client(), account)

    response = client.get(url("manage", person))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_invitations_meet_the_sending_limit_with_a_clear_message(owner_client, person):
    PersonAccountFactory(person=person, phone="+33612345678")
    for _ in range(3):
        owner_client.post(url("invite", person))

    response = owner_client.post(url("invite", person), follow=True)

    assert "Trop de codes ont été envoyés à cette personne" in page(response)
    assert len(sms.outbox) == 3
