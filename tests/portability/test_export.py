"""The export of a person's whole file: a ZIP with the JSON (valid against the published
schema), every document decrypted, a readable summary; streamed in bounded pieces;
re-read with nothing lost; journaled; whole even when a number or a paper cannot be read."""

import hashlib
import html
import io
import json
import random
import re
import tracemalloc
import zipfile

import pytest
from botocore.exceptions import ClientError, ResponseStreamingError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from jsonschema import Draft202012Validator
from PIL import Image

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.services import Event, audit_record_many
from relais.audit.verification import verify_chain
from relais.consent.models import Block, BreakGlassGrant, Consent
from relais.consent.services import block_lift
from relais.documents.models import DocumentVersion
from relais.documents.services import document_delete, document_replace
from relais.persons.models import Note, NoteVisibility, Person
from relais.portability import readable, services, snapshot
from relais.portability.services import export_prepare
from relais.portability.snapshot import FORMAT_VERSION, JSON_NAME, SUMMARY_NAME
from relais.procedures.models import ProcedureTransition
from tests.concurrency import report_of
from tests.persons.factories import NoteFactory, PersonFactory
from tests.portability.builders import NIR, actor, full_file, png_bytes, upload
from tests.portability.meanwhile import AS_IT_STOOD, export_changed_meanwhile
from tests.portability.reading import (
    ExportUnreadable,
    export_person,
    export_pieces,
    read_export,
)
from tests.procedures.factories import RequiredDocumentFactory

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "relais/portability/schema/relais-export-1.schema.json"
PERSON = Actor(label="La personne, depuis son espace personnel")


@pytest.fixture
def built():
    return full_file()


@pytest.fixture
def archive(built):
    return export_person(built.person, by=PERSON)


def members(zip_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def test_it_publishes_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["format_version"]["const"] == FORMAT_VERSION


def test_it_writes_json_that_validates_against_the_schema(archive):
    data = json.loads(members(archive)[JSON_NAME])

    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]

    assert not errors, "\n".join(errors)


def test_it_validates_an_empty_file_too():
    person = PersonFactory()

    data = read_export(export_person(person, by=PERSON))

    Draft202012Validator(schema()).validate(data)
    assert data["identity"]["nir"] is None
    assert data["housing"] is None
    assert data["documents"] == []


def test_it_holds_every_section_of_the_file(built, archive):
    data = read_export(archive)
    person = built.person

    assert data["format"] == "relais-export"
    assert data["format_version"] == FORMAT_VERSION
    assert data["identity"]["nir"] == NIR
    assert data["identity"]["birth_name"] == person.birth_name
    assert data["identity"]["first_names"] == person.first_names
    assert data["account"]["card_identifier"] == built.account.card_identifier
    assert [m["first_names"] for m in data["household"]] == ["Noé"]
    assert sorted(r["amount"] for r in data["resources"]) == ["120.00", "635.71"]
    assert data["housing"]["status"] == "locataire_social"
    assert data["housing"]["monthly_rent"] == "412.50"
    assert data["employment"]["status"] == "demandeur_emploi"
    assert data["social_coverage"]["complementary"] == "css"
    assert data["health"]["rqth"] is True
    assert {c["id"] for c in data["consents"]} == set(
        Consent.objects.filter(person=person).values_list("pk", flat=True)
    )
    assert [b["organisation"]["name"] for b in data["blocks"]] == ["Bailleur Côte d'Opale"]
    assert len(data["break_glass"]) == BreakGlassGrant.objects.filter(person=person).count() == 1
    assert data["followed_by"][0]["organisation"]["name"] == "CCAS de Calais"
    [procedure] = data["procedures"]
    assert procedure["title"] == "Demander le RSA"
    assert [(t["to_status"], t["on"]) for t in procedure["transitions"]] == [
        (status, day.isoformat())
        for status, day in ProcedureTransition.objects.filter(procedure=built.procedure)
        .order_by("at", "pk")
        .values_list("to_status", "on")
    ]
    assert [s["number"] for s in procedure["steps"]] == [1]
    assert procedure["steps"][0]["text"] == built.procedure.procedure_type.steps[0]
    assert len(procedure["checklist"]) == 2
    assert procedure["checklist"][0]["document_id"] == built.documents["cni"].pk
    reasons = [event["reason"] for event in data["access_history"] if event["reason"]]
    assert "Hospitalisation en urgence, le logement doit être protégé." in reasons
    assert {event["organisation"] for event in data["access_history"]} >= {
        "CCAS de Calais",
        "CHRS Les Dunes",
    }


