"""A person's file with something in every part of it, built through the services, for
the export tests and for the pages of the person's space."""

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter

from relais.audit.context import Actor
from relais.consent.access import Professional, file_access
from relais.consent.services import block_add, break_glass_open, section_viewed
from relais.documents.models import Document
from relais.documents.services import document_upload
from relais.organisations.models import Membership
from relais.persons.categories import DataCategory
from relais.persons.models import (
    Employment,
    EmploymentStatus,
    HealthRecord,
    Housing,
    HousingStatus,
    NoteVisibility,
    Person,
    SocialCoverage,
)
from relais.persons.services import nir_set
from relais.portal.models import PersonAccount
from relais.procedures.models import Autonomy, Procedure, ProcedureStatus
from relais.procedures.services import (
    checklist_link,
    procedure_open,
    procedure_step_record,
    procedure_transition,
)
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    NoteFactory,
    PersonFactory,
    ReferentFactory,
)
from tests.portal.factories import PersonAccountFactory
from tests.procedures.factories import ProcedureTypeFactory

NIR = "184066219300108"
# Another person's: two files never share a NIR.
OTHER_NIR = "184067800608459"


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30), color: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def professional(membership: Membership) -> Professional:
    return Professional.acting(membership.user, membership)


def actor(membership: Membership) -> Actor:
    return Actor(
        user_id=membership.user_id,
        label=membership.user.get_full_name(),
        organisation_id=membership.organisation_id,
        organisation_label=membership.organisation.name,
        profession=membership.get_profession_display(),
    )


def upload(person: Person, kind: str, name: str, content: bytes, by: Actor, **dates) -> Document:
    content_type = "application/pdf" if name.endswith(".pdf") else "image/png"
    return document_upload(
        person=person,
        kind=kind,
        title=dates.pop("title", ""),
        issued_on=dates.get("issued_on"),
        expires_on=dates.get("expires_on"),
        files=[SimpleUploadedFile(name, content, content_type=content_type)],
        uploaded_by_id=by.user_id,
        by=by,
    )


@dataclass
class FullFile:
    person: Person
    account: PersonAccount
    referent: Membership
    stranger: Membership
    procedure: Procedure
    documents: dict[str, Document]
    # The bytes sent for the PDFs, kept as they are (images are re-encoded on upload).
    uploaded_pdfs: dict[int, bytes] = field(default_factory=dict)


def full_file(*, first_names: str = "Léa", birth_name: str = "Dupré", nir: str = NIR) -> FullFile:
    """Léa's file: followed by a CCAS whose referent read it, opened once by break-glass by
    another organisation, with a bit of everything."""
    referent = MembershipFactory(organisation=OrganisationFactory(name="CCAS de Calais"))
    stranger = MembershipFactory(organisation=OrganisationFactory(name="CHRS Les Dunes"))
    person = PersonFactory(
        first_names=first_names,
        birth_name=birth_name,
        address_line="3 rue des Mouettes",
        postal_code="62100",
        commune_code="62193",
    )
    account = PersonAccountFactory(person=person)
    by = actor(referent)
    ConsentFactory(person=person, organisation=referent.organisation)
    ConsentFactory(person=person, organisation=OrganisationFactory(), revoked=True)
    ReferentFactory(person=person, organisation=referent.organisation, professional=referent.user)
    nir_set(person=person, nir=nir, by=by)
    child = HouseholdMemberFactory(person=person, first_names="Noé", last_name="Dupré")
    MonthlyResourceFactory(person=person, kind="rsa", amount=Decimal("635.71"))
    MonthlyResourceFactory(person=person, member=child, kind="bourse", amount=Decimal("120.00"))
    Housing.objects.create(
        person=person,
        status=HousingStatus.SOCIAL_TENANT,
        monthly_rent=Decimal("412.50"),
        since=date(2021, 3, 1),
    )
    Employment.objects.create(person=person, status=EmploymentStatus.JOBSEEKER)
    SocialCoverage.objects.create(person=person, regime="general", complementary="css")
    HealthRecord.objects.create(person=person, rqth=True, remarks="Dossier MDPH à renouveler.")
    NoteFactory(
        person=person,
        organisation=referent.organisation,
        author=referent.user,
        text="Rendez-vous CAF pris pour le RSA.",
        visibility=NoteVisibility.ORGANISATION,
    )
    NoteFactory(
        person=person,
        organisation=referent.organisation,
        author=referent.user,
        text="Aide au dossier de logement partagée.",
        visibility=NoteVisibility.SHARED,
    )
    NoteFactory(
        person=person,
        organisation=referent.organisation,
        author=referent.user,
        text="Mémo personnel du référent.",
        visibility=NoteVisibility.AUTHOR,
    )
    today = timezone.localdate()
    cni_pdf, certificate_pdf = pdf_bytes(), pdf_bytes()
    identity = upload(person, "cni", "cni.pdf", cni_pdf, by, expires_on=today + timedelta(days=10))
    rib = upload(person, "rib", "rib.png", png_bytes(), by)
    certificate = upload(
        person,
        "certificat_medical",
        "certificat.pdf",
        certificate_pdf,
        by,
        issued_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=35),
    )
    procedure_type = ProcedureTypeFactory(title="Demander le RSA", organisme="CAF")
    procedure = procedure_open(
        person=person,
        procedure_type=procedure_type,
        organisation=referent.organisation,
        by=by,
        due_on=today + timedelta(days=20),
    )
    procedure_transition(procedure=procedure, to_status=ProcedureStatus.IN_PROGRESS, by=by)
    procedure_step_record(procedure=procedure, step_index=0, autonomy=Autonomy.WITH_PERSON, by=by)
    checklist_link(item=procedure.checklist.order_by("pk").first(), document=identity, by=by)
    block_add(
        person=person,
        organisation_id=OrganisationFactory(name="Bailleur Côte d'Opale").pk,
        professional_id=None,
        by=Actor(label="La personne"),
    )
    pro = professional(referent)
    section_viewed(access=file_access(pro, person.pk), category=DataCategory.HOUSING, by=by)
    outsider = professional(stranger)
    break_glass_open(
        person=person,
        pro=outsider,
        reason="Hospitalisation en urgence, le logement doit être protégé.",
        by=actor(stranger),
    )
    section_viewed(
        access=file_access(outsider, person.pk),
        category=DataCategory.IDENTITY,
        by=actor(stranger),
    )
    return FullFile(
        person=person,
        account=account,
        referent=referent,
        stranger=stranger,
        procedure=procedure,
        documents={"cni": identity, "rib": rib, "certificat_medical": certificate},
        uploaded_pdfs={identity.pk: cni_pdf, certificate.pk: certificate_pdf},
    )
