"""Consents, blocks and break-glass over time, through the pages, with their journal."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM, Actor
from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain
from relais.consent import services as consent_services
from relais.consent.access import Professional
from relais.consent.models import Block, BreakGlassGrant, Consent, ConsentMethod
from relais.consent.services import break_glass_open, consent_expiry, consent_grant
from relais.notifications import sms
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory
from relais.persons.models import Note, Person, PersonStatus
from relais.persons.services import record_on_file
from relais.persons.validators import mobile_number
from relais.www.persons import consent_views
from relais.www.persons.consent_views import BREAK_GLASS_IMPOSSIBLE
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import (
    BlockFactory,
    BreakGlassGrantFactory,
    ConsentFactory,
    PersonFactory,
    ReferentFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
REASON = "La personne est à l'hôpital, son bail doit être renouvelé avant demain."
CODE_IN_SMS = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def home():
    return OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Calais")


@pytest.fixture
def referent(home):
    return MembershipFactory(organisation=home, profession=Profession.ASS)


@pytest.fixture
def person(home, referent):
    person = PersonFactory(
        first_names="Léa", birth_name="Dupré", birth_date=datetime.date(1990, 4, 12)
    )
    ConsentFactory(person=person, organisation=home)
    ReferentFactory(person=person, organisation=home, professional=referent.user)
    return person


@pytest.fixture
def referent_client(referent):
    return log_in(Client(), referent.user, referent)


@pytest.fixture
def elsewhere():
    """Another CCAS, with a professional and a manager; no consent from the person."""
    organisation = OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Boulogne")
    professional = MembershipFactory(organisation=organisation, profession=Profession.ASS)
    manager = MembershipFactory(organisation=organisation, manager=True)
    return organisation, professional, manager


def _file(client, person):
    return client.get(reverse("persons:file", args=[person.pk]))


def _actions(person) -> list[str]:
    return list(
        AuditEvent.objects.for_person(person.pk).order_by("seq").values_list("action", flat=True)
    )


# Revoking and blocking.


def test_it_removes_access_at_the_next_request_when_a_consent_is_revoked(
    referent_client, referent, person, home
):
    consent = Consent.objects.get(person=person, organisation=home)
    assert _file(referent_client, person).status_code == 200

    response = referent_client.post(
        reverse("persons:consent_revoke", args=[person.pk, consent.pk]), {"confirme": "oui"}
    )

    assert response.status_code == 302
    assert _file(referent_client, person).status_code == 404
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert consent.revoked_by_label == referent.user.get_full_name()
    revoked = AuditEvent.objects.get(action=AuditAction.CONSENT_REVOKED)
    assert revoked.person_id == person.pk
    assert revoked.object_id == str(consent.pk)


def test_it_refuses_to_revoke_a_consent_twice(referent_client, person, home):
    other = OrganisationFactory(name="CAF du Pas-de-Calais", kind=OrganisationKind.CAF)
    consent = ConsentFactory(person=person, organisation=other, revoked=True)

    response = referent_client.post(
        reverse("persons:consent_revoke", args=[person.pk, consent.pk]), follow=True
    )

    assert "Ce consentement est déjà retiré." in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.CONSENT_REVOKED).exists()


def test_a_withdrawal_sent_twice_at_once_is_recorded_once(person, home):
    consent = Consent.objects.get(person=person, organisation=home)
    stale = Consent.objects.get(pk=consent.pk)
    consent_services.consent_revoke(consent=consent, by=SYSTEM)

    with pytest.raises(ValidationError, match="déjà retiré"):
        consent_services.consent_revoke(consent=stale, by=SYSTEM)

    assert AuditEvent.objects.filter(action=AuditAction.CONSENT_REVOKED).count() == 1


def test_it_blocks_one_organisation_and_leaves_the_other_open(referent_client, person, home):
    caf = OrganisationFactory(kind=OrganisationKind.CAF, name="CAF du Pas-de-Calais")
    ConsentFactory(person=person, organisation=caf)
    caf_member = MembershipFactory(organisation=caf)
    caf_client = log_in(Client(), caf_member.user, caf_member)
    assert _file(caf_client, person).status_code == 200

    response = referent_client.post(
        reverse("persons:blocks", args=[person.pk]), {"organisation": caf.pk}
    )

    assert response.status_code == 302
    assert _file(caf_client, person).status_code == 404
    assert _file(referent_client, person).status_code == 200
    block = Block.objects.get(person=person)
    assert block.organisation_id == caf.pk
    event = AuditEvent.objects.get(action=AuditAction.BLOCK_ADDED)
    assert (event.person_id, event.object_type, event.object_id) == (
        person.pk,
        "structure",
        str(caf.pk),
    )


def test_it_opens_the_file_again_when_the_block_is_lifted(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    ConsentFactory(person=person, organisation=caf)
    caf_member = MembershipFactory(organisation=caf)
    caf_client = log_in(Client(), caf_member.user, caf_member)
    referent_client.post(reverse("persons:blocks", args=[person.pk]), {"organisation": caf.pk})
    block = Block.objects.get(person=person)

    referent_client.post(reverse("persons:blocks", args=[person.pk]), {"lever": block.pk})

    assert _file(caf_client, person).status_code == 200
    block.refresh_from_db()
    assert block.lifted_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.BLOCK_LIFTED).count() == 1


def test_a_colleague_lifts_a_block_against_a_professional_only_with_the_persons_code(
    referent_client, person, home
):
    blocked = MembershipFactory(organisation=home)
    block = BlockFactory(person=person, organisation=None, professional=blocked.user)
    url = reverse("persons:blocks", args=[person.pk])

    page = referent_client.get(reverse("persons:consents", args=[person.pk]))
    refused = referent_client.post(url, {"lever": block.pk}, follow=True)
    _send_code(referent_client, person)
    wrong = referent_client.post(url, {"lever": block.pk, "code": "000000"}, follow=True)
    block.refresh_from_db()
    assert block.lifted_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.BLOCK_LIFTED).exists()
    code = CODE_IN_SMS.search(sms.outbox[-1].body).group(1)
    referent_client.post(url, {"lever": block.pk, "code": code})

    assert f'id="code-blocage-{block.pk}"' in page.content.decode()
    assert "la personne le lève depuis son espace" in html.unescape(refused.content.decode())
    assert consent_views.CODE_REFUSED in html.unescape(wrong.content.decode())
    block.refresh_from_db()
    assert block.lifted_at is not None
    lifted = AuditEvent.objects.get(action=AuditAction.BLOCK_LIFTED)
    assert lifted.details["par_code"] is True


def test_another_organisation_lifts_a_block_against_a_professional_with_the_person_present(
    referent_client, person
):
    other = MembershipFactory(organisation=OrganisationFactory(kind=OrganisationKind.CAF))
    block = BlockFactory(person=person, organisation=None, professional=other.user)

    referent_client.post(reverse("persons:blocks", args=[person.pk]), {"lever": block.pk})

    block.refresh_from_db()
    assert block.lifted_at is not None


def test_a_block_lifted_twice_is_lifted_once(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    block = BlockFactory(person=person, organisation=caf, professional=None)
    stale = Block.objects.get(pk=block.pk)
    consent_services.block_lift(block=block, by=SYSTEM)

    with pytest.raises(ValidationError, match="déjà levé"):
        consent_services.block_lift(block=stale, by=SYSTEM)

    assert AuditEvent.objects.filter(action=AuditAction.BLOCK_LIFTED).count() == 1


def test_it_refuses_a_block_without_an_organisation(referent_client, person):
    response = referent_client.post(
        reverse("persons:blocks", args=[person.pk]), {"organisation": "abc"}, follow=True
    )

    assert "Choisissez la structure à bloquer." in response.content.decode()
    assert not Block.objects.exists()


# Break-glass.


def _break_glass(client, **overrides):
    data = {
        "birth_name": "DUPRE",
        "first_names": "lea",
        "birth_date": "1990-04-12",
        "reason": REASON,
    } | overrides
    return client.post(reverse("persons:break_glass"), data)


def test_it_opens_a_file_read_only_for_four_hours_by_break_glass(
    person, elsewhere, django_capture_on_commit_callbacks
):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)
    assert _file(client, person).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        response = _break_glass(client)

    assert response.status_code == 302
    assert response.url == reverse("persons:file", args=[person.pk])
    grant = BreakGlassGrant.objects.get()
    assert (grant.person_id, grant.professional_id) == (person.pk, professional.user_id)
    assert grant.expires_at - grant.opened_at == datetime.timedelta(hours=4)
    assert grant.reason == REASON
    page = _file(client, person)
    assert page.status_code == 200
    assert "Accès exceptionnel, en lecture seule" in page.content.decode()
    assert client.get(reverse("persons:section", args=[person.pk, "famille"])).status_code == 200
    for category in ("identite", "logement", "emploi", "couverture_sociale"):
        edit = client.get(reverse("persons:section_edit", args=[person.pk, category]))
        assert edit.status_code == 404
    assert (
        client.post(
            reverse("persons:note_add", args=[person.pk]),
            {"text": "Une note pendant l'accès exceptionnel.", "visibility": "partagee"},
        ).status_code
        == 404
    )
    assert not Note.objects.exists()
    assert client.get(reverse("persons:consents", args=[person.pk])).status_code == 404
    opened = AuditEvent.objects.get(action=AuditAction.BREAK_GLASS_OPENED)
    assert (opened.person_id, opened.reason) == (person.pk, REASON)


def test_it_tells_the_manager_by_mail_without_the_persons_name(
    person, elsewhere, mailoutbox, django_capture_on_commit_callbacks
):
    _, professional, manager = elsewhere
    client = log_in(Client(), professional.user, professional)

    with django_capture_on_commit_callbacks(execute=True):
        _break_glass(client)

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [manager.user.email]
    text = (mail.subject + mail.body).casefold()
    for secret in ("dupré", "dupre", "léa", REASON.casefold(), f"n° {person.pk}"):
        assert secret not in text
    assert "accès exceptionnel" in text


def test_it_opens_the_file_even_when_the_mail_to_the_manager_cannot_leave(
    person, elsewhere, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)

    def server_down(*args, **kwargs):
        raise ConnectionRefusedError("connexion refusée par smtp.example.org")

    monkeypatch.setattr(consent_services, "send_mail", server_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = _break_glass(client)

    assert response.status_code == 302
    assert BreakGlassGrant.objects.filter(person=person).exists()
    assert _file(client, person).status_code == 200
    assert "ConnectionRefusedError" in caplog.text
    assert "smtp.example.org" not in caplog.text


def test_break_glass_to_a_file_the_persons_accord_opens_opens_it_without_any_alarm(
    referent_client, person, django_capture_on_commit_callbacks
):
    """The person's accord to the organisation opens the file: no exceptional access, no
    SMS telling the person their file was opened without it, nothing for the managers."""
    person.phone = "0612345678"
    person.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = _break_glass(referent_client)

    assert response.status_code == 302
    assert response.url == reverse("persons:file", args=[person.pk])
    assert not BreakGlassGrant.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.BREAK_GLASS_OPENED, AuditAction.BREAK_GLASS_REFUSED]
    ).exists()
    assert sms.outbox == []
    page = html.unescape(referent_client.get(response.url).content.decode())
    assert "La personne a donné son accord à votre structure" in page
    assert "Accès exceptionnel, en lecture seule" not in page


def test_it_refuses_a_break_glass_reason_shorter_than_twenty_characters(person, elsewhere):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)

    response = _break_glass(client, reason="Urgence sociale")

    assert response.status_code == 400
    assert "au moins 20 caractères" in response.content.decode()
    assert not BreakGlassGrant.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS_OPENED).exists()
    assert _file(client, person).status_code == 404


def test_it_refuses_a_reason_padded_with_spaces_in_the_service(person, elsewhere):
    organisation, professional, _ = elsewhere
    pro = Professional(
        user_id=professional.user_id,
        label="Pro",
        organisation_id=organisation.pk,
        organisation_label=organisation.name,
        organisation_kind=organisation.kind,
        profession=professional.profession,
        profession_label="Assistant(e) de service social",
    )

    with pytest.raises(ValidationError) as refused:
        break_glass_open(person=person, pro=pro, reason="   Urgence     ", by=SYSTEM)

    assert "20 caractères au moins" in str(refused.value)
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize(
    ("birth_date", "said"),
    [
        ("2990-04-12", "La date de naissance ne peut pas être dans le futur."),
        ("1890-04-12", "Vérifiez l'année de naissance : elle doit être postérieure à 1900."),
    ],
)
def test_it_refuses_a_birth_date_no_one_has_without_searching_nor_journaling(
    person, elsewhere, birth_date, said
):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)

    response = _break_glass(client, birth_date=birth_date)

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert said in page
    assert BREAK_GLASS_IMPOSSIBLE not in page
    assert not AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS_REFUSED).exists()


def test_it_says_how_long_the_reason_is_and_who_reads_it(person, elsewhere):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)

    response = _break_glass(client, reason="Urgence")

    assert (
        "Écrivez un motif d'au moins 20 caractères (il en a 7) : la personne et votre "
        "responsable le liront."
    ) in html.unescape(response.content.decode())


def test_it_refuses_break_glass_without_the_exact_identity(person, elsewhere):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)

    response = _break_glass(client, birth_date="1990-04-13")

    assert escape(BREAK_GLASS_IMPOSSIBLE) in response.content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_a_break_glass_choice_is_refused_once_the_file_was_archived_since_it_was_read(
    referent_client, person, monkeypatch
):
    """The page reads the file while it is active; a merge or the retention task archives
    it before the choice is saved: the choice would stay on a file nobody opens."""
    read = consent_views._agreements_access

    def read_then_archived(request, person_id):
        access = read(request, person_id)
        Person.objects.filter(pk=person_id).update(status=PersonStatus.ARCHIVED)
        return access

    monkeypatch.setattr(consent_views, "_agreements_access", read_then_archived)
    before = AuditEvent.objects.count()

    response = referent_client.post(
        reverse("persons:break_glass_preference", args=[person.pk]), {"refuse": "oui"}, follow=True
    )

    assert "Ce dossier n'est plus actif" in html.unescape(response.content.decode())
    person.refresh_from_db()
    assert person.refuses_break_glass is False
    assert not AuditEvent.objects.filter(
        seq__gt=before, action=AuditAction.BREAK_GLASS_PREFERENCE
    ).exists()


def test_it_refuses_break_glass_to_a_person_who_refuses_it(referent_client, person, elsewhere):
    referent_client.post(
        reverse("persons:break_glass_preference", args=[person.pk]), {"refuse": "oui"}
    )
    person.refresh_from_db()
    assert person.refuses_break_glass is True
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)

    response = _break_glass(client)

    assert response.status_code == 400
    # The same words as for an unknown identity: the form tells nothing of who has a file.
    assert escape(BREAK_GLASS_IMPOSSIBLE) in response.content.decode()
    assert not BreakGlassGrant.objects.exists()
    assert _file(client, person).status_code == 404
    refused = AuditEvent.objects.get(action=AuditAction.BREAK_GLASS_REFUSED)
    assert (refused.person_id, refused.actor_id) == (person.pk, professional.user_id)


def test_it_refuses_break_glass_to_a_blocked_organisation(person, elsewhere):
    organisation, professional, _ = elsewhere
    Block.objects.create(person=person, organisation=organisation, created_by_label="La personne")
    client = log_in(Client(), professional.user, professional)

    response = _break_glass(client)

    assert response.status_code == 400
    assert not BreakGlassGrant.objects.exists()


def _journal_rows(client) -> list[str]:
    """The manager's journal, each row's cells as text."""
    page = html.unescape(client.get(reverse("journal:list")).content.decode())
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr><td>.*?</tr>", page, re.S)]


def test_a_refused_break_glass_reads_in_the_managers_journal_as_an_unknown_identity(
    person, elsewhere
):
    """The form answers the same words whether the person blocked the organisation or has
    no file: the organisation's journal must not tell its manager more."""
    organisation, professional, manager = elsewhere
    Block.objects.create(person=person, organisation=organisation, created_by_label="La personne")
    client = log_in(Client(), professional.user, professional)
    manager_client = log_in(Client(), manager.user, manager)

    assert _break_glass(client, birth_name="INCONNU", first_names="personne").status_code == 400
    assert _break_glass(client).status_code == 400

    refusals = AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS_REFUSED)
    unknown, refused = refusals.order_by("seq")
    assert (unknown.person_id, refused.person_id) == (None, person.pk)
    assert unknown.person_label == refused.person_label == ""
    rows = [row for row in _journal_rows(manager_client) if "refusé" in row]
    assert len(rows) == 2
    assert re.sub(r"\d", "", rows[0]) == re.sub(r"\d", "", rows[1])
    assert not any("DUPRÉ" in row or f"n° {person.pk})" in row for row in rows)


