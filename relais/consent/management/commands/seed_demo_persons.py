"""Fictitious persons for the demo: files with households, resources, housing and
consents, opened through the same services as in real use (so the journal shows them).
Idempotent; refused outside demo mode."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from relais.audit.context import Actor
from relais.consent.access import Professional
from relais.consent.models import ConsentDuration, ConsentMethod
from relais.consent.services import consent_grant, file_open
from relais.organisations.models import Membership, Role
from relais.persons.categories import DataCategory
from relais.persons.models import (
    HouseholdMember,
    Housing,
    HousingStatus,
    MonthlyResource,
    Person,
    Relation,
    ResourceKind,
)
from relais.persons.services import duplicates_of, note_add

SHARED = [
    DataCategory.IDENTITY,
    DataCategory.FAMILY,
    DataCategory.RESOURCES,
    DataCategory.HOUSING,
    DataCategory.EMPLOYMENT,
    DataCategory.SOCIAL_COVERAGE,
    DataCategory.NOTES,
    DataCategory.PROCEDURES,
    DataCategory.DOCUMENTS,
]

# (first names, birth name, birth date, phone, referent e-mail, housing, RSA amount,
#  children, shared with the organisation of this second professional)
PERSONS = [
    ("Mélanie", "Carpentier", date(1988, 3, 14), "0600000001", "karim.benali", HousingStatus.SOCIAL_TENANT, 635, 2, "laura.petit"),
    ("Rachid", "Bensaïd", date(1975, 11, 2), "", "karim.benali", HousingStatus.HOSTED, 607, 0, None),
    ("Josiane", "Lemaître", date(1958, 7, 30), "0600000003", "claire.dumont", HousingStatus.PRIVATE_TENANT, 0, 0, None),
    ("Kevin", "Dufresne", date(1999, 1, 21), "0600000004", "nadia.haddad", HousingStatus.EMERGENCY, 607, 0, "karim.benali"),
    ("Aminata", "Koné", date(1992, 5, 9), "0600000005", "aminata.diallo", HousingStatus.EMERGENCY, 0, 1, None),
    ("Sylvain", "Hénin", date(1969, 9, 3), "", "mehdi.slimani", HousingStatus.PRIVATE_TENANT, 607, 0, "antoine.lambert"),
    ("Nathalie", "Vérove", date(1981, 12, 12), "0600000007", "elodie.francois", HousingStatus.SOCIAL_TENANT, 954, 3, "laura.petit"),
    ("Gérard", "Lecomte", date(1951, 4, 18), "0600000008", "lina.rahmani", HousingStatus.HOSTEL, 0, 0, "chloe.garnier"),
    ("Samira", "Ait-Kaci", date(1995, 8, 27), "0600000009", "yacine.amrani", HousingStatus.HOSTED, 635, 1, None),
    ("Dylan", "Marquette", date(2003, 2, 5), "", "antoine.lambert", HousingStatus.HOSTED, 0, 0, None),
    ("Françoise", "Delcourt", date(1963, 10, 24), "0600000011", "ines.moreau", HousingStatus.PRIVATE_TENANT, 0, 0, None),
    ("Ibrahima", "Sow", date(1987, 6, 16), "0600000012", "fatima.zeroual", HousingStatus.HOSTEL, 607, 0, "sarah.dubois"),
]  # fmt: skip


class Command(BaseCommand):
    help = "Crée les dossiers fictifs de démonstration (mode démonstration seulement)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.RELAIS_DEMO_MODE:
            raise CommandError("Les données de démonstration sont interdites hors du mode démo.")
        created = 0
        for row in PERSONS:
            with transaction.atomic():
                created += self._person(*row)
        self.stdout.write(f"{created} dossier(s) de démonstration créé(s).")

    def _professional(self, email_prefix: str) -> tuple[Professional, Actor, str]:
        """The demo professional, as acting in their organisation, and that organisation's
        town, where the persons they follow live."""
        membership = (
            Membership.objects.active()
            .select_related("user", "organisation")
            .filter(user__email__startswith=email_prefix + "@")
            .exclude(role=Role.RECEPTION)
            .order_by("pk")
            .first()
        )
        if membership is None:
            raise CommandError(f"Professionnel de démonstration introuvable : {email_prefix}")
        pro = Professional.acting(membership.user, membership)
        actor = Actor(
            user_id=pro.user_id,
            label=pro.label,
            organisation_id=pro.organisation_id,
            organisation_label=pro.organisation_label,
            profession=pro.profession_label,
        )
        return pro, actor, membership.organisation.commune_name

    def _person(
        self,
        first_names: str,
        birth_name: str,
        birth_date: date,
        phone: str,
        referent: str,
        housing: str,
        rsa: int,
        children: int,
        shared_with: str | None,
    ) -> int:
        if duplicates_of(
            birth_name=birth_name, usage_name="", first_names=first_names, birth_date=birth_date
        ).exists():
            return 0
        pro, actor, town = self._professional(referent)
        person = file_open(
            identity={
                "first_names": first_names,
                "birth_name": birth_name,
                "birth_date": birth_date,
                "phone": phone,
                "commune_name": town,
            },
            nir="",
            pro=pro,
            categories=SHARED,
            purpose="Accompagnement social et aide aux démarches administratives",
            duration=ConsentDuration.YEAR,
            method=ConsentMethod.SIGNED,
            by=actor,
        )
        Housing.objects.create(person=person, status=housing)
        month = timezone.localdate().replace(day=1)
        if rsa:
            MonthlyResource.objects.create(
                person=person, month=month, kind=ResourceKind.RSA, amount=Decimal(rsa)
            )
        for index in range(children):
            HouseholdMember.objects.create(
                person=person,
                relation=Relation.CHILD,
                first_names=["Léo", "Inaya", "Tom"][index % 3],
                last_name=birth_name,
                birth_date=date(2012 + 3 * index, 3, 1),
                is_dependent=True,
            )
        note_add(
            person=person,
            author_id=pro.user_id,
            organisation_id=pro.organisation_id,
            text="Premier rendez-vous : point sur les droits et les papiers à réunir.",
            visibility="structure",
            confirmed=False,
            by=actor,
        )
        if shared_with:
            other, _, _ = self._professional(shared_with)
            consent_grant(
                person=person,
                organisation_id=other.organisation_id,
                professional_id=None,
                categories=SHARED,
                purpose="Suivi conjoint des démarches",
                duration=ConsentDuration.SIX_MONTHS,
                method=ConsentMethod.SIGNED,
                recorded_by_id=pro.user_id,
                by=actor,
            )
        Person.objects.filter(pk=person.pk).update(last_contact_at=timezone.now())
        return 1