def test_it_gives_the_notes_of_the_shared_file_but_not_an_authors_memo(built, archive):
    data = read_export(archive)

    texts = {note["text"] for note in data["notes"]}
    assert texts == set(
        Note.objects.filter(person=built.person)
        .exclude(visibility=NoteVisibility.AUTHOR)
        .values_list("text", flat=True)
    )
    assert "Mémo personnel du référent." not in texts


def test_it_names_who_may_read_a_note_in_the_persons_words(built):
    # In French whatever the language of the person's space, as every label of the file.
    with translation.override("ar"):
        data = read_export(export_person(built.person, by=PERSON))

    assert {(note["visibility"], note["visibility_label"]) for note in data["notes"]} == {
        ("structure", "La structure qui l'a écrite"),
        ("partagee", "Les structures que j'ai autorisées"),
    }


def test_it_gives_each_checklist_line_its_choices_and_situations(built):
    identity, address = built.procedure.checklist.order_by("pk")
    identity.group = "identite"
    identity.save(update_fields=["group"])
    address.conditional = address.concerned = True
    address.save(update_fields=["conditional", "concerned"])
    RequiredDocumentFactory(
        procedure=built.procedure,
        kind="titre_sejour",
        condition="si vous n'êtes pas français",
        group="identite",
    )
    RequiredDocumentFactory(
        procedure=built.procedure,
        kind="avis_imposition",
        condition="celui de vos parents",
        someone_else=True,
    )

    data = read_export(export_person(built.person, by=PERSON))

    Draft202012Validator(schema()).validate(data)
    [procedure] = data["procedures"]
    assert [
        (
            line["kind"],
            line["group"],
            line["conditional"],
            line["concerned"],
            line["not_applicable"],
            line["someone_else"],
        )
        for line in procedure["checklist"]
    ] == [
        ("cni", "identite", False, False, False, False),
        ("justificatif_domicile", "", True, True, False, False),
        ("titre_sejour", "identite", False, False, False, False),
        ("avis_imposition", "", False, False, False, True),
    ]


def test_it_puts_every_document_decrypted_in_the_zip(built, archive):
    files = members(archive)
    data = read_export(archive)

    assert {d["id"] for d in data["documents"]} == {d.pk for d in built.documents.values()}
    for document in data["documents"]:
        version = DocumentVersion.objects.get(document_id=document["id"])
        content = files[document["file"]]
        assert document["file"] == f"documents/{document['id']}-{document['kind']}.pdf" or (
            document["kind"] == "rib" and document["file"].endswith(".png")
        )
        assert hashlib.sha256(content).hexdigest() == document["sha256"] == version.sha256
        assert len(content) == document["size"] == version.size
    for document_id, uploaded in built.uploaded_pdfs.items():
        [entry] = [d for d in data["documents"] if d["id"] == document_id]
        assert files[entry["file"]] == uploaded


def test_it_reads_back_the_json_it_wrote(archive):
    assert read_export(archive) == json.loads(members(archive)[JSON_NAME])


def test_it_writes_a_summary_that_needs_nothing_from_outside(built, archive):
    summary = members(archive)[SUMMARY_NAME].decode()

    assert "<script" not in summary
    assert "<link" not in summary
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", summary)
    for expected in ("Dupré", "Noé", "Demander le RSA", "CHRS Les Dunes", "Carte d'identité"):
        assert expected in html.unescape(summary)
    assert "Hospitalisation en urgence" in summary
    assert 'lang="fr"' in summary


def test_it_writes_the_summary_in_the_persons_language(built):
    with translation.override("ar"):
        summary = members(export_person(built.person, by=PERSON))[SUMMARY_NAME].decode()

    assert 'lang="ar"' in summary
    assert 'dir="rtl"' in summary


def test_the_summary_writes_the_first_of_a_month_as_the_pages_do():
    with translation.override("fr"):
        assert readable.day("2026-09-01") == "1er septembre 2026"
        assert readable.day("2026-09-21") == "21 septembre 2026"
        assert readable.moment("2026-09-01T08:05:00") == "1er septembre 2026, 08:05"
    with translation.override("en"):
        assert readable.day("2026-09-01") == "1 September 2026"