def test_it_asks_the_second_factor_again_before_break_glass(person, elsewhere):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)
    session = client.session
    session["relais_second_factor_at"] = 0
    session.save()

    response = _break_glass(client)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:second_factor"))
    assert not BreakGlassGrant.objects.exists()


def test_it_closes_the_file_when_the_grant_has_expired(person, elsewhere):
    organisation, professional, _ = elsewhere
    grant = BreakGlassGrantFactory(
        person=person, professional=professional.user, organisation=organisation
    )
    client = log_in(Client(), professional.user, professional)
    assert _file(client, person).status_code == 200

    grant.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    grant.save(update_fields=["expires_at"])

    assert _file(client, person).status_code == 404
    search = client.post(reverse("persons:list"), {"q": "dupre"}, follow=True)
    assert "DUPRÉ Léa" not in search.content.decode()


def test_it_shows_the_break_glass_and_its_reason_in_the_access_history(
    referent_client, person, elsewhere
):
    _, professional, _ = elsewhere
    client = log_in(Client(), professional.user, professional)
    _break_glass(client)
    _file(client, person)

    history = referent_client.get(reverse("persons:history", args=[person.pk]))

    content = history.content.decode()
    assert history.status_code == 200
    assert "Accès exceptionnel" in content
    assert REASON.replace("'", "&#x27;") in content
    assert "CCAS de Boulogne" in content
    viewed = AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, actor_id=professional.user_id
    ).get()
    assert viewed.reason == REASON
    assert viewed.details["exceptionnel"] is True


