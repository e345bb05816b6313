"""The pages of the person's space: each shows the logged-in person's own file and nothing
of anyone else's; reads are journaled; the person grants, revokes and blocks from there,
and the professional feels it at their next request."""

import html
import io
import json
import re
import unicodedata
import zipfile
from datetime import date, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft202012Validator

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.consent.models import Block, Consent, ConsentMethod
from relais.documents import antivirus
from relais.documents.models import Document, DocumentKind
from relais.documents.services import default_expiry, document_delete
from relais.persons.categories import DataCategory
from relais.persons.models import Nationality, NoteVisibility, Person, PersonStatus
from relais.persons.services import note_add
from relais.portability.snapshot import JSON_NAME
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.procedures.checklist import FRENCH, NOT_FRENCH
from relais.procedures.models import ProcedureStatus, RequiredDocument
from relais.www.portal import views as portal_views
from tests.conftest import log_in
from tests.factories import OrganisationFactory
from tests.persons.factories import ConsentFactory, HouseholdMemberFactory, NoteFactory
from tests.portability.builders import OTHER_NIR, actor, full_file, pdf_bytes
from tests.portal.helpers import log_in_person, login_then
from tests.procedures.factories import DocumentFactory, ProcedureFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "portal:home",
    "portal:file",
    "portal:documents",
    "portal:document_add",
    "portal:procedures",
    "portal:consents",
    "portal:consent_grant",
    "portal:block",
    "portal:history",
    "portal:export",
]


@pytest.fixture
def lea():
    return full_file()


@pytest.fixture
def marc():
    return full_file(first_names="Marc", birth_name="Bernardin", nir=OTHER_NIR)


@pytest.fixture
def lea_client(lea):
    return log_in_person(Client(), lea.account)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("name", PAGES)
def test_it_sends_anonymous_visitors_to_the_persons_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url == login_then(reverse(name))


@pytest.mark.parametrize("name", PAGES)
def test_it_keeps_a_professional_session_out(member_client, name):
    response = member_client.get(reverse(name))

    assert response.status_code == 302
    assert response.url == login_then(reverse(name))


@pytest.mark.parametrize("name", PAGES)
def test_it_shows_the_persons_own_file_and_nothing_of_another(lea, marc, lea_client, name):
    response = lea_client.get(reverse(name))

    assert response.status_code == 200
    page = text_of(response)
    assert "Bernardin" not in page
    assert "Marc" not in page
    assert str(marc.account.card_identifier) not in page
    assert f"/mes-papiers/{marc.documents['cni'].pk}/" not in page
    assert 'class="fr-nav"' not in page  # no professional navigation
    assert reverse("portal:logout") in page


def test_it_shows_every_category_of_the_file_in_plain_words(lea, lea_client):
    page = text_of(lea_client.get(reverse("portal:file")))

    for expected in (
        "Qui je suis",
        "Dupré",
        "Ma famille",
        "Noé",
        "Mon argent",
        "635,71 €",
        "Mon logement",
        "Je loue un logement social (HLM)",
        "Mon travail",
        "Je cherche du travail",
        "Mon assurance maladie",
        "Complémentaire santé solidaire gratuite",
        "Ma santé",
        "Dossier MDPH à renouveler.",
        "Rendez-vous CAF pris pour le RSA.",
        "Aide au dossier de logement partagée.",
    ):
        assert expected in page, expected
    assert "Mémo personnel du référent." not in page
    assert "184066219300108" not in page  # the number is in the download, not on screen
    assert '<span lang="fr" dir="ltr">Rendez-vous CAF pris pour le RSA.</span>' in page


def test_the_professionals_french_words_are_marked_as_french_in_arabic(lea, lea_client):
    Document.objects.filter(pk=lea.documents["rib"].pk).update(title="compte joint")
    ProcedureFactory(person=lea.person, procedure_type__title="Demander la prime d'activité")
    lea_client.post(reverse("portal:language"), {"language": "ar"})

    file = text_of(lea_client.get(reverse("portal:file")))
    papers = text_of(lea_client.get(reverse("portal:documents")))
    home = text_of(lea_client.get(reverse("portal:home")))

    assert '<span lang="fr" dir="ltr">Dossier MDPH à renouveler.</span>' in file
    assert '<span lang="fr" dir="ltr">compte joint</span>' in papers
    assert '<strong lang="fr" dir="ltr">Demander la prime d\'activité</strong>' in home


