"""Synthetic load data: organisations, professionals and N persons with households,
resources, notes, referents and consents. For benchmarks only: the names are random
combinations of common French names, and no journal row is written for them.
"""

import json
import random
import time
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from stdnum import luhn

from relais.accounts.models import User
from relais.consent.models import Consent, ConsentDuration, ConsentMethod
from relais.consent.services import consent_expiry
from relais.organisations.models import (
    SECTOR_OF_KIND,
    Membership,
    Organisation,
    OrganisationKind,
    Profession,
    Role,
)
from relais.persons.categories import DataCategory
from relais.persons.models import (
    HouseholdMember,
    MonthlyResource,
    Note,
    NoteVisibility,
    Person,
    PersonStatus,
    Referent,
    Relation,
    ResourceKind,
)
from relais.persons.normalisation import name_key

FIRST_NAMES = (
    "Marie Jean Nathalie Pierre Isabelle Michel Sylvie Philippe Catherine Alain Sandrine Nicolas "
    "Céline Stéphane Aurélie Julien Émilie Sébastien Julie Christophe Léa Thomas Camille Mohamed "
    "Fatima Karim Nadia Yasmine Mamadou Aïcha Inès Lucas Chloé Hugo Manon Léo Jade Louis Zoé "
    "Gabriel Sarah Adam Lina Noah Emma Rayan Anaïs Théo Océane"
).split()
LAST_NAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont "
    "Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guerin Muller Henry "
    "Roussel Nicolas Perrin Morin Mathieu Clement Gauthier Dumont Lopez Fontaine Chevalier Robin "
    "Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noel "
    "Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard Marie Barbier Brun Dumas Brunet "
    "Schmitt Leroux Colin Fernandez Pierre Renard Arnaud Rolland Caron Aubert Giraud Leclerc "
    "Vidal Bourgeois Renaud Lemoine Picard Gaillard Philippe Leclercq Lacroix Fabre Dupuis "
    "Olivier Rodriguez Da-Silva Hubert Louis Charles Guillot Rivière Le-Gall Guillaume Adam Rey "
    "Moulin Gonzalez Berger Lecomte Menard Fleury Deschamps Carpentier Julien Benoit Paris "
    "Maillard Marchal Aubry Vasseur Le-Roux Renault Jacquet Collet Prevost Poirier Charpentier "
    "Royer Huet Baron Dupuy Pons Paul Laine Carre Breton Remy Schneider Perrot Guyot Barre Marty "
    "Cousin Benali Haddad Diallo Traoré Nguyen Kaci Mansouri Amrani Slimani Zeroual Rahmani"
).split()
ORGANISATION_KINDS = [
    OrganisationKind.CCAS,
    OrganisationKind.UTPAS_MDS,
    OrganisationKind.CHRS,
    OrganisationKind.CAF,
    OrganisationKind.SAVS,
    OrganisationKind.CENTRE_SOCIAL,
]
PERSONS_PER_ORGANISATION = 1000
CHUNK = 10_000


def load_siret(index: int) -> str:
    body = f"7{index:07d}"
    siren = body + luhn.calc_check_digit(body)
    siret_body = f"{siren}0001"
    return siret_body + luhn.calc_check_digit(siret_body)