def test_the_printed_history_marks_only_emergencies_reasons_as_exceptional_access(
    referent_client, referent, person, elsewhere
):
    """A reason given at the office (a changed phone, a closed space) is no emergency: the
    paper handed to the person must not say their file was opened in one."""
    _, professional, _ = elsewhere
    _break_glass(log_in(Client(), professional.user, professional))
    office = "Nouveau téléphone, carte d'identité vérifiée."
    at_the_office = Actor(
        user_id=referent.user_id,
        label=referent.user.get_full_name(),
        organisation_id=referent.organisation_id,
        organisation_label=referent.organisation.name,
    )
    record_on_file(
        AuditAction.PERSON_ACCOUNT_UPDATED, person=person, by=at_the_office, reason=office
    )

    page = html.unescape(
        referent_client.get(
            reverse("persons:history", args=[person.pk]), {"impression": "1"}
        ).content.decode()
    )

    assert re.findall(r'<th scope="col">([^<]*)</th>', page)[-1] == "Motif"
    assert f"Accès exceptionnel : {REASON}" in page
    assert f'<td><span class="relais-free-text">{office}</span></td>' in page


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("persons:consent_revoke", ["consent"], {}),
        ("persons:blocks", [], {"organisation": "home_organisation"}),
        ("persons:break_glass_preference", [], {"refuse": "oui"}),
        ("persons:consent_code", [], {}),
    ],
)
def test_it_keeps_break_glass_read_only_for_consents_and_blocks(
    person, home, elsewhere, name, args, data
):
    organisation, professional, _ = elsewhere
    BreakGlassGrantFactory(person=person, professional=professional.user, organisation=organisation)
    consent = Consent.objects.get(person=person, organisation=home)
    client = log_in(Client(), professional.user, professional)
    # Placeholders in the parameters, replaced by the ids of this test's objects.
    values = {"consent": consent.pk, "home_organisation": home.pk}
    before = _actions(person)

    response = client.post(
        reverse(name, args=[person.pk, *(values[a] for a in args)]),
        {key: values.get(value, value) for key, value in data.items()},
    )

    assert response.status_code == 404
    consent.refresh_from_db()
    person.refresh_from_db()
    assert consent.revoked_at is None
    assert not Block.objects.exists()
    assert person.refuses_break_glass is False
    assert sms.outbox == []
    assert _actions(person) == before