def test_it_journals_each_category_read_with_the_person_as_actor(lea, lea_client):
    before = AuditEvent.objects.count()

    lea_client.get(reverse("portal:file"))

    rows = list(AuditEvent.objects.filter(seq__gt=before))
    assert {row.category for row in rows} == {
        DataCategory.IDENTITY,
        DataCategory.FAMILY,
        DataCategory.RESOURCES,
        DataCategory.HOUSING,
        DataCategory.EMPLOYMENT,
        DataCategory.SOCIAL_COVERAGE,
        DataCategory.HEALTH,
        DataCategory.NOTES,
    }
    for row in rows:
        assert row.action == AuditAction.SECTION_VIEWED
        assert row.person_id == lea.person.pk
        assert row.actor_id is None
        assert row.actor_label == PERSON_ACTOR_LABEL


@pytest.mark.parametrize(
    ("name", "categories"),
    [
        # The expired medical certificate is listed on the home page: a read of HEALTH.
        ("portal:home", {DataCategory.DOCUMENTS, DataCategory.HEALTH, DataCategory.PROCEDURES}),
        ("portal:documents", {DataCategory.DOCUMENTS, DataCategory.HEALTH}),
        ("portal:procedures", {DataCategory.PROCEDURES}),
    ],
)
def test_it_journals_the_reads_of_the_other_pages(lea, lea_client, name, categories):
    before = AuditEvent.objects.count()

    lea_client.get(reverse(name))

    rows = AuditEvent.objects.filter(seq__gt=before, action=AuditAction.SECTION_VIEWED)
    assert {row.category for row in rows} == categories
    assert {row.actor_label for row in rows} == {PERSON_ACTOR_LABEL}


def test_the_home_page_journals_no_health_read_when_it_shows_no_health_paper(lea, lea_client):
    Document.objects.filter(pk=lea.documents["certificat_medical"].pk).update(expires_on=None)
    before = AuditEvent.objects.count()

    page = text_of(lea_client.get(reverse("portal:home")))

    assert "Certificat médical" not in page
    assert not AuditEvent.objects.filter(seq__gt=before, category=DataCategory.HEALTH).exists()


def test_the_home_page_tells_what_is_new(lea, lea_client):
    page = text_of(lea_client.get(reverse("portal:home")))

    assert "Papiers à renouveler" in page
    assert "Carte d'identité" in page  # expires in 10 days
    assert "Certificat médical" in page  # expired
    # Those still to submit: « en attente » would read as waiting for the answer.
    assert "Démarches à faire" in page
    assert "Demander le RSA" in page


def test_the_home_page_shows_the_nearest_deadline_before_the_procedures_without_one(
    lea, lea_client
):
    tomorrow = timezone.localdate() + timedelta(days=1)
    ProcedureFactory.create_batch(10, person=lea.person, due_on=None)
    urgent = ProcedureFactory(person=lea.person, due_on=tomorrow)
    submitted = ProcedureFactory(person=lea.person, due_on=tomorrow, submitted=True)

    page = text_of(lea_client.get(reverse("portal:home")))

    assert urgent.procedure_type.title in page
    assert submitted.procedure_type.title not in page


def test_the_home_page_counts_two_papers_of_which_one_is_enough_once(lea, lea_client):
    Person.objects.filter(pk=lea.person.pk).update(nationality="")
    procedure = ProcedureFactory(person=lea.person, due_on=timezone.localdate())
    procedure.checklist.all().delete()
    for kind, condition in (("cni", FRENCH), ("titre_sejour", NOT_FRENCH)):
        RequiredDocument.objects.create(
            procedure=procedure, kind=kind, condition=condition, group="identite"
        )

    page = text_of(lea_client.get(reverse("portal:home")))

    missing = re.search(rf"{procedure.procedure_type.title}</strong>\s*— il manque (\d+)", page)
    assert missing is not None
    assert missing.group(1) == "1"


def test_the_home_page_leads_to_choosing_then_changing_the_password(lea, lea_client):
    choose = reverse("portal:password_choose")

    first = text_of(lea_client.get(reverse("portal:home")))
    lea.account.password = make_password("Un-mot-de-passe-assez-long-2026")
    lea.account.save(update_fields=["password"])
    then = text_of(lea_client.get(reverse("portal:home")))

    assert f'href="{choose}">Choisir un mot de passe</a>' in first
    assert f'href="{choose}">Changer mon mot de passe</a>' in then


