"""The document pages: upload, list, download, replace, delete, alerts; the outsider;
nothing half-written; a damaged blob never delivered."""

import hashlib
import html
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain
from relais.documents import services
from relais.documents.models import Document, DocumentVersion
from relais.documents.validation import EMPTY_FILE, UploadRefused
from relais.organisations.models import Profession
from relais.persons.categories import DataCategory
from relais.persons.models import Person
from relais.persons.normalisation import name_key
from relais.procedures.models import ProcedureStatus
from tests.concurrency import meanwhile, needs_row_locks
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory, ReferentFactory
from tests.procedures.factories import ProcedureFactory, ProcedureTypeFactory

pytestmark = pytest.mark.django_db


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(out, format="PNG")
    return out.getvalue()


def stored_files(directory: str = "") -> list[str]:
    """Every blob in the documents storage, at any depth."""
    storage = storages["documents"]
    directories, files = storage.listdir(directory)
    found = [f"{directory}/{name}".lstrip("/") for name in files]
    for child in directories:
        found += stored_files(f"{directory}/{child}".lstrip("/"))
    return found


def upload_file(name: str, content: bytes) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@pytest.fixture
def person(referent):
    person = PersonFactory()
    ConsentFactory(
        person=person,
        organisation=referent.organisation,
        categories=[DataCategory.IDENTITY, DataCategory.DOCUMENTS],
    )
    ReferentFactory(person=person, organisation=referent.organisation, professional=referent.user)
    return person


def _upload(client, person, name="avis.pdf", content=None, **fields):
    data = {
        "kind": "avis_imposition",
        "issued_on": "2026-09-01",
        "files": upload_file(name, content or pdf_bytes()),
    }
    data.update(fields)
    return client.post(reverse("documents:upload", args=[person.pk]), data)


def _download(client, person, document):
    return client.get(reverse("documents:download", args=[person.pk, document.pk]))


def test_a_paper_without_issue_date_is_named_after_its_french_upload_day(referent_client, person):
    _upload(referent_client, person, issued_on="")
    document = Document.objects.get()
    # 00:30 in Paris on 1 December, still 30 November in UTC.
    Document.objects.filter(pk=document.pk).update(
        created_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    )

    download = _download(referent_client, person, document)

    assert download["Content-Disposition"] == (
        'attachment; filename="avis_imposition-2026-12-01.pdf"'
    )


def test_it_stores_a_pdf_encrypted_and_gives_back_the_same_bytes(referent_client, person):
    content = pdf_bytes()

    response = _upload(referent_client, person, content=content)

    assert response.status_code == 302
    document = Document.objects.get()
    version = document.versions.get()
    stored = storages["documents"].open(version.storage_name).read()
    assert content not in stored
    download = _download(referent_client, person, document)
    assert b"".join(download.streaming_content) == content
    assert (
        download["Content-Disposition"] == 'attachment; filename="avis_imposition-2026-09-01.pdf"'
    )
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"


def test_it_proposes_the_usual_validity(referent_client, person):
    _upload(referent_client, person, kind="justificatif_domicile", issued_on="2026-09-15")

    assert Document.objects.get().expires_on == date(2026, 12, 15)


def test_it_journals_upload_download_replacement_and_deletion(referent_client, person):
    _upload(referent_client, person)
    document = Document.objects.get()
    b"".join(_download(referent_client, person, document).streaming_content)
    referent_client.post(
        reverse("documents:replace", args=[person.pk, document.pk]),
        {"files": upload_file("nouvel-avis.png", png_bytes())},
    )
    referent_client.post(
        reverse("documents:delete", args=[person.pk, document.pk]), {"confirme": "oui"}
    )

    actions = list(
        AuditEvent.objects.filter(object_type="piece")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.DOCUMENT_UPLOADED,
        AuditAction.DOCUMENT_DOWNLOADED,
        AuditAction.DOCUMENT_REPLACED,
        AuditAction.DOCUMENT_DELETED,
    ]
    assert document.versions.count() == 2
    document.refresh_from_db()
    assert document.deleted_at is not None
    assert verify_chain().intact


