"""Fictitious demo data: the study's five towns, their organisations and professionals.

Idempotent: running it twice changes nothing. Refused outside demo mode.
"""

import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from stdnum import luhn

from relais.accounts.models import User
from relais.accounts.services import demo_totp_device_ensure
from relais.audit.context import SYSTEM
from relais.organisations.models import Membership, Organisation, OrganisationKind, Profession, Role
from relais.organisations.services import organisation_create

DEMO_PASSWORD = "Relais-demo-Hauts-de-France-2026"  # noqa: S105 — documented demo login
DEMO_DOMAIN = "demo.relais.test"

TOWNS = {
    "62193": "Calais",
    "59606": "Valenciennes",
    "80021": "Amiens",
    "02691": "Saint-Quentin",
    "60175": "Creil",
}


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    kind: str
    commune_code: str


ORGANISATIONS = [
    DemoOrganisation("ccas-calais", "CCAS de Calais", OrganisationKind.CCAS, "62193"),
    DemoOrganisation("chrs-calais", "CHRS Le Phare", OrganisationKind.CHRS, "62193"),
    DemoOrganisation(
        "cs-calais", "Centre social des Fontinettes", OrganisationKind.CENTRE_SOCIAL, "62193"
    ),
    DemoOrganisation(
        "mds-valenciennes", "MDS du Valenciennois", OrganisationKind.UTPAS_MDS, "59606"
    ),
    DemoOrganisation(
        "caf-valenciennes", "CAF du Nord — accueil de Valenciennes", OrganisationKind.CAF, "59606"
    ),
    DemoOrganisation("savs-valenciennes", "SAVS L'Escaut", OrganisationKind.SAVS, "59606"),
    DemoOrganisation("ccas-amiens", "CCAS d'Amiens", OrganisationKind.CCAS, "80021"),
    DemoOrganisation("cada-amiens", "CADA de la Somme", OrganisationKind.CADA, "80021"),
    DemoOrganisation(
        "mednum-amiens", "Espace numérique Saint-Leu", OrganisationKind.MEDIATION_NUMERIQUE, "80021"
    ),
    DemoOrganisation(
        "ft-saint-quentin", "France Travail Saint-Quentin", OrganisationKind.FRANCE_TRAVAIL, "02691"
    ),
    DemoOrganisation(
        "pf-saint-quentin",
        "Pension de famille Les Tilleuls",
        OrganisationKind.PENSION_DE_FAMILLE,
        "02691",
    ),
    DemoOrganisation(
        "cpam-creil", "CPAM de l'Oise — accueil de Creil", OrganisationKind.CPAM, "60175"
    ),
    DemoOrganisation(
        "mjpm-creil",
        "Service tutélaire du Bassin creillois",
        OrganisationKind.SERVICE_TUTELAIRE,
        "60175",
    ),
]

# (first name, last name, organisation key, role, profession)
PROFESSIONALS = [
    ("Claire", "Dumont", "ccas-calais", Role.MANAGER, Profession.ASS),
    ("Karim", "Benali", "ccas-calais", Role.PROFESSIONAL, Profession.CESF),
    ("Sophie", "Lefebvre", "ccas-calais", Role.RECEPTION, Profession.RECEPTION_AGENT),
    ("Julien", "Caron", "chrs-calais", Role.MANAGER, Profession.ES),
    ("Nadia", "Haddad", "chrs-calais", Role.PROFESSIONAL, Profession.ME),
    ("Thomas", "Vasseur", "cs-calais", Role.MANAGER, Profession.DIGITAL_ADVISER),
    ("Amandine", "Lemaire", "mds-valenciennes", Role.MANAGER, Profession.ASS),
    ("Mehdi", "Slimani", "mds-valenciennes", Role.PROFESSIONAL, Profession.ASS),
    ("Élodie", "Francois", "mds-valenciennes", Role.PROFESSIONAL, Profession.TISF),
    ("Patrick", "Delattre", "caf-valenciennes", Role.MANAGER, Profession.OTHER),
    ("Laura", "Petit", "caf-valenciennes", Role.PROFESSIONAL, Profession.ASS),
    ("Hugo", "Deschamps", "savs-valenciennes", Role.MANAGER, Profession.ES),
    ("Inès", "Moreau", "savs-valenciennes", Role.PROFESSIONAL, Profession.AES),
    ("Céline", "Roussel", "ccas-amiens", Role.MANAGER, Profession.CESF),
    ("Yacine", "Amrani", "ccas-amiens", Role.PROFESSIONAL, Profession.ASS),
    ("Marion", "Leroy", "cada-amiens", Role.MANAGER, Profession.ES),
    ("Aminata", "Diallo", "cada-amiens", Role.PROFESSIONAL, Profession.ETS),
    ("Lucas", "Bernard", "mednum-amiens", Role.MANAGER, Profession.DIGITAL_MEDIATOR),
    ("Sarah", "Dubois", "ft-saint-quentin", Role.MANAGER, Profession.CIP),
    ("Antoine", "Lambert", "ft-saint-quentin", Role.PROFESSIONAL, Profession.CIP),
    ("Fatima", "Zeroual", "pf-saint-quentin", Role.MANAGER, Profession.ME),
    ("Nicolas", "Martin", "cpam-creil", Role.MANAGER, Profession.OTHER),
    ("Chloé", "Garnier", "cpam-creil", Role.PROFESSIONAL, Profession.NURSE),
    ("Stéphane", "Fournier", "mjpm-creil", Role.MANAGER, Profession.MJPM),
    ("Lina", "Rahmani", "mjpm-creil", Role.PROFESSIONAL, Profession.MJPM),
]
# A professional working for two organisations, to show the choice after login.
SECOND_MEMBERSHIPS = [("Karim", "Benali", "cs-calais", Role.PROFESSIONAL, Profession.CESF)]