def test_it_journals_the_export_and_the_decrypted_number(built, archive):
    exported = AuditEvent.objects.get(action=AuditAction.PERSON_DATA_EXPORTED)

    assert exported.person_id == built.person.pk
    assert exported.actor_id is None
    assert exported.actor_label == PERSON.label
    assert exported.details["pieces"] == 3
    assert AuditEvent.objects.filter(
        action=AuditAction.NIR_REVEALED, person_id=built.person.pk, actor_id=None
    ).exists()
    assert verify_chain().intact


def test_it_streams_large_documents_in_small_pieces():
    person = PersonFactory()
    # Noise does not compress: the PNG stays large, as a photo of a paper would.
    pixels = random.Random(7).randbytes(700 * 700 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (700, 700), pixels).save(out, format="PNG")
    document = upload(person, "autre", "photo.png", out.getvalue(), PERSON)
    size = document.versions.get().size

    pieces = export_pieces(person, by=PERSON)

    assert size > 512 * 1024
    assert len(pieces) > 8
    assert max(len(piece) for piece in pieces) <= 256 * 1024
    assert read_export(b"".join(pieces))["documents"][0]["size"] == size


def test_it_leaves_out_a_damaged_document_and_gives_the_rest(built):
    version = built.documents["rib"].versions.get()
    storage = storages["documents"]
    damaged = bytearray(storage.open(version.storage_name).read())
    damaged[len(damaged) // 2] ^= 0xFF
    storage.delete(version.storage_name)
    storage.save(version.storage_name, io.BytesIO(bytes(damaged)))

    data = read_export(export_person(built.person, by=PERSON))

    by_id = {document["id"]: document for document in data["documents"]}
    assert by_id[built.documents["rib"].pk]["file"] is None
    assert by_id[built.documents["cni"].pk]["file"] is not None


@pytest.mark.parametrize("position", [1, -1], ids=["key-name", "sealed-value"])
def test_it_gives_the_rest_of_the_file_when_the_number_cannot_be_read(built, position):
    altered = bytearray(built.person.nir_encrypted)
    altered[position] ^= 0xFF
    Person.objects.filter(pk=built.person.pk).update(nir_encrypted=bytes(altered))
    built.person.refresh_from_db()

    archive = export_person(built.person, by=PERSON)

    data = read_export(archive)
    Draft202012Validator(schema()).validate(data)
    assert data["identity"]["nir"] is None
    assert data["identity"]["birth_name"] == built.person.birth_name
    assert all(document["file"] for document in data["documents"])
    summary = html.unescape(members(archive)[SUMMARY_NAME].decode())
    assert "Enregistré, mais Relais ne peut pas le lire. Il n'est pas dans ce fichier." in summary
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_DATA_EXPORTED).exists()


def test_it_leaves_out_a_paper_the_storage_cannot_read_and_gives_the_rest(built, monkeypatch):
    storage = storages["documents"]
    unreadable = built.documents["rib"].versions.get().storage_name
    opening = storage.open

    def refusing(name, mode="rb"):
        if name == unreadable:
            raise PermissionError(name)
        return opening(name, mode)

    monkeypatch.setattr(storage, "open", refusing)

    data = read_export(export_person(built.person, by=PERSON))

    by_id = {document["id"]: document for document in data["documents"]}
    assert by_id[built.documents["rib"].pk]["file"] is None
    assert by_id[built.documents["cni"].pk]["file"] is not None


def test_it_finishes_the_zip_with_a_note_when_a_paper_disappears_during_the_download(built):
    prepared = export_prepare(built.person, by=PERSON)
    rib = built.documents["rib"]
    storages["documents"].delete(rib.versions.get().storage_name)

    archive = b"".join(prepared.chunks())

    assert f"documents/{rib.pk}-rib.png".encode() not in archive
    data = read_export(archive)
    Draft202012Validator(schema()).validate(data)
    files = members(archive)
    by_id = {document["id"]: document for document in data["documents"]}
    assert by_id[rib.pk]["file"] is None
    assert by_id[built.documents["cni"].pk]["file"] in files
    note = files[f"documents/{rib.pk}-rib-indisponible.txt"].decode()
    assert "RIB (coordonnées de banque) : ce papier n'a pas pu être ajouté." in note
    assert "Fichier indisponible" in files[SUMMARY_NAME].decode()