def test_it_refuses_a_disguised_file_and_stores_nothing(referent_client, person):
    response = _upload(
        referent_client, person, name="avis.pdf", content=b"<html><script>x</script>"
    )

    assert response.status_code == 400
    assert "fr-error-text" in response.content.decode()
    assert not Document.objects.exists()
    assert not stored_files()


def test_it_leaves_nothing_behind_when_the_journal_write_fails(
    referent_client, person, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("panne au milieu du dépôt")

    monkeypatch.setattr("relais.documents.services.record_on_file", broken)

    with pytest.raises(RuntimeError):
        _upload(referent_client, person)

    assert not Document.objects.exists()
    assert not DocumentVersion.objects.exists()
    assert not stored_files()


def test_it_refuses_to_deliver_a_tampered_blob(referent_client, person):
    _upload(referent_client, person)
    version = DocumentVersion.objects.get()
    storage = storages["documents"]
    damaged = bytearray(storage.open(version.storage_name).read())
    damaged[len(damaged) // 2] ^= 0xFF
    storage.delete(version.storage_name)
    storage.save(version.storage_name, io.BytesIO(bytes(damaged)))

    response = _download(referent_client, person, version.document)

    assert response.status_code == 500
    assert "Cette pièce est endommagée" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOADED).exists()


def test_it_hides_health_documents_without_the_health_category(referent_client, person, referent):
    other = PersonFactory()
    ConsentFactory(
        person=other,
        organisation=referent.organisation,
        categories=[DataCategory.IDENTITY, DataCategory.DOCUMENTS],
    )

    page = referent_client.get(reverse("documents:list", args=[other.pk])).content.decode()
    response = _upload(referent_client, other, kind="certificat_medical")

    assert 'value="avis_imposition"' in page
    assert 'value="certificat_medical"' not in page
    assert response.status_code == 400
    assert "certificat_medical n’en fait pas partie" in response.content.decode()
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("profession", "offered", "status"),
    [(Profession.MJPM, False, 400), (Profession.NURSE, True, 302)],
    ids=["lit-la-sante", "ecrit-la-sante"],
)
def test_it_offers_health_documents_to_whom_may_write_them(referent, profession, offered, status):
    member = MembershipFactory(organisation=referent.organisation, profession=profession)
    client = log_in(Client(), member.user, member)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=referent.organisation)

    page = client.get(reverse("documents:list", args=[person.pk])).content.decode()
    response = _upload(client, person, kind="certificat_medical")

    assert ('value="certificat_medical"' in page) is offered
    assert response.status_code == status
    assert Document.objects.filter(kind="certificat_medical").exists() is offered


def _kind_labels(page: str) -> list[str]:
    select = re.search(r'<select name="kind".*?</select>', page, re.DOTALL)
    assert select is not None
    return re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', html.unescape(select[0]))


def test_it_offers_the_paper_types_in_the_order_of_a_dictionary(referent_client, person):
    page = referent_client.get(reverse("documents:list", args=[person.pk])).content.decode()

    labels = _kind_labels(page)
    assert labels[:3] == [
        "Acte de naissance",
        "Attestation CAF",
        "Attestation d'élection de domicile",
    ]
    assert labels.index("Carte nationale d'identité") < labels.index("Carte Vitale")
    assert labels.index("Récépissé de demande de titre de séjour") < labels.index("RIB")
    assert labels[-1] == "Autre pièce"
    assert labels[:-1] == sorted(labels[:-1], key=name_key)


def test_it_answers_404_to_an_outsider(person, referent_client):
    _upload(referent_client, person)
    document = Document.objects.get()
    outsider = MembershipFactory()
    client = log_in(Client(), outsider.user, outsider)

    assert client.get(reverse("documents:list", args=[person.pk])).status_code == 404
    assert _download(client, person, document).status_code == 404
    assert (
        client.post(reverse("documents:delete", args=[person.pk, document.pk])).status_code == 404
    )
    assert Document.objects.present().count() == 1