# Consent confirmed by a code sent by SMS.


def _send_code(client, person):
    return client.post(reverse("persons:consent_code", args=[person.pk]))


def _grant(client, person, organisation, **overrides):
    data = {
        "organisation": organisation.pk,
        "categories": ["identite", "famille"],
        "purpose": "Demande de logement social",
        "duration": "1m",
        "method": "code",
    } | overrides
    return client.post(reverse("persons:consents", args=[person.pk]), data)


def _offered(response) -> set[int]:
    return {pk for pk, _ in response.context["organisations"]}


def test_it_offers_its_own_organisation_and_those_that_follow_the_person_not_the_others(
    referent_client, person, home
):
    following = OrganisationFactory(kind=OrganisationKind.CAF, name="CAF du Pas-de-Calais")
    ConsentFactory(person=person, organisation=following)
    others = OrganisationFactory.create_batch(25)

    page = referent_client.get(reverse("persons:consents", args=[person.pk]))

    assert page.status_code == 200
    assert _offered(page) == {home.pk, following.pk}
    content = page.content.decode()
    assert not any(other.name in content for other in others)


def test_it_finds_another_organisation_by_name_or_town_then_records_the_consent(
    referent_client, person
):
    lens = OrganisationFactory(name="Mission locale", commune_code="62498", commune_name="Lens")
    consents = reverse("persons:consents", args=[person.pk])

    by_address = referent_client.get(consents, {"q": "lens"})
    by_town = referent_client.post(consents, {"q": "lens"})
    by_name = referent_client.post(consents, {"q": "mission"})
    nowhere = referent_client.post(consents, {"q": "Valenciennes"})
    too_short = referent_client.post(consents, {"q": "L"})

    # The search is a POST: the structure looked for stays out of the browser's history.
    assert lens.pk not in _offered(by_address)
    assert (by_town.status_code, too_short.status_code) == (200, 400)
    assert not Consent.objects.filter(organisation=lens).exists()
    assert lens.pk in _offered(by_town) and lens.pk in _offered(by_name)
    assert "1 structure trouvée pour « lens »" in html.unescape(by_town.content.decode())
    assert lens.pk not in _offered(nowhere)
    assert "Aucune structure trouvée pour « Valenciennes »" in html.unescape(
        nowhere.content.decode()
    )
    response = _grant(referent_client, person, lens, method="signe")
    assert response.status_code == 302
    assert Consent.objects.filter(person=person, organisation=lens).exists()