@pytest.mark.parametrize(
    "failure",
    [
        OSError("Lecture du stockage interrompue"),
        # An S3 storage's broken response stream is no OSError.
        ResponseStreamingError(error="Connection broken: IncompleteRead"),
    ],
    ids=["disk", "object-storage"],
)
def test_it_leaves_out_a_paper_whose_reading_fails_half_way(built, monkeypatch, failure):
    rib = built.documents["rib"]
    reading = services.version_chunks

    def failing_half_way(version):
        if version.document_id != rib.pk:
            yield from reading(version)
            return
        yield next(reading(version))[:10]
        raise failure

    monkeypatch.setattr(services, "version_chunks", failing_half_way)

    archive = export_person(built.person, by=PERSON)

    data = read_export(archive)
    files = members(archive)
    cut = f"documents/{rib.pk}-rib.png"
    assert cut not in files
    assert f"documents/{rib.pk}-rib-indisponible.txt" in files
    assert {document["id"]: document["file"] for document in data["documents"]}[rib.pk] is None
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.testzip() is None


def test_it_marks_the_professionals_french_words_as_french_in_the_summary(built):
    built.documents["rib"].title = "compte joint"
    built.documents["rib"].save(update_fields=["title"])
    with translation.override("en"):
        summary = members(export_person(built.person, by=PERSON))[SUMMARY_NAME].decode()

    assert '<span lang="fr" dir="ltr">Rendez-vous CAF pris pour le RSA.</span>' in summary
    assert '<span lang="fr" dir="ltr">Demander le RSA</span>' in summary
    assert '<span lang="fr" dir="ltr">Dossier MDPH à renouveler.</span>' in summary
    assert '<span lang="fr" dir="ltr">compte joint</span>' in summary


def test_it_says_that_a_replaced_paper_is_given_in_its_last_version_only(built):
    rib = built.documents["rib"]
    document_replace(
        document=rib,
        files=[SimpleUploadedFile("rib.png", png_bytes(color="red"), content_type="image/png")],
        issued_on=None,
        expires_on=None,
        uploaded_by_id=None,
        by=PERSON,
    )

    archive = export_person(built.person, by=PERSON)

    data = read_export(archive)
    [entry] = [document for document in data["documents"] if document["id"] == rib.pk]
    assert entry["version"] == 2
    assert [name for name in members(archive) if name.startswith(f"documents/{rib.pk}-")] == [
        entry["file"]
    ]
    summary = html.unescape(members(archive)[SUMMARY_NAME].decode())
    assert (
        summary.count("Dernière version. Les anciennes versions ne sont pas dans ce fichier.") == 1
    )


def test_it_names_the_steps_as_they_were_when_the_procedure_was_opened(built):
    opened_with = built.procedure.steps[0]
    catalogue_entry = built.procedure.procedure_type
    catalogue_entry.steps = ["Une étape écrite depuis"]
    catalogue_entry.save(update_fields=["steps"])

    data = read_export(export_person(built.person, by=PERSON))

    assert data["procedures"][0]["steps"][0]["text"] == opened_with


def test_it_leaves_out_a_deleted_document_but_keeps_a_lifted_block(built):
    block_lift(block=Block.objects.get(person=built.person), by=PERSON)
    document_delete(document=built.documents["rib"], by=PERSON)

    data = read_export(export_person(built.person, by=PERSON))

    assert data["blocks"][0]["lifted_at"] is not None
    assert built.documents["rib"].pk not in {d["id"] for d in data["documents"]}


def test_the_history_names_the_paper_an_act_touched(built):
    document_delete(document=built.documents["rib"], by=PERSON)
    person = built.person
    # A row written before journal rows named the paper.
    audit_record_many(
        [Event(AuditAction.DOCUMENT_SHOWN, person_id=person.pk, category="documents")],
        by=actor(built.referent),
    )

    archive = export_person(person, by=PERSON)
    data = read_export(archive)
    summary = html.unescape(members(archive)[SUMMARY_NAME].decode())

    deleted = next(e for e in data["access_history"] if e["action"] == AuditAction.DOCUMENT_DELETED)
    older = data["access_history"][-1]
    assert (deleted["document_type"], deleted["document_type_label"]) == ("rib", "RIB")
    assert (older["document_type"], older["document_type_label"]) == ("", "")
    reads = [e for e in data["access_history"] if e["action"] == AuditAction.SECTION_VIEWED]
    assert reads and all(e["document_type"] == "" for e in reads)
    assert "A supprimé un papier : RIB" in summary
    assert "A regardé un papier : Mes papiers" in summary
    assert "A supprimé un papier : Mes papiers" not in summary