class Command(BaseCommand):
    help = "Génère des données de charge fictives (bancs d'essai). Refusé en production."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--persons", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2018)

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not getattr(settings, "RELAIS_ALLOW_LOAD_DATA", False):
            raise CommandError(
                "Les données de charge sont réservées au développement et aux bancs."
            )
        count = int(options["persons"])  # type: ignore[call-overload]
        if count < 1:
            raise CommandError("--persons doit être un nombre positif.")
        self.random = random.Random(options["seed"])  # noqa: S311 — synthetic data
        started = time.monotonic()
        organisations, professionals = self._organisations(count)
        # SQLite refuses to change the safety level inside a transaction (a caller's atomic
        # block): the level is lowered only outside one, and put back as it was found.
        unsynced = connection.vendor == "sqlite" and not connection.in_atomic_block
        if unsynced:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                synchronous = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous=OFF")
        made = 0
        try:
            while made < count:
                size = min(CHUNK, count - made)
                with transaction.atomic():
                    self._chunk(made, size, organisations, professionals)
                made += size
                self.stdout.write(f"\r{made:,} personnes…", ending="")
                self.stdout.flush()
        finally:
            if unsynced:
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA synchronous={int(synchronous)}")
        if connection.vendor == "postgresql":
            # Fresh statistics and visibility map, as autovacuum would make them later:
            # without statistics, the planner guesses a small table's plans for a large
            # one; without the map, it cannot answer from an index alone (a portfolio's
            # thousand consents would be a thousand table pages instead of fifteen index
            # pages). VACUUM cannot run inside a transaction (a caller's atomic block): there,
            # the statistics only. SQLite keeps none unless asked, as a deployed Relais does
            # not ask.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(f"\n{count:,} personnes générées en {time.monotonic() - started:.0f} s.")

    def _organisations(self, count: int) -> tuple[list[Organisation], dict[int, int]]:
        wanted = max(1, -(-count // PERSONS_PER_ORGANISATION))
        existing = Organisation.objects.count()
        new = []
        for index in range(existing, wanted):
            kind = ORGANISATION_KINDS[index % len(ORGANISATION_KINDS)]
            new.append(
                Organisation(
                    name=f"Structure de charge {index + 1}",
                    siret=load_siret(index + 1),
                    kind=kind,
                    sector=SECTOR_OF_KIND[kind],
                    commune_code="59350",
                    commune_name="Lille",
                    departement="59",
                )
            )
        Organisation.objects.bulk_create(new, batch_size=2000)
        organisations = list(Organisation.objects.order_by("pk")[:wanted])
        professionals: dict[int, int] = dict(
            Membership.objects.filter(organisation__in=organisations).values_list(
                "organisation_id", "user_id"
            )
        )
        users, memberships = [], []
        for organisation in organisations:
            if organisation.pk in professionals:
                continue
            users.append(
                User(
                    email=f"charge{organisation.pk}@relais.test",
                    first_name="Professionnel",
                    last_name=f"Charge {organisation.pk}",
                    password=make_password(None),
                )
            )
        User.objects.bulk_create(users, batch_size=2000)
        by_email = dict(
            User.objects.filter(email__in=[u.email for u in users]).values_list("email", "pk")
        )
        for organisation in organisations:
            if organisation.pk not in professionals:
                user_id = by_email[f"charge{organisation.pk}@relais.test"]
                memberships.append(
                    Membership(
                        user_id=user_id,
                        organisation=organisation,
                        role=Role.MANAGER,
                        profession=Profession.ASS,
                    )
                )
                professionals[organisation.pk] = user_id
        Membership.objects.bulk_create(memberships, batch_size=2000)
        return organisations, professionals

    def _insert(self, model: type, columns: list[str], rows: list[tuple[object, ...]]) -> None:
        """Plain INSERTs: model instances and bulk_create would cost several times more for
        millions of rows."""
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608

    def _next_id(self, model: type) -> int:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    def _chunk(
        self,
        offset: int,
        size: int,
        organisations: list[Organisation],
        professionals: dict[int, int],
    ) -> None:
        rnd = self.random
        ops = connection.ops
        moment = timezone.now()
        now = ops.adapt_datetimefield_value(moment)
        # A year as `consent_grant` counts it: twelve months, not 365 days.
        expiry = ops.adapt_datetimefield_value(consent_expiry(moment, ConsentDuration.YEAR))
        today = timezone.localdate()
        months = [
            (today.replace(day=1) - timedelta(days=28 * back)).replace(day=1) for back in range(3)
        ]
        categories = json.dumps(
            [
                DataCategory.IDENTITY.value,
                DataCategory.FAMILY.value,
                DataCategory.RESOURCES.value,
                DataCategory.HOUSING.value,
                DataCategory.NOTES.value,
            ]
        )
        person_id = self._next_id(Person)
        member_id = self._next_id(HouseholdMember)
        persons, members, resources, notes, referents, consents = [], [], [], [], [], []
        for index in range(offset, offset + size):
            first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
            birth = date(1940, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 65))
            organisation_id = organisations[index % len(organisations)].pk
            professional_id = professionals[organisation_id]
            persons.append(
                (person_id, first, last, "", "", birth, "", "", "", "", "", "", "59350", "Lille",
                 "", "", f"{index:07d}"[-7:], "", name_key(last), "", name_key(first), False,
                 PersonStatus.ACTIVE.value, now, organisation_id, now)
            )  # fmt: skip
            for _ in range(rnd.randrange(0, 3)):
                members.append(
                    (member_id, person_id, Relation.CHILD.value, rnd.choice(FIRST_NAMES), "",
                     date(2008, 1, 1) + timedelta(days=rnd.randrange(0, 6000)), True)
                )  # fmt: skip
                member_id += 1
            for month in months:
                kind = rnd.choice([ResourceKind.SALARY, ResourceKind.RSA, ResourceKind.ARE])
                resources.append((person_id, month, kind.value, str(rnd.randrange(400, 1800))))
            notes.append(
                (person_id, professional_id, organisation_id, now,
                 "Rendez-vous de suivi : point sur les démarches en cours.",
                 NoteVisibility.ORGANISATION.value, False)
            )  # fmt: skip
            referents.append((person_id, organisation_id, professional_id, today))
            consents.append(
                (person_id, organisation_id, categories, "Accompagnement social",
                 ConsentDuration.YEAR.value, ConsentMethod.SIGNED.value, now, expiry,
                 professional_id, "")
            )  # fmt: skip
            person_id += 1
        self._insert(
            Person,
            ["id", "first_names", "birth_name", "usage_name", "sex", "birth_date", "birth_place",
             "nationality", "phone", "email", "address_line", "postal_code", "commune_code",
             "commune_name", "domiciliation", "nir_digest", "caf_number", "france_travail_id",
             "birth_name_key", "usage_name_key", "first_names_key", "refuses_break_glass",
             "status", "created_at", "created_by_organisation_id", "last_contact_at"],
            persons,
        )  # fmt: skip
        self._insert(
            HouseholdMember,
            [
                "id",
                "person_id",
                "relation",
                "first_names",
                "last_name",
                "birth_date",
                "is_dependent",
            ],
            members,
        )
        self._insert(MonthlyResource, ["person_id", "month", "kind", "amount"], resources)
        self._insert(
            Note,
            ["person_id", "author_id", "organisation_id", "created_at", "text", "visibility",
             "sensitive_confirmed"],
            notes,
        )  # fmt: skip
        self._insert(
            Referent, ["person_id", "organisation_id", "professional_id", "since"], referents
        )
        self._insert(
            Consent,
            ["person_id", "organisation_id", "categories", "purpose", "duration", "method",
             "starts_at", "expires_at", "recorded_by_id", "revoked_by_label"],
            consents,
        )  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Person, HouseholdMember):
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT MAX(id) FROM {table}))"
                    )