def test_it_sends_a_code_by_sms_without_the_persons_name(referent_client, person):
    response = _send_code(referent_client, person)

    assert response.status_code == 302
    assert len(sms.outbox) == 1
    message = sms.outbox[0]
    assert message.to == mobile_number(person.phone)
    assert message.to.startswith("+33")
    body = message.body.casefold()
    for secret in ("dupré", "dupre", "léa", "lea "):
        assert secret not in body
    assert CODE_IN_SMS.search(message.body)
    sent = AuditEvent.objects.get(action=AuditAction.CONSENT_CODE_SENT)
    assert sent.person_id == person.pk


def test_it_refuses_to_send_a_code_to_a_landline(referent_client, person):
    person.phone = "03 21 00 00 00"
    person.save(update_fields=["phone"])

    response = _send_code(referent_client, person)

    assert sms.outbox == []
    follow = referent_client.get(response.url)
    assert "n'est pas celui d'un portable" in html.unescape(follow.content.decode())


def test_it_refuses_to_send_a_code_without_a_phone_number(referent_client, person):
    person.phone = ""
    person.save(update_fields=["phone"])

    response = _send_code(referent_client, person)

    assert response.status_code == 302
    assert sms.outbox == []
    follow = referent_client.get(response.url)
    assert "Aucun numéro de téléphone" in follow.content.decode()