def test_the_summary_groups_the_reads_in_a_row_as_the_persons_space_does(built):
    referent = actor(built.referent)
    read_of(built.person, 12, referent)

    archive = export_person(built.person, by=PERSON)

    reads = [
        event
        for event in read_export(archive)["access_history"]
        if event["action"] == AuditAction.SECTION_VIEWED and event["actor"] == referent.label
    ]
    assert len(reads) == 13  # the data keeps every read: one before the others, then 12
    summary = html.unescape(members(archive)[SUMMARY_NAME].decode())
    history = summary[summary.index("Qui a regardé mon dossier") :]
    line = re.search(r"A regardé mon dossier 12 fois, à \d+ h \d\d\.<br>([^<]*)</td>", history)
    assert line is not None
    assert line.group(1) == "Ce qui a été regardé : Mon logement"
    assert history.count("A regardé mon dossier") == 1


def test_read_export_refuses_what_is_not_an_export():
    with pytest.raises(ExportUnreadable):
        read_export(b"pas un zip")
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as opened:
        opened.writestr(JSON_NAME, json.dumps({"format": "autre"}))
    with pytest.raises(ExportUnreadable):
        read_export(other.getvalue())


def test_read_export_refuses_a_later_version_of_the_format(archive):
    files = members(archive)
    data = json.loads(files[JSON_NAME])
    data["format_version"] = FORMAT_VERSION + 1
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as opened:
        for name, content in files.items():
            opened.writestr(name, json.dumps(data) if name == JSON_NAME else content)

    with pytest.raises(ExportUnreadable, match="version"):
        read_export(changed.getvalue())


def test_read_export_refuses_a_document_changed_inside_the_zip(archive):
    files = members(archive)
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as opened:
        for name, content in files.items():
            opened.writestr(name, content + b"x" if name.endswith(".png") else content)

    with pytest.raises(ExportUnreadable, match="empreinte"):
        read_export(changed.getvalue())


def test_it_links_a_checklist_line_to_no_paper_once_its_paper_is_deleted(built):
    line = built.procedure.checklist.get(document=built.documents["cni"])
    document_delete(document=built.documents["cni"], by=PERSON)

    data = read_export(export_person(built.person, by=PERSON))

    exported = {document["id"] for document in data["documents"]}
    [procedure] = data["procedures"]
    linked = [item["document_id"] for item in procedure["checklist"]]
    assert line.document_id == built.documents["cni"].pk
    assert built.documents["cni"].pk not in exported
    assert linked == [None, None]


def test_it_leaves_out_a_paper_the_object_storage_refuses_and_gives_the_rest(built, monkeypatch):
    storage = storages["documents"]
    refused = built.documents["rib"].versions.get().storage_name
    opening = storage.open

    def refusing(name, mode="rb"):
        if name == refused:
            raise ClientError({"Error": {"Code": "InternalError"}}, "GetObject")
        return opening(name, mode)

    monkeypatch.setattr(storage, "open", refusing)

    data = read_export(export_person(built.person, by=PERSON))

    by_id = {document["id"]: document for document in data["documents"]}
    assert by_id[built.documents["rib"].pk]["file"] is None
    assert by_id[built.documents["cni"].pk]["file"] is not None


def read_of(person: Person, count: int, by: Actor) -> None:
    audit_record_many(
        [
            Event(
                AuditAction.SECTION_VIEWED,
                person_id=person.pk,
                person_label=person.journal_label,
                category="logement",
            )
        ]
        * count,
        by=by,
    )


def test_it_writes_the_json_as_json_dumps_would(archive):
    text = members(archive)[JSON_NAME].decode()

    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    assert '"household": [\n    {\n      "id": ' in text
    assert '"break_glass": [\n' in text