def test_it_lists_the_documents_to_renew_of_my_persons(referent_client, person):
    _upload(
        referent_client,
        person,
        kind="quittance_loyer",
        issued_on="2026-01-01",
        expires_on=(timezone.localdate() + timedelta(days=10)).isoformat(),
    )
    _upload(referent_client, person, kind="bail", issued_on="2024-01-01")

    response = referent_client.get(reverse("documents:expiring"))

    text = response.content.decode()
    assert "Quittance de loyer" in text
    assert "Bail" not in text
    listed = AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, details__liste="pieces_a_renouveler"
    )
    assert list(listed.values_list("person_id", "category")) == [(person.pk, "documents")]


def test_it_assembles_several_photos_into_one_pdf(referent_client, person):
    response = referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {
            "kind": "livret_famille",
            "files": [upload_file(f"page{i}.png", png_bytes()) for i in range(3)],
        },
    )

    assert response.status_code == 302
    version = DocumentVersion.objects.get()
    assert version.content_type == "application/pdf"


def test_it_refuses_more_than_ten_photos_for_one_document(referent_client, person):
    response = referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {
            "kind": "livret_famille",
            "files": [upload_file(f"page{i}.png", png_bytes()) for i in range(11)],
        },
    )

    assert response.status_code == 400
    assert "Une pièce se dépose en 10 photos au plus." in response.content.decode()
    assert not Document.objects.exists()


def test_the_upload_form_states_the_size_the_settings_give(referent_client, person, settings):
    settings.RELAIS_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024

    page = referent_client.get(reverse("documents:list", args=[person.pk]))

    assert "PDF, JPEG, PNG, HEIC ou WebP, 5 Mo au plus." in page.content.decode()


def test_it_refuses_an_upload_over_the_quota(referent_client, person, settings):
    settings.RELAIS_DOCUMENT_QUOTA_BYTES = 100

    response = _upload(referent_client, person)

    assert response.status_code == 400
    assert "espace de ce dossier est plein" in response.content.decode()
    assert not Document.objects.exists()


def test_it_counts_an_upload_saved_meanwhile_against_the_space_left(person, settings, monkeypatch):
    settings.RELAIS_DOCUMENT_QUOTA_BYTES = len(pdf_bytes()) + 10
    write = services.vault.blob_write

    def another_upload_lands_meanwhile(chunks):
        blob = write(chunks)
        landed = Document.objects.create(person=person, kind="autre")
        DocumentVersion.objects.create(
            document=landed,
            number=1,
            storage_name="deja-enregistree",
            size=len(pdf_bytes()),
            sha256="0" * 64,
            content_type="application/pdf",
            extension="pdf",
            wrapped_key=b"",
            scan_status="non_analyse",
        )
        return blob

    monkeypatch.setattr(services.vault, "blob_write", another_upload_lands_meanwhile)

    with pytest.raises(UploadRefused, match="espace de ce dossier est plein"):
        services.document_upload(
            person=person,
            kind="cni",
            title="",
            issued_on=None,
            expires_on=None,
            files=[SimpleUploadedFile("cni.pdf", pdf_bytes(), "application/pdf")],
            uploaded_by_id=None,
            by=SYSTEM,
        )

    assert not Document.objects.filter(kind="cni").exists()


def test_it_rewraps_the_keys_without_touching_the_blobs(referent_client, person, settings):
    import base64

    from django.core.management import call_command

    from relais import crypto

    content = pdf_bytes()
    _upload(referent_client, person, content=content)
    version = DocumentVersion.objects.get()
    blob_before = storages["documents"].open(version.storage_name).read()
    new_key = base64.b64encode(b"n" * 32).decode()
    settings.RELAIS_ENCRYPTION_KEYS = f"nouvelle:{new_key},{settings.RELAIS_ENCRYPTION_KEYS}"

    call_command("rotate_document_keys", stdout=io.StringIO())

    version.refresh_from_db()
    assert crypto.key_id_of(bytes(version.wrapped_key)) == "nouvelle"
    assert storages["documents"].open(version.storage_name).read() == blob_before
    settings.RELAIS_ENCRYPTION_KEYS = f"nouvelle:{new_key}"
    assert (
        b"".join(_download(referent_client, person, version.document).streaming_content) == content
    )