def test_it_says_when_the_sms_provider_fails_and_keeps_no_code(referent_client, person, settings):
    settings.RELAIS_SMS_BACKEND = "relais.notifications.sms.BrevoBackend"
    settings.RELAIS_SMS_API_KEY = ""

    response = _send_code(referent_client, person)

    assert response.status_code == 302
    follow = referent_client.get(response.url)
    assert "Le SMS n'a pas pu partir" in html.unescape(follow.content.decode())
    assert consent_services.CODE_SESSION_KEY not in referent_client.session
    assert AuditAction.CONSENT_CODE_SENT not in _actions(person)


def test_it_records_a_consent_confirmed_with_the_right_code(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF, name="CAF du Pas-de-Calais")
    _send_code(referent_client, person)
    code = CODE_IN_SMS.search(sms.outbox[0].body).group(1)

    response = _grant(referent_client, person, caf, code=code)

    assert response.status_code == 302
    consent = Consent.objects.get(person=person, organisation=caf)
    assert consent.method == ConsentMethod.CODE
    assert consent.categories == ["identite", "famille"]
    granted = AuditEvent.objects.get(action=AuditAction.CONSENT_GRANTED)
    assert (granted.person_id, granted.object_id) == (person.pk, str(consent.pk))
    assert granted.details["recueil"] == "code"


def test_it_refuses_a_wrong_code_and_writes_nothing(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    _send_code(referent_client, person)
    code = CODE_IN_SMS.search(sms.outbox[0].body).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    response = _grant(referent_client, person, caf, code=wrong)

    assert response.status_code == 400
    assert "Ce code ne correspond pas ou a expiré" in response.content.decode()
    assert not Consent.objects.filter(organisation=caf).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CONSENT_GRANTED).exists()


def test_it_refuses_a_code_typed_for_an_accord_said_signed_and_writes_nothing(
    referent_client, person
):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    _send_code(referent_client, person)
    code = CODE_IN_SMS.search(sms.outbox[0].body).group(1)

    response = _grant(referent_client, person, caf, method="signe", code=code)

    assert response.status_code == 400
    assert "Un code est saisi mais l'accord est indiqué « signé sur place »" in html.unescape(
        response.content.decode()
    )
    assert not Consent.objects.filter(organisation=caf).exists()
    assert _grant(referent_client, person, caf, code=code).status_code == 302


def test_it_refuses_a_code_consent_when_no_code_was_sent(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)

    response = _grant(referent_client, person, caf, code="123456")

    assert "Ce code ne correspond pas ou a expiré" in response.content.decode()
    assert not Consent.objects.filter(organisation=caf).exists()