def test_the_papers_say_their_validity_in_plain_words(lea, lea_client):
    page = text_of(lea_client.get(reverse("portal:documents")))

    assert "Plus valable" in page
    assert "Bientôt plus valable" in page
    assert "Pas de date de fin" in page
    assert 'capture="environment"' in text_of(lea_client.get(reverse("portal:document_add")))


def test_the_person_adds_a_paper_from_the_phone(lea, lea_client):
    handle = io.BytesIO(pdf_bytes())
    handle.name = "avis.pdf"

    response = lea_client.post(
        reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle}
    )

    assert response.status_code == 302
    document = Document.objects.filter(person=lea.person, kind="avis_imposition").get()
    assert document.versions.get().uploaded_by is None
    row = AuditEvent.objects.get(action=AuditAction.DOCUMENT_UPLOADED, object_id=str(document.pk))
    assert row.actor_label == PERSON_ACTOR_LABEL


def _add_paper(client, kind: str, **dates: str):
    handle = io.BytesIO(pdf_bytes())
    handle.name = "papier.pdf"
    return client.post(reverse("portal:document_add"), {"kind": kind, "files": handle, **dates})


def test_a_paper_added_without_a_date_gets_its_usual_validity_from_today(lea, lea_client):
    today = timezone.localdate()

    response = _add_paper(lea_client, "justificatif_domicile")

    assert response.status_code == 302
    document = Document.objects.filter(person=lea.person, kind="justificatif_domicile").latest("pk")
    assert document.issued_on is None
    assert document.expires_on == default_expiry("justificatif_domicile", today)
    assert document.expires_on > today


def test_the_date_written_on_the_paper_starts_its_usual_validity(lea, lea_client):
    issued = timezone.localdate() - timedelta(days=40)

    response = _add_paper(lea_client, "justificatif_domicile", issued_on=issued.isoformat())

    assert response.status_code == 302
    document = Document.objects.filter(person=lea.person, kind="justificatif_domicile").latest("pk")
    assert document.issued_on == issued
    assert document.expires_on == default_expiry("justificatif_domicile", issued)


def test_an_end_date_typed_alone_is_kept(lea, lea_client):
    response = _add_paper(lea_client, "justificatif_domicile", expires_on="2030-01-31")

    assert response.status_code == 302
    document = Document.objects.filter(person=lea.person, kind="justificatif_domicile").latest("pk")
    assert (document.issued_on, document.expires_on) == (None, date(2030, 1, 31))


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        (
            {"issued_on": "2999-01-01"},
            "This date is after today. Type the date written on the document.",
        ),
        (
            {"issued_on": "2026-03-10", "expires_on": "2026-03-09"},
            "The end date must be after the date written on the document.",
        ),
    ],
)
def test_dates_that_cannot_be_are_refused_in_the_persons_language(lea, lea_client, dates, said):
    count = Document.objects.count()
    lea_client.post(reverse("portal:language"), {"language": "en"})

    response = _add_paper(lea_client, "justificatif_domicile", **dates)

    assert response.status_code == 400
    assert said in text_of(response)
    assert Document.objects.count() == count


def test_a_refused_paper_gets_a_clear_message_and_stores_nothing(lea, lea_client):
    handle = io.BytesIO(b"<html><script>x</script>")
    handle.name = "avis.pdf"
    count = Document.objects.count()

    response = lea_client.post(
        reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle}
    )

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert Document.objects.count() == count


def test_a_refused_file_is_said_in_plain_words_in_the_persons_language(lea, lea_client):
    handle = io.BytesIO(b"GIF89a, pas une photo qu'on accepte")
    handle.name = "avis.gif"
    lea_client.post(reverse("portal:language"), {"language": "en"})

    response = lea_client.post(
        reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle}
    )

    page = text_of(response)
    assert response.status_code == 400
    assert "This file does not work. Take a photo or choose a PDF." in page
    assert "Formats acceptés" not in page


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("1899-12-31", "Check the year: it must be after 1900."),
        ("9999-01-01", "Check the year: it is too far in the future."),
        ("31/02/2030", "This date does not work. Check the day, the month and the year."),
    ],
)
def test_an_end_date_out_of_bounds_is_refused_in_the_persons_language(lea, lea_client, typed, said):
    handle = io.BytesIO(pdf_bytes())
    handle.name = "avis.pdf"
    count = Document.objects.count()
    lea_client.post(reverse("portal:language"), {"language": "en"})

    response = lea_client.post(
        reverse("portal:document_add"),
        {"kind": "avis_imposition", "files": handle, "expires_on": typed},
    )

    assert response.status_code == 400
    assert said in text_of(response)
    assert Document.objects.count() == count