def test_it_purges_the_files_of_documents_deleted_long_ago(
    transactional_db, referent_client, person, settings
):
    """Real commits: each file leaves the storage as its purge commits, as in production."""
    _upload(referent_client, person)
    document = Document.objects.get()
    referent_client.post(reverse("documents:delete", args=[person.pk, document.pk]))
    assert stored_files()

    call_command("purge_deleted_documents", stdout=io.StringIO())
    assert stored_files()  # deleted today: kept for the grace period

    Document.objects.filter(pk=document.pk).update(
        deleted_at=timezone.now() - timedelta(days=settings.RELAIS_DOCUMENT_PURGE_DAYS + 1)
    )
    out = io.StringIO()
    call_command("purge_deleted_documents", stdout=out)

    assert out.getvalue() == "1 fichier(s) de pièce effacé(s) définitivement.\n"
    assert not stored_files()
    version = document.versions.get()
    assert version.purged_at is not None
    assert bytes(version.wrapped_key) == b""
    assert AuditEvent.objects.filter(action=AuditAction.DOCUMENT_PURGED).count() == 1


def test_a_purge_that_fails_keeps_the_files_and_changes_nothing(
    referent_client, person, settings, monkeypatch, django_capture_on_commit_callbacks
):
    _upload(referent_client, person)
    document = Document.objects.get()
    referent_client.post(reverse("documents:delete", args=[person.pk, document.pk]))
    Document.objects.filter(pk=document.pk).update(
        deleted_at=timezone.now() - timedelta(days=settings.RELAIS_DOCUMENT_PURGE_DAYS + 1)
    )

    def journal_unavailable(*args, **kwargs):
        raise RuntimeError("journal indisponible")

    monkeypatch.setattr(services, "record_on_file", journal_unavailable)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        call_command("purge_deleted_documents", stdout=io.StringIO())

    assert stored_files()
    version = document.versions.get()
    assert version.purged_at is None
    assert bytes(version.wrapped_key) != b""


def test_it_keeps_the_documents_to_renew_of_other_organisations_out(referent_client, person):
    _upload(
        referent_client,
        person,
        kind="quittance_loyer",
        issued_on="2026-01-01",
        expires_on=(timezone.localdate() + timedelta(days=5)).isoformat(),
    )
    outsider = MembershipFactory()
    client = log_in(Client(), outsider.user, outsider)

    response = client.get(reverse("documents:expiring"))

    assert response.status_code == 200
    assert "Quittance de loyer" not in response.content.decode()
    assert person.birth_name.upper() not in response.content.decode()


def test_a_paper_issued_in_year_9999_is_refused_instead_of_failing(referent_client, person):
    response = _upload(referent_client, person, kind="cni", issued_on="9999-12-31")

    assert response.status_code == 400
    assert "ne peut pas être dans le futur" in response.content.decode()
    assert not Document.objects.exists()


def test_a_deletion_or_a_replacement_racing_a_deletion_changes_nothing(referent_client, person):
    _upload(referent_client, person)
    seen_before = Document.objects.get()  # the page's copy, read before the other deletion
    services.document_delete(document=Document.objects.get(), by=SYSTEM)
    blobs = stored_files()

    with pytest.raises(ValidationError, match="Cette pièce est déjà supprimée"):
        services.document_delete(document=Document.objects.get(), by=SYSTEM)
    with pytest.raises(UploadRefused, match="supprimée entre-temps"):
        services.document_replace(
            document=seen_before,
            files=[SimpleUploadedFile("nouvel-avis.pdf", pdf_bytes(), "application/pdf")],
            issued_on=None,
            expires_on=None,
            uploaded_by_id=None,
            by=SYSTEM,
        )

    assert AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DELETED).count() == 1
    assert DocumentVersion.objects.count() == 1
    assert stored_files() == blobs


def _replace(client, person, document, files):
    return client.post(reverse("documents:replace", args=[person.pk, document.pk]), files)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"files": upload_file("avis.pdf", b"<html><script>x</script>")}, "format de fichier"),
        ({}, "Choisissez un fichier, ou prenez la pièce en photo."),
    ],
    ids=["fichier-deguise", "sans-fichier"],
)
def test_a_refused_replacement_comes_back_with_its_error(referent_client, person, files, message):
    _upload(referent_client, person)
    document = Document.objects.get()

    response = _replace(referent_client, person, document, files)

    text = response.content.decode()
    assert response.status_code == 400
    assert "Remplacer la pièce « Avis d&#x27;imposition »" in text
    assert message in text
    assert document.versions.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_REPLACED).exists()


