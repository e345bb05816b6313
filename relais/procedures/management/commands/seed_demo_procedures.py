"""Demo procedures on the fictitious persons' files: opened, moved and documented through
the same services as in real use, at dates in the past so that the lists and the measures
have something to show. Idempotent; refused outside demo mode."""

import io
from datetime import date, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from pypdf import PdfWriter

from relais.audit.context import Actor
from relais.consent.models import Consent
from relais.documents.models import Document
from relais.documents.services import document_upload
from relais.organisations.models import Membership
from relais.persons.models import Person
from relais.procedures.catalogue import load_catalogue
from relais.procedures.measures import completeness
from relais.procedures.models import Autonomy, Procedure, ProcedureStatus, ProcedureType
from relais.procedures.services import (
    checklist_link,
    procedure_open,
    procedure_step_record,
    procedure_transition,
)

S = ProcedureStatus
# (birth name, catalogue entry, days ago it was asked for, the moves it made since, how
# its first steps were done)
DEMO = [
    ("Carpentier", "rsa-declaration-trimestrielle", 20, [S.IN_PROGRESS], [Autonomy.WITH_PERSON]),
    ("Carpentier", "complementaire-sante-solidaire", 75, [S.IN_PROGRESS, S.SUBMITTED, S.AWAITING], [Autonomy.WITH_PERSON, Autonomy.PERSON_ALONE]),
    ("Bensaïd", "domiciliation", 200, [S.IN_PROGRESS, S.SUBMITTED, S.GRANTED], [Autonomy.FOR_PERSON]),
    ("Bensaïd", "rsa-demande", 30, [S.IN_PROGRESS, S.MISSING_DOCUMENTS], [Autonomy.FOR_PERSON, Autonomy.WITH_PERSON]),
    ("Dufresne", "france-travail-inscription", 10, [], []),
    ("Dufresne", "hebergement-urgence", 40, [S.IN_PROGRESS, S.SUBMITTED, S.REFUSED], [Autonomy.WITH_PERSON]),
    ("Lemaître", "aspa-demande", 120, [S.IN_PROGRESS, S.SUBMITTED, S.AWAITING], [Autonomy.WITH_PERSON, Autonomy.WITH_PERSON]),
    ("Koné", "allocations-familiales", 60, [S.IN_PROGRESS, S.SUBMITTED, S.GRANTED], [Autonomy.WITH_PERSON, Autonomy.PERSON_ALONE]),
    ("Vérove", "cheque-energie", 15, [S.IN_PROGRESS], [Autonomy.PERSON_ALONE]),
]  # fmt: skip


class Command(BaseCommand):
    help = "Ouvre des démarches fictives sur les dossiers de démonstration (mode démo seulement)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.RELAIS_DEMO_MODE:
            raise CommandError("Les données de démonstration sont interdites hors du mode démo.")
        load_catalogue()
        opened = 0
        for birth_name, slug, days_ago, moves, autonomy in DEMO:
            with transaction.atomic():
                opened += self._procedure(birth_name, slug, days_ago, moves, autonomy)
        self.stdout.write(f"{opened} démarche(s) de démonstration ouverte(s).")

    def _procedure(
        self,
        birth_name: str,
        slug: str,
        days_ago: int,
        moves: list[ProcedureStatus],
        autonomy: list[Autonomy],
    ) -> int:
        person = Person.objects.filter(birth_name=birth_name).first()
        procedure_type = ProcedureType.objects.filter(slug=slug, is_active=True).first()
        if person is None or procedure_type is None:
            return 0
        if person.procedures.filter(procedure_type=procedure_type).exists():
            return 0
        consent = (
            Consent.objects.filter(person=person)
            .select_related("organisation", "recorded_by")
            .order_by("pk")
            .first()
        )
        if consent is None or consent.recorded_by is None:
            return 0
        membership = Membership.objects.filter(
            user=consent.recorded_by, organisation_id=consent.organisation_id
        ).first()
        actor = Actor(
            user_id=consent.recorded_by.pk,
            label=consent.recorded_by.get_full_name(),
            organisation_id=consent.organisation_id,
            organisation_label=consent.organisation.name,
            profession=membership.profession_label if membership else "",
        )
        today = timezone.localdate()
        requested_on = today - timedelta(days=days_ago)
        procedure = procedure_open(
            person=person,
            procedure_type=procedure_type,
            organisation=consent.organisation,
            by=actor,
            requested_on=requested_on,
            due_on=today + timedelta(days=5) if procedure_type.recurrence_months else None,
        )
        for index, status in enumerate(moves, start=1):
            if status == S.SUBMITTED:
                self._papers(procedure, actor)
            procedure = procedure_transition(
                procedure=procedure,
                to_status=status,
                by=actor,
                on=self._day(requested_on, today, index, len(moves)),
                refusal_reason="Places saturées ce soir-là : nouvelle demande à faire au 115."
                if status == S.REFUSED
                else "",
            )
        for index, mode in enumerate(autonomy):
            procedure_step_record(
                procedure=procedure,
                step_index=index,
                autonomy=mode,
                by=actor,
                reason="La personne n'a ni ordinateur ni téléphone pour se connecter."
                if mode == Autonomy.FOR_PERSON
                else "",
                done_on=requested_on + timedelta(days=index),
            )
        return 1

    @staticmethod
    def _papers(procedure: Procedure, actor: Actor) -> None:
        """Before it is submitted, each paper still missing is linked, from the file or
        added to it issued the day of the request: one of two alternatives is enough."""
        measure = completeness(procedure)
        covered: set[int] = set()
        for item in measure.missing:
            if item.pk in covered:
                continue
            covered.update(
                other.pk for pair in measure.alternatives if item in pair for other in pair
            )
            document = Document.objects.present().filter(
                person=procedure.person, kind=item.kind
            ).first() or document_upload(
                person=procedure.person,
                kind=item.kind,
                title="",
                issued_on=procedure.requested_on,
                expires_on=None,
                files=[SimpleUploadedFile("piece.pdf", _blank_pdf(), "application/pdf")],
                uploaded_by_id=actor.user_id,
                by=actor,
            )
            checklist_link(item=item, document=document, by=actor)

    @staticmethod
    def _day(start: date, end: date, index: int, count: int) -> date:
        """Moves spread evenly between the request and today."""
        return start + (end - start) * index // (count + 1)


def _blank_pdf() -> bytes:
    """A one-page blank PDF: the demo's papers stand for real ones."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