def test_a_paper_sent_without_a_file_asks_for_one_in_the_persons_language(lea, lea_client):
    lea_client.post(reverse("portal:language"), {"language": "ar"})

    response = lea_client.post(reverse("portal:document_add"), {"kind": "avis_imposition"})

    assert response.status_code == 400
    assert "اختر ملفًا، أو التقط صورة لورقتك." in text_of(response)
    assert "Choisissez" not in text_of(response)


def test_the_arabic_form_says_optional_in_arabic(lea, lea_client):
    lea_client.post(reverse("portal:language"), {"language": "ar"})

    page = text_of(lea_client.get(reverse("portal:document_add")))

    assert "(اختياري)" in page
    assert "Optionnel" not in page


def _send_paper(client, content: bytes):
    handle = io.BytesIO(content)
    handle.name = "avis.pdf"
    return client.post(reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle})


def test_a_paper_sent_twice_is_kept_once_and_said_in_the_persons_language(lea, lea_client):
    lea_client.post(reverse("portal:language"), {"language": "en"})
    content = pdf_bytes()
    _send_paper(lea_client, content)

    again = _send_paper(lea_client, content)

    assert again.status_code == 400
    assert "This paper is already saved. It is in the list of your papers." in text_of(again)
    assert Document.objects.filter(person=lea.person, kind="avis_imposition").count() == 1


def test_a_full_space_and_a_file_too_big_are_said_in_plain_words(lea, lea_client, settings):
    settings.RELAIS_DOCUMENT_QUOTA_BYTES = 1
    full = _send_paper(lea_client, pdf_bytes())
    settings.RELAIS_DOCUMENT_QUOTA_BYTES = 10**9
    settings.RELAIS_DOCUMENT_MAX_BYTES = 10
    too_big = _send_paper(lea_client, pdf_bytes())

    assert (full.status_code, too_big.status_code) == (400, 400)
    assert "Il n'y a plus de place pour vos papiers." in text_of(full)
    assert "Ce fichier est trop lourd." in text_of(too_big)
    assert not Document.objects.filter(person=lea.person, kind="avis_imposition").exists()


def test_a_file_with_a_virus_is_said_in_plain_words(lea, lea_client, monkeypatch):
    def infected(content):
        raise antivirus.VirusFound("Eicar-Signature")

    monkeypatch.setattr(antivirus, "scan", infected)
    handle = io.BytesIO(pdf_bytes())
    handle.name = "avis.pdf"

    response = lea_client.post(
        reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle}
    )

    assert response.status_code == 400
    assert "Ce fichier a un virus. Il n'est pas enregistré." in text_of(response)
    assert "Eicar" not in text_of(response)


def test_the_person_downloads_their_own_paper_only(lea, marc, lea_client):
    cni = lea.documents["cni"]

    mine = lea_client.get(reverse("portal:document_download", args=[cni.pk]))
    theirs = lea_client.get(reverse("portal:document_download", args=[marc.documents["cni"].pk]))

    assert b"".join(mine.streaming_content) == lea.uploaded_pdfs[cni.pk]
    assert "no-store" in mine["Cache-Control"]
    assert theirs.status_code == 404
    row = AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOADED).get()
    assert row.person_id == lea.person.pk
    assert row.actor_label == PERSON_ACTOR_LABEL


def test_the_kinds_of_paper_are_listed_as_a_dictionary_orders_them(lea, lea_client):
    page = text_of(lea_client.get(reverse("portal:document_add")))

    assert page.index("Carte d'identité") < page.index("Carte Vitale")
    assert page.index("Récépissé") < page.index("RIB")


def _kind_labels(page: str) -> list[str]:
    select = re.search(r'<select name="kind".*?</select>', page, re.DOTALL)
    assert select is not None
    return re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', select[0])