def test_a_refused_deletion_comes_back_with_its_error(referent_client, person, monkeypatch):
    _upload(referent_client, person)
    document = Document.objects.get()

    def deleted_meanwhile(*, document, by):
        raise ValidationError("Cette pièce est déjà supprimée.")

    monkeypatch.setattr(services, "document_delete", deleted_meanwhile)
    response = referent_client.post(
        reverse("documents:delete", args=[person.pk, document.pk]), {"confirme": "oui"}
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "La pièce n'a pas été supprimée" in text
    assert "Cette pièce est déjà supprimée." in text
    assert 'name="confirme"' not in text


def test_a_double_click_on_upload_stores_the_document_once(referent_client, person):
    content = pdf_bytes()

    first = _upload(referent_client, person, content=content)
    second = _upload(referent_client, person, content=content)

    assert first.status_code == 302
    assert second.status_code == 400
    assert "Cette pièce vient d&#x27;être enregistrée" in second.content.decode()
    assert Document.objects.count() == 1
    assert len(stored_files()) == 1
    assert AuditEvent.objects.filter(action=AuditAction.DOCUMENT_UPLOADED).count() == 1


@pytest.mark.parametrize(
    "earlier",
    [
        {"kind": "bail"},
        {"created_at": timezone.now() - timedelta(minutes=6)},
        {"deleted_at": timezone.now()},
    ],
    ids=["autre-type", "deposee-plus-tot", "supprimee"],
)
def test_the_same_file_is_taken_again_when_not_just_sent(referent_client, person, earlier):
    content = pdf_bytes()
    _upload(referent_client, person, content=content)
    Document.objects.update(**earlier)

    response = _upload(referent_client, person, content=content)

    assert response.status_code == 302
    assert Document.objects.count() == 2


@needs_row_locks
def test_two_uploads_at_once_store_the_document_once(transactional_db, person):
    """The first send holds the person's row and adds the document; the second waits for
    it, then finds that document and is refused, its blob removed."""
    content = pdf_bytes()

    def first_send():
        Person.objects.select_for_update().get(pk=person.pk)
        DocumentVersion.objects.create(
            document=Document.objects.create(person=person, kind="avis_imposition"),
            number=1,
            storage_name="premier-envoi",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content_type="application/pdf",
            extension="pdf",
            wrapped_key=b"",
            scan_status="non_analyse",
        )

    with (
        meanwhile(first_send),
        pytest.raises(UploadRefused, match="Cette pièce vient d'être enregistrée"),
    ):
        services.document_upload(
            person=person,
            kind="avis_imposition",
            title="",
            issued_on=None,
            expires_on=None,
            files=[SimpleUploadedFile("avis.pdf", content, "application/pdf")],
            uploaded_by_id=None,
            by=SYSTEM,
        )

    assert Document.objects.count() == 1
    assert not stored_files()


def test_an_empty_file_is_refused_with_the_vault_s_own_words(referent_client, person):
    uploaded = referent_client.post(
        reverse("documents:upload", args=[person.pk]),
        {"kind": "avis_imposition", "files": upload_file("vide.pdf", b"")},
    )

    text = html.unescape(uploaded.content.decode())
    assert uploaded.status_code == 400
    assert EMPTY_FILE in text
    assert "Le fichier soumis est vide." not in text
    assert not Document.objects.exists()


def test_an_empty_file_replaces_nothing_and_says_why(referent_client, person):
    _upload(referent_client, person)
    document = Document.objects.get()

    replaced = _replace(referent_client, person, document, {"files": upload_file("vide.pdf", b"")})

    text = html.unescape(replaced.content.decode())
    assert replaced.status_code == 400
    assert EMPTY_FILE in text
    assert "Le fichier soumis est vide." not in text
    assert document.versions.count() == 1


# « Voir »: the browser's own viewer, no copy left in a downloads folder.


def test_voir_shows_the_paper_in_the_browser_and_journals_a_look(referent_client, person):
    content = pdf_bytes()
    _upload(referent_client, person, content=content)
    document = Document.objects.get()

    shown = referent_client.get(reverse("documents:show", args=[person.pk, document.pk]))

    assert b"".join(shown.streaming_content) == content
    assert shown["Content-Disposition"] == 'inline; filename="avis_imposition-2026-09-01.pdf"'
    assert shown["Content-Type"] == "application/pdf"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Cache-Control"] == "no-store"
    looked = AuditEvent.objects.filter(person_id=person.pk).latest("seq")
    assert looked.action == AuditAction.DOCUMENT_SHOWN
    assert looked.object_id == str(document.pk)
    assert looked.details["type"] == "avis_imposition"
    assert verify_chain().intact


def test_the_list_offers_to_see_each_paper(referent_client, person):
    _upload(referent_client, person)
    document = Document.objects.get()

    page = referent_client.get(reverse("documents:list", args=[person.pk])).content.decode()

    assert reverse("documents:show", args=[person.pk, document.pk]) in page


# A paper the professional adds joins the procedures that ask for it, as the person's do.


def _asking(person, organisation, kind: str):
    procedure = ProcedureFactory(
        person=person,
        organisation=organisation,
        procedure_type=ProcedureTypeFactory(title="Déclarer ses revenus"),
        status=ProcedureStatus.IN_PROGRESS,
    )
    return procedure.checklist.create(kind=kind)


@pytest.fixture
def procedures_too(referent, person):
    """The person lets the referent's structure follow her procedures as well."""
    ConsentFactory(
        person=person, organisation=referent.organisation, categories=[DataCategory.PROCEDURES]
    )


@pytest.mark.usefixtures("procedures_too")
def test_a_paper_added_joins_the_procedure_that_asks_for_it(referent, referent_client, person):
    line = _asking(person, referent.organisation, "avis_imposition")

    _upload(referent_client, person)

    line.refresh_from_db()
    assert line.document == Document.objects.get()
    linked = AuditEvent.objects.get(action=AuditAction.PROCEDURE_DOCUMENT_LINKED)
    assert (linked.actor_id, linked.details["automatique"]) == (referent.user_id, True)


@pytest.mark.usefixtures("procedures_too")
def test_a_corrected_paper_joins_the_procedure_that_asks_for_its_new_type(
    referent, referent_client, person
):
    _upload(referent_client, person, kind="autre")
    document = Document.objects.get()
    line = _asking(person, referent.organisation, "avis_imposition")

    referent_client.post(
        reverse("documents:edit", args=[person.pk, document.pk]),
        {"kind": "avis_imposition", "issued_on": "2026-09-01", "expires_on": ""},
    )

    line.refresh_from_db()
    assert line.document == document


def test_a_paper_added_by_whoever_may_not_change_procedures_joins_none(client, person):
    reader = MembershipFactory()
    ConsentFactory(
        person=person, organisation=reader.organisation, categories=[DataCategory.DOCUMENTS]
    )
    line = _asking(person, reader.organisation, "avis_imposition")
    reader_client = log_in(Client(), reader.user, reader)

    assert _upload(reader_client, person).status_code == 302

    line.refresh_from_db()
    assert line.document is None
    assert not AuditEvent.objects.filter(action=AuditAction.PROCEDURE_DOCUMENT_LINKED).exists()


def test_the_list_says_which_papers_the_person_added_from_her_space(referent_client, person):
    _upload(referent_client, person)
    services.document_upload(
        person=person,
        kind="rib",
        title="",
        files=[SimpleUploadedFile("rib.pdf", pdf_bytes(), "application/pdf")],
        issued_on=None,
        expires_on=None,
        uploaded_by_id=None,
        by=SYSTEM,
    )

    page = referent_client.get(reverse("documents:list", args=[person.pk])).content.decode()

    rows = page.split("<tr>")[2:]
    added_by_her = [row for row in rows if "ajoutée par la personne depuis son espace" in row]
    assert len(added_by_her) == 1
    assert "RIB" in added_by_her[0]