def test_it_uses_a_code_only_once(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    _send_code(referent_client, person)
    code = CODE_IN_SMS.search(sms.outbox[0].body).group(1)
    _grant(referent_client, person, caf, code=code)

    again = _grant(referent_client, person, caf, code=code, duration="1j")

    assert again.status_code == 400
    assert Consent.objects.filter(organisation=caf).count() == 1


def test_it_records_a_signed_consent_for_another_organisation(referent_client, person):
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    caf_member = MembershipFactory(organisation=caf)
    caf_client = log_in(Client(), caf_member.user, caf_member)
    assert _file(caf_client, person).status_code == 404

    _grant(referent_client, person, caf, method="signe")

    assert _file(caf_client, person).status_code == 200
    assert (
        caf_client.get(reverse("persons:section", args=[person.pk, "ressources"])).status_code
        == 404
    )


# The attestation.


def test_it_shows_the_categories_and_dates_on_the_attestation(referent_client, person, home):
    consent = ConsentFactory(
        person=person,
        organisation=home,
        categories=["famille", "ressources", "logement"],
        purpose="Demande de logement social",
        starts_at=datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS),
        expires_at=datetime.datetime(2027, 3, 2, 10, 0, tzinfo=PARIS),
    )

    page = referent_client.get(reverse("persons:consent_attestation", args=[person.pk, consent.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Famille et foyer, Ressources, Logement" in content
    assert "du 2 mars 2026 au 2 mars 2027" in content
    assert "Demande de logement social" in content
    assert "CCAS de Calais" in content
    assert "Léa DUPRÉ" in content
    assert f"Attestation n° {consent.pk}" in content
    assert "Fait à" in content and ", le 2 mars 2026." in content
    assert "Signature du professionnel" in content


def test_the_attestation_of_an_accord_given_by_code_asks_for_no_signature(
    referent_client, person, home
):
    consent = ConsentFactory(
        person=person,
        organisation=home,
        method=ConsentMethod.CODE,
        starts_at=datetime.datetime(2026, 3, 2, 10, 5, tzinfo=PARIS),
    )

    page = referent_client.get(reverse("persons:consent_attestation", args=[person.pk, consent.pk]))

    content = html.unescape(page.content.decode())
    assert "Je, <strong>Léa DUPRÉ</strong>" in content
    assert "soussigné" not in content
    assert (
        "Accord donné le 2 mars 2026 à 10:05 avec le code reçu par SMS sur mon téléphone : "
        "cet accord n'a pas à être signé."
    ) in content
    assert "Signature" not in content and "Fait à" not in content


def test_it_does_not_show_an_attestation_of_another_persons_consent(referent_client, person):
    stranger_consent = ConsentFactory()

    page = referent_client.get(
        reverse("persons:consent_attestation", args=[person.pk, stranger_consent.pk])
    )

    assert page.status_code == 404


# The journal.


def test_it_journals_every_change_and_keeps_the_chain_intact(
    referent_client, person, home, elsewhere, django_capture_on_commit_callbacks, capsys
):
    _, professional, _ = elsewhere
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    _grant(referent_client, person, caf, method="signe")
    consent = Consent.objects.get(organisation=caf)
    referent_client.post(reverse("persons:consent_revoke", args=[person.pk, consent.pk]))
    referent_client.post(reverse("persons:blocks", args=[person.pk]), {"organisation": caf.pk})
    outsider = log_in(Client(), professional.user, professional)
    with django_capture_on_commit_callbacks(execute=True):
        _break_glass(outsider)

    actions = [a for a in _actions(person) if a != AuditAction.SECTION_VIEWED]

    assert actions == [
        AuditAction.CONSENT_GRANTED,
        AuditAction.CONSENT_REVOKED,
        AuditAction.BLOCK_ADDED,
        AuditAction.BREAK_GLASS_OPENED,
    ]
    assert verify_chain().intact
    call_command("verify_audit")
    assert "Journal intact" in capsys.readouterr().out


def test_it_adds_identity_to_every_consent(person):
    organisation = OrganisationFactory()
    consent = consent_grant(
        person=person,
        organisation_id=organisation.pk,
        professional_id=None,
        categories=[DataCategory.RESOURCES],
        purpose="Aide aux démarches",
        duration="1m",
        method="signe",
        recorded_by_id=None,
        by=SYSTEM,
    )

    assert consent.categories == [DataCategory.IDENTITY, DataCategory.RESOURCES]


def test_it_closes_a_live_break_glass_once_the_person_refuses_it(person, elsewhere):
    _, professional, _ = elsewhere
    BreakGlassGrantFactory(
        person=person, professional=professional.user, organisation=professional.organisation
    )
    client = log_in(Client(), professional.user, professional)
    assert _file(client, person).status_code == 200

    person.refuses_break_glass = True
    person.save()

    assert _file(client, person).status_code == 404


def test_it_keeps_a_break_glass_to_the_organisation_it_was_opened_for(person, elsewhere):
    _, professional, _ = elsewhere
    BreakGlassGrantFactory(
        person=person, professional=professional.user, organisation=professional.organisation
    )
    second = MembershipFactory(user=professional.user, profession=Profession.ASS)

    assert _file(log_in(Client(), professional.user, second), person).status_code == 404


def test_it_lets_only_who_may_write_the_identity_change_the_agreements(person, home):
    """A reception agent reads the identity but may not write it: they may neither widen
    access (record an agreement, lift a block, stop the refusal of break-glass) nor
    change the agreements otherwise; the page offers them none of it."""
    reception = MembershipFactory(organisation=home, profession=Profession.RECEPTION_AGENT)
    client = log_in(Client(), reception.user, reception)
    caf = OrganisationFactory(kind=OrganisationKind.CAF)
    consent = ConsentFactory(person=person, organisation=caf)
    block = BlockFactory(person=person, organisation=OrganisationFactory())
    person.refuses_break_glass = True
    person.save()
    journal_before = AuditEvent.objects.count()
    page = client.get(reverse("persons:consents", args=[person.pk]))
    attempts = [
        (
            "persons:consents",
            [person.pk],
            {
                "organisation": home.pk,
                "categories": ["sante"],
                "purpose": "Accompagnement",
                "duration": "1a",
                "method": "signe",
            },
        ),
        ("persons:blocks", [person.pk], {"lever": block.pk}),
        ("persons:blocks", [person.pk], {"organisation": caf.pk}),
        ("persons:break_glass_preference", [person.pk], {"refuse": "non"}),
        ("persons:consent_revoke", [person.pk, consent.pk], {}),
        ("persons:consent_code", [person.pk], {}),
    ]

    answers = [
        client.post(reverse(name, args=args), data).status_code for name, args, data in attempts
    ]

    assert answers == [404] * len(attempts)
    shown = page.content.decode()
    assert "pas de les changer" in shown
    for button in (
        "Enregistrer l'accord",
        "Envoyer un code",
        "Retirer<",
        "Lever le blocage",
        "Bloquer cette structure",
        "La personne accepte les accès exceptionnels",
    ):
        assert button not in shown, button
    block.refresh_from_db()
    consent.refresh_from_db()
    person.refresh_from_db()
    assert block.lifted_at is None and consent.revoked_at is None and person.refuses_break_glass
    assert not Block.objects.filter(person=person, organisation=caf).exists()
    assert Consent.objects.filter(person=person).count() == 2
    # The page's own view is journaled; the refused writes are not.
    assert AuditEvent.objects.count() == journal_before + 1


@pytest.mark.parametrize("posted", ["abc", "²", "9" * 30])
def test_a_block_or_organisation_that_is_not_a_number_is_refused_plainly(
    referent_client, person, posted
):
    block = BlockFactory(person=person, organisation=OrganisationFactory())

    lift = referent_client.post(reverse("persons:blocks", args=[person.pk]), {"lever": posted})
    add = referent_client.post(
        reverse("persons:blocks", args=[person.pk]), {"organisation": posted}
    )

    assert lift.status_code == 404
    assert add.status_code == 302
    block.refresh_from_db()
    assert block.lifted_at is None
    assert Block.objects.filter(person=person).count() == 1


@pytest.mark.parametrize(
    ("granted", "duration", "until"),
    [
        # Just after midnight in France, still the day before in UTC: the months are
        # counted on the French calendar the person reads.
        (datetime.datetime(2026, 12, 1, 0, 30, tzinfo=PARIS), "1m", datetime.date(2027, 1, 1)),
        (datetime.datetime(2027, 1, 31, 0, 30, tzinfo=PARIS), "1m", datetime.date(2027, 2, 28)),
        (datetime.datetime(2027, 3, 1, 1, 15, tzinfo=PARIS), "6m", datetime.date(2027, 9, 1)),
        (datetime.datetime(2027, 3, 31, 12, 0, tzinfo=PARIS), "1a", datetime.date(2028, 3, 31)),
        (datetime.datetime(2027, 3, 28, 1, 0, tzinfo=PARIS), "1j", datetime.date(2027, 3, 29)),
    ],
)
def test_a_consent_lasts_whole_months_of_the_french_calendar(granted, duration, until):
    expires_at = consent_expiry(granted.astimezone(datetime.UTC), duration)

    assert timezone.localtime(expires_at).date() == until