def _in_a_dictionary(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@pytest.mark.parametrize(
    ("language", "other"),
    [("fr", "Autre papier"), ("en", "Other document"), ("ar", "ورقة أخرى")],
)
def test_the_other_paper_comes_last_in_each_language(lea, lea_client, language, other):
    lea_client.post(reverse("portal:language"), {"language": language})

    response = lea_client.get(reverse("portal:document_add"))

    assert response.status_code == 200
    labels = _kind_labels(text_of(response))
    assert len(labels) == len(DocumentKind)
    assert labels[-1] == other
    assert labels[:-1] == sorted(labels[:-1], key=_in_a_dictionary)


def test_the_procedures_say_the_status_the_next_step_and_what_is_missing(lea, lea_client):
    page = text_of(lea_client.get(reverse("portal:procedures")))

    assert "Demander le RSA" in page
    assert "On s'en occupe" in page
    assert "Allez sur le site de la CAF." in page  # step 1 done, step 2 next
    assert (
        'Justificatif de domicile : <span lang="fr" dir="ltr">si vous êtes hébergé</span>' in page
    )


def test_the_procedures_ask_only_for_the_papers_the_persons_file_says_they_need(lea, lea_client):
    Person.objects.filter(pk=lea.person.pk).update(nationality=Nationality.FRENCH)
    for kind, condition in (("cni", FRENCH), ("titre_sejour", NOT_FRENCH)):
        RequiredDocument.objects.create(procedure=lea.procedure, kind=kind, condition=condition)

    page = text_of(lea_client.get(reverse("portal:procedures")))

    assert "<li>Carte d'identité : " in page
    assert "Titre de séjour" not in page


def test_the_catalogues_french_words_are_marked_as_french_in_english(lea, lea_client):
    lea_client.post(reverse("portal:language"), {"language": "en"})

    page = text_of(lea_client.get(reverse("portal:procedures")))

    assert 'Proof of address: <span lang="fr" dir="ltr">si vous êtes hébergé</span>' in page
    assert '<span lang="fr" dir="ltr">Allez sur le site de la CAF.</span>' in page


def test_a_refusals_french_reason_and_organisme_are_marked_as_french_in_arabic(lea, lea_client):
    refused = ProcedureFactory(
        person=lea.person,
        organisation=lea.referent.organisation,
        status=ProcedureStatus.REFUSED,
        refusal_reason="Ressources au-dessus du plafond.",
    )
    lea_client.post(reverse("portal:language"), {"language": "ar"})

    page = text_of(lea_client.get(reverse("portal:procedures")))

    assert '<span lang="fr" dir="ltr">Ressources au-dessus du plafond.</span>' in page
    assert f'<span lang="fr" dir="ltr">{refused.procedure_type.organisme}</span>' in page


def test_the_person_grants_an_agreement_from_their_space(lea, lea_client):
    mission_locale = OrganisationFactory(name="Mission locale du Calaisis")

    by_address = text_of(lea_client.get(reverse("portal:consent_grant"), {"q": "calaisis"}))
    found = text_of(lea_client.post(reverse("portal:consent_grant"), {"q": "calaisis"}))
    response = lea_client.post(
        reverse("portal:consent_grant"),
        {"organisation": mission_locale.pk, "categories": ["logement"], "duration": "1m"},
    )

    # The search is a POST: the structure looked for stays out of the browser's history.
    assert "Mission locale du Calaisis" not in by_address
    assert "Mission locale du Calaisis" in found
    assert response.status_code == 302
    consent = Consent.objects.get(organisation=mission_locale)
    assert consent.person == lea.person
    assert consent.method == ConsentMethod.SELF_SERVICE
    assert consent.recorded_by is None
    assert consent.categories == [DataCategory.IDENTITY, DataCategory.HOUSING]
    row = AuditEvent.objects.get(action=AuditAction.CONSENT_GRANTED, object_id=str(consent.pk))
    assert row.actor_label == PERSON_ACTOR_LABEL


def test_the_same_grant_sent_twice_is_recorded_once_and_said_in_the_persons_language(
    lea, lea_client
):
    mission_locale = OrganisationFactory(name="Mission locale du Calaisis")
    grant = {"organisation": mission_locale.pk, "categories": ["logement"], "duration": "1m"}
    lea_client.post(reverse("portal:consent_grant"), grant)
    lea_client.post(reverse("portal:language"), {"language": "en"})

    again = lea_client.post(reverse("portal:consent_grant"), grant)

    assert again.status_code == 400
    assert "You already gave this agreement today. It is in the list." in text_of(again)
    assert Consent.objects.filter(organisation=mission_locale).count() == 1


def test_an_agreement_to_a_blocked_organisation_is_refused_with_the_way_to_unblock(lea, lea_client):
    ccas = lea.referent.organisation
    lea_client.post(reverse("portal:block"), {"target": f"structure-{ccas.pk}"})
    lea_client.post(reverse("portal:language"), {"language": "en"})
    count = Consent.objects.filter(organisation=ccas).count()

    response = lea_client.post(
        reverse("portal:consent_grant"),
        {"organisation": ccas.pk, "categories": ["logement"], "duration": "1y"},
    )

    assert Block.objects.active().filter(person=lea.person, organisation=ccas).exists()
    assert response.status_code == 400
    assert "You blocked this organisation. Unblock it first." in text_of(response)
    assert Consent.objects.filter(organisation=ccas).count() == count


def test_an_incomplete_grant_changes_nothing(lea, lea_client):
    count = Consent.objects.count()

    response = lea_client.post(
        reverse("portal:consent_grant"), {"organisation": lea.referent.organisation_id}
    )

    assert response.status_code == 400
    assert "Cochez au moins une partie de votre dossier." in text_of(response)
    assert Consent.objects.count() == count


@pytest.mark.parametrize("posted", ["²", "abc", "9" * 30])
def test_an_organisation_that_is_not_a_number_changes_nothing(lea, lea_client, posted):
    count = Consent.objects.count()

    response = lea_client.post(
        reverse("portal:consent_grant"),
        {"organisation": posted, "categories": ["logement"], "duration": "1m"},
    )

    assert response.status_code == 400
    assert Consent.objects.count() == count


def test_a_revoke_closes_the_file_to_the_professional_at_the_next_request(lea, lea_client):
    pro_client = log_in(Client(), lea.referent.user, lea.referent)
    file_url = reverse("persons:file", args=[lea.person.pk])
    assert pro_client.get(file_url).status_code == 200
    consent = Consent.objects.live().get(person=lea.person)

    response = lea_client.post(reverse("portal:consent_revoke", args=[consent.pk]))

    assert response.status_code == 302
    assert pro_client.get(file_url).status_code == 404
    consent.refresh_from_db()
    assert consent.revoked_by_label == PERSON_ACTOR_LABEL


def test_the_person_cannot_revoke_someone_elses_agreement(lea, marc, lea_client):
    theirs = Consent.objects.live().get(person=marc.person)

    response = lea_client.post(reverse("portal:consent_revoke", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_blocking_an_organisation_closes_the_file_even_with_an_agreement(lea, lea_client):
    pro_client = log_in(Client(), lea.referent.user, lea.referent)
    file_url = reverse("persons:file", args=[lea.person.pk])

    response = lea_client.post(
        reverse("portal:block"), {"target": f"structure-{lea.referent.organisation_id}"}
    )

    assert response.status_code == 302
    assert pro_client.get(file_url).status_code == 404
    assert Consent.objects.live().filter(person=lea.person).exists()


def test_blocking_a_professional_who_opened_the_file(lea, lea_client):
    offered = text_of(lea_client.get(reverse("portal:block")))

    lea_client.post(reverse("portal:block"), {"target": f"professionnel-{lea.stranger.user_id}"})

    assert lea.stranger.user.get_full_name() in offered
    assert Block.objects.active().filter(person=lea.person, professional=lea.stranger.user)


def test_a_block_recorded_meanwhile_is_said_in_the_persons_language(lea, lea_client, monkeypatch):
    # The same block sent twice at once: the page offered it to both.
    def recorded_meanwhile(**kwargs):
        raise portal_views.consent_services.AlreadyBlocked("Cette structure est déjà bloquée.")

    monkeypatch.setattr(portal_views.consent_services, "block_add", recorded_meanwhile)
    lea_client.post(reverse("portal:language"), {"language": "en"})

    response = lea_client.post(
        reverse("portal:block"), {"target": f"structure-{lea.referent.organisation_id}"}
    )

    assert response.status_code == 400
    assert "This organisation or person is already blocked." in text_of(response)


def test_the_person_cannot_block_someone_not_offered(lea, lea_client):
    count = Block.objects.count()

    response = lea_client.post(reverse("portal:block"), {"target": "structure-999999"})

    assert response.status_code == 400
    assert Block.objects.count() == count


def test_the_person_lifts_their_own_block_only(lea, marc, lea_client):
    mine = Block.objects.get(person=lea.person)
    theirs = Block.objects.get(person=marc.person)

    lea_client.post(reverse("portal:block_lift", args=[mine.pk]))
    response = lea_client.post(reverse("portal:block_lift", args=[theirs.pk]))

    assert response.status_code == 404
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.lifted_at is not None
    assert theirs.lifted_at is None


def test_a_block_lifted_twice_is_said_already_lifted_in_the_persons_language(lea, lea_client):
    mine = Block.objects.get(person=lea.person)
    lea_client.post(reverse("portal:language"), {"language": "en"})
    lea_client.post(reverse("portal:block_lift", args=[mine.pk]))

    again = lea_client.post(reverse("portal:block_lift", args=[mine.pk]))

    assert again.status_code == 302
    assert again.url == reverse("portal:consents")
    assert "This block is already lifted." in text_of(lea_client.get(again.url))
    assert AuditEvent.objects.filter(action=AuditAction.BLOCK_LIFTED).count() == 1


def test_the_break_glass_choice_says_the_length_the_settings_give(lea, lea_client, settings):
    settings.RELAIS_BREAK_GLASS_DURATION = timedelta(hours=2)
    lea_client.post(reverse("portal:language"), {"language": "ar"})

    page = text_of(lea_client.get(reverse("portal:consents")))

    assert "يمكن لمهني فتح ملفك لمدة ساعتين (2) دون موافقتك." in page


def test_the_person_refuses_break_glass(lea, lea_client):
    lea_client.post(reverse("portal:break_glass"), {"refuse": "oui"})
    lea.person.refresh_from_db()
    assert lea.person.refuses_break_glass
    assert "Vous avez dit non" in text_of(lea_client.get(reverse("portal:consents")))

    lea_client.post(reverse("portal:break_glass"), {"refuse": "non"})
    lea.person.refresh_from_db()
    assert not lea.person.refuses_break_glass


def test_break_glass_choice_is_refused_once_the_file_was_merged_since_it_was_read(
    lea, lea_client, monkeypatch
):
    read = portal_views._person

    def read_then_archived(request):
        person = read(request)
        Person.objects.filter(pk=person.pk).update(status=PersonStatus.ARCHIVED)
        return person

    monkeypatch.setattr(portal_views, "_person", read_then_archived)

    response = lea_client.post(reverse("portal:break_glass"), {"refuse": "oui"}, follow=True)

    assert "Votre choix n'est pas enregistré" in text_of(response)
    lea.person.refresh_from_db()
    assert not lea.person.refuses_break_glass


@pytest.mark.parametrize("posted", [{}, {"refuse": ""}, {"refuse": "peut-etre"}])
def test_break_glass_changes_nothing_without_a_clear_yes_or_no(lea, lea_client, posted):
    lea_client.post(reverse("portal:break_glass"), {"refuse": "oui"})
    before = AuditEvent.objects.count()

    response = lea_client.post(reverse("portal:break_glass"), posted, follow=True)

    assert "Dites oui ou non à l'ouverture en cas d'urgence." in text_of(response)
    lea.person.refresh_from_db()
    assert lea.person.refuses_break_glass
    assert not AuditEvent.objects.filter(
        seq__gt=before, action=AuditAction.BREAK_GLASS_PREFERENCE
    ).exists()


def test_the_history_shows_the_professionals_visits_and_the_break_glass_reason(lea, lea_client):
    lea_client.get(reverse("portal:file"))  # the person's own visit is not listed

    page = text_of(lea_client.get(reverse("portal:history")))

    assert "CCAS de Calais" in page
    assert "CHRS Les Dunes" in page
    assert "Hospitalisation en urgence, le logement doit être protégé." in page
    assert "A ouvert mon dossier sans mon accord (urgence)" in page
    assert "Mon logement" in page
    assert PERSON_ACTOR_LABEL not in page


def test_the_history_marks_the_professionals_french_reason_as_french_in_english(lea, lea_client):
    lea_client.post(reverse("portal:language"), {"language": "en"})

    page = text_of(lea_client.get(reverse("portal:history")))

    assert (
        '<strong lang="fr" dir="ltr">Hospitalisation en urgence, le logement doit être protégé.'
        "</strong>" in page
    )


def test_the_history_says_how_long_it_keeps_what_happened(lea, lea_client):
    page = text_of(lea_client.get(reverse("portal:history")))

    assert "Cette liste garde ce qui s'est passé pendant les 12 derniers mois." in page


def test_the_history_names_the_profession_and_says_each_act_once(lea, lea_client):
    note_add(
        person=lea.person,
        author_id=lea.referent.user_id,
        organisation_id=lea.referent.organisation_id,
        text="Rendez-vous pris à la CAF pour le dossier de logement.",
        visibility=NoteVisibility.ORGANISATION,
        confirmed=False,
        by=actor(lea.referent),
    )

    page = text_of(lea_client.get(reverse("portal:history")))

    note_item = next(item for item in page.split("<li ") if "A écrit une note" in item)
    assert "<dd>A écrit une note</dd>" in note_item
    profession = lea.referent.get_profession_display()
    assert f'<dd><span lang="fr" dir="ltr">{profession}</span></dd>' in note_item


def test_the_history_shows_a_paper_a_professional_deleted(lea, lea_client):
    document_delete(document=lea.documents["cni"], by=actor(lea.referent))

    page = text_of(lea_client.get(reverse("portal:history")))

    deleted = next(item for item in page.split("<li ") if "A supprimé un papier" in item)
    assert "<dd>CCAS de Calais</dd>" in deleted
    assert "<dd>A supprimé un papier : Carte d'identité</dd>" in deleted


def test_the_history_shows_older_visits_page_after_page(lea, lea_client, monkeypatch):
    monkeypatch.setattr(portal_views, "HISTORY_PAGE", 3)
    shown = AuditEvent.objects.for_person(lea.person.pk).access_history()
    total = shown.filter(actor_id__isnull=False).count()
    url = reverse("portal:history")

    counts, next_url = [], url
    while next_url:
        page = text_of(lea_client.get(next_url))
        counts.append(page.count('class="relais-event'))
        older = re.search(r'href="\?avant=(\d+)"', page)
        next_url = f"{url}?avant={older.group(1)}" if older else None

    assert total > 3
    assert sum(counts) == total
    assert counts[0] == 3
    assert "Revenir aux plus récents" not in text_of(lea_client.get(url))


def test_the_export_downloads_the_whole_file(lea, lea_client):
    response = lea_client.post(reverse("portal:export"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="relais-export-')
    assert "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data = json.loads(archive.read(JSON_NAME))
        names = set(archive.namelist())
    assert data["identity"]["first_names"] == "Léa"
    assert {d["file"] for d in data["documents"]} <= names
    assert AuditEvent.objects.filter(
        action=AuditAction.PERSON_DATA_EXPORTED, person_id=lea.person.pk
    ).exists()


def test_the_schema_is_public(client):
    response = client.get(reverse("portal:export_schema"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    Draft202012Validator.check_schema(json.loads(b"".join(response.streaming_content)))


# Query-count pins: each page costs the same whatever the size of the file. The journal
# rows a page writes (one per category read) cost 4 queries each (begin, chain head,
# insert, commit), on SQLite and PostgreSQL alike.
APPEND = 4
PINS = {
    # name: (reads, journal rows)
    # The checklists of the procedures to do and their papers: what is missing is counted
    # as « Mes démarches » says it; the openings of the file in an emergency.
    "portal:home": (7, 3),
    "portal:file": (9, 8),
    "portal:documents": (3, 2),
    "portal:procedures": (6, 1),
    "portal:consents": (4, 0),
    # One more to find the files merged into the person's: their rows are theirs too.
    "portal:history": (4, 0),
    "portal:export": (2, 0),
}


@pytest.mark.parametrize("size", [1, 4])
@pytest.mark.parametrize("name", list(PINS))
def test_it_runs_a_fixed_number_of_queries(lea, lea_client, name, size, django_assert_num_queries):
    for _ in range(size):
        organisation = OrganisationFactory()
        ConsentFactory(person=lea.person, organisation=organisation)
        ProcedureFactory(person=lea.person, organisation=organisation)
        DocumentFactory(person=lea.person, kind="bulletin_salaire")
        NoteFactory(person=lea.person, organisation=organisation)
        HouseholdMemberFactory(person=lea.person)
    lea_client.get(reverse(name))  # the session settles on the first page
    reads, rows = PINS[name]

    with django_assert_num_queries(reads + rows * APPEND):
        response = lea_client.get(reverse(name))

    assert response.status_code == 200


def test_an_empty_file_is_said_in_plain_words_in_the_persons_language(lea, lea_client):
    handle = io.BytesIO(b"")
    handle.name = "vide.pdf"
    count = Document.objects.count()
    lea_client.post(reverse("portal:language"), {"language": "en"})

    response = lea_client.post(
        reverse("portal:document_add"), {"kind": "avis_imposition", "files": handle}
    )

    page = text_of(response)
    assert response.status_code == 400
    assert "This file is empty. Choose another file, or take a photo of your document." in page
    assert "The submitted file is empty." not in page
    assert Document.objects.count() == count