def demo_siret(index: int) -> str:
    """A fictitious SIRET whose SIREN and SIRET keys are both valid (Luhn)."""
    siren_body = f"9990{index:04d}"
    siren = siren_body + luhn.calc_check_digit(siren_body)
    siret_body = f"{siren}0001"
    return siret_body + luhn.calc_check_digit(siret_body)


def demo_email(first_name: str, last_name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", f"{first_name}.{last_name}".lower())
    ascii_name = decomposed.encode("ascii", "ignore").decode()
    return f"{ascii_name}@{DEMO_DOMAIN}"


class Command(BaseCommand):
    help = "Charge les données de démonstration (fictives). Refusé hors du mode démonstration."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.RELAIS_DEMO_MODE:
            raise CommandError("Les données de démonstration sont interdites hors du mode démo.")
        with transaction.atomic():
            organisations = self._organisations()
            self._pilot()
            for first, last, key, role, profession in PROFESSIONALS + SECOND_MEMBERSHIPS:
                self._professional(first, last, organisations[key], role, profession)
            call_command("seed_demo_persons", stdout=self.stdout)
            call_command("seed_demo_procedures", stdout=self.stdout)
        self._print_logins(organisations)
        call_command("seed_demo_accounts", stdout=self.stdout)

    def _organisations(self) -> dict[str, Organisation]:
        found: dict[str, Organisation] = {}
        for index, demo in enumerate(ORGANISATIONS, start=1):
            siret = demo_siret(index)
            organisation = Organisation.objects.filter(siret=siret).first()
            if organisation is None:
                organisation = organisation_create(
                    name=demo.name,
                    siret=siret,
                    kind=demo.kind,
                    commune_code=demo.commune_code,
                    commune_name=TOWNS[demo.commune_code],
                    territory=TOWNS[demo.commune_code],
                    by=SYSTEM,
                )
            found[demo.key] = organisation
        return found

    def _user(self, first: str, last: str, *, pilot: bool = False) -> User:
        email = demo_email(first, last)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=pilot,
                is_superuser=pilot,
            )
        demo_totp_device_ensure(user=user)
        return user

    def _pilot(self) -> None:
        self._user("Pilote", "Régional", pilot=True)

    def _professional(
        self, first: str, last: str, organisation: Organisation, role: str, profession: str
    ) -> None:
        user = self._user(first, last)
        Membership.objects.get_or_create(
            user=user,
            organisation=organisation,
            ended_on=None,
            defaults={"role": role, "profession": profession},
        )

    def _print_logins(self, organisations: dict[str, Organisation]) -> None:
        write = self.stdout.write
        write("")
        write("Comptes de démonstration (données fictives)")
        write("===========================================")
        write(f"Mot de passe commun : {DEMO_PASSWORD}")
        write(
            "Second facteur commun : ajoutez dans une application TOTP (FreeOTP, Aegis…) "
            f"la clé {settings.RELAIS_DEMO_TOTP_SECRET}"
        )
        write("")
        write(f"  {'pilotage régional':<24} {'':<38} {demo_email('Pilote', 'Régional')}")
        for first, last, key, role, _ in PROFESSIONALS:
            label = Role(role).label.lower()[:24]
            write(f"  {label:<24} {organisations[key].name[:38]:<38} {demo_email(first, last)}")
        write("")