def test_it_writes_the_json_of_an_empty_file_as_json_dumps_would():
    text = members(export_person(PersonFactory(), by=PERSON))[JSON_NAME].decode()

    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    assert '"notes": [],' in text


def test_it_gives_long_lists_whole_and_in_order_read_a_few_rows_at_a_time(built, monkeypatch):
    read_of(built.person, 5, actor(built.referent))
    NoteFactory(
        person=built.person,
        organisation=built.referent.organisation,
        author=built.referent.user,
        text="Dossier de logement déposé.",
        visibility=NoteVisibility.SHARED,
    )
    monkeypatch.setattr(snapshot, "ROWS_AT_ONCE", 2)
    monkeypatch.setattr(readable, "ROWS_PER_PAGE", 2)

    archive = export_person(built.person, by=PERSON)

    data = read_export(archive)
    journal = (
        AuditEvent.objects.for_file(built.person)
        .access_history()
        .order_by("seq")
        .values_list("created_at", "action", "category", "actor_label")
    )
    assert [
        (event["at"], event["action"], event["category"], event["actor"])
        for event in data["access_history"]
    ] == [(timezone.localtime(at).isoformat(), *rest) for at, *rest in journal]
    texts = [
        "Rendez-vous CAF pris pour le RSA.",
        "Aide au dossier de logement partagée.",
        "Dossier de logement déposé.",
    ]
    assert [note["text"] for note in data["notes"]] == texts
    summary = html.unescape(members(archive)[SUMMARY_NAME].decode())
    notes = summary[summary.index("Ce que les professionnels ont écrit") :]
    notes = notes[: notes.index("</section>")]
    assert notes.count('<div class="item">') == len(texts)
    assert [notes.index(text) for text in texts] == sorted(notes.index(text) for text in texts)
    history = summary[summary.index("Qui a regardé mon dossier") :]
    # The five reads in a row are one line of the summary, as in the person's space.
    assert history.count('<tr role="row"><td') == len(journal) - 4
    assert "A regardé mon dossier 5 fois" in history
    assert "<!--" not in summary


@pytest.mark.usefixtures("transactional_db")
@pytest.mark.django_db(transaction=True)
def test_it_gives_the_file_as_it_stood_at_one_moment():
    """A note written, a consent revoked and a paper added while the ZIP is being written
    are in none of its sections, and none of their journal rows is in its history."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite en mémoire : voir le test sur un fichier SQLite, ci-dessous")

    assert export_changed_meanwhile() == AS_IT_STOOD


def test_it_gives_the_file_as_it_stood_at_one_moment_from_a_sqlite_file(tmp_path):
    report = report_of("tests.portability.meanwhile", str(tmp_path / "relais.sqlite3"))

    assert report == AS_IT_STOOD


@pytest.mark.usefixtures("transactional_db")
@pytest.mark.django_db(transaction=True)
def test_it_reads_the_file_in_one_read_only_transaction(built):
    """On SQLite, a deferred transaction: it reads in one snapshot and takes no write lock,
    which Relais's immediate transactions take at their start. The next transaction is
    immediate again."""
    prepared = export_prepare(built.person, by=PERSON)

    with CaptureQueriesContext(connection) as queries:
        read_export(b"".join(prepared.chunks()))

    opening = {
        "sqlite": ["BEGIN DEFERRED"],
        "postgresql": ["BEGIN", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"],
    }[connection.vendor]
    statements = [query["sql"] for query in queries.captured_queries]
    assert statements[: len(opening)] == opening
    assert sum(statement.startswith("BEGIN") for statement in statements) == 1
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        Person.objects.filter(pk=built.person.pk).update(phone="0612345678")
    if connection.vendor == "sqlite":
        assert queries.captured_queries[0]["sql"] == "BEGIN IMMEDIATE"


# A file read 5,000 times: held whole, its export took 12 MB of Python memory; written as
# it is read, 3 MB, whatever the length of its history.
PEAK_BOUND = 6 * 1024 * 1024


def test_its_memory_does_not_grow_with_the_history():
    person = PersonFactory()
    read_of(person, 5000, Actor(label="Une professionnelle", organisation_label="CCAS"))

    tracemalloc.start()
    try:
        sent = sum(len(piece) for piece in export_prepare(person, by=PERSON).chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sent > 0
    assert peak < PEAK_BOUND, f"{peak / 1024 / 1024:.1f} Mo"
