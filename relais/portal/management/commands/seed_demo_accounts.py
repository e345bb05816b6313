"""A demo person's own space, opened through the same service as at the office, and how
to log in to it. Idempotent; refused outside demo mode."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from relais.audit.context import Actor
from relais.persons.models import Person
from relais.portal.models import PersonAccount
from relais.portal.services import person_account_open

DEMO_PERSON = "Carpentier"
DEMO_PERSON_PASSWORD = "Relais-demo-personne-2026"  # noqa: S105 — documented demo login


class Command(BaseCommand):
    help = "Ouvre l'espace personnel d'une personne fictive (mode démonstration seulement)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.RELAIS_DEMO_MODE:
            raise CommandError("Les données de démonstration sont interdites hors du mode démo.")
        person = Person.objects.filter(birth_name=DEMO_PERSON).first()
        if person is None:
            raise CommandError("Dossier de démonstration introuvable : lancez seed_demo.")
        account = PersonAccount.objects.filter(person=person, is_active=True).first()
        if account is None:
            # A fictitious person: there is no one to check, the document is made up too.
            account, _ = person_account_open(
                person=person,
                phone=person.phone,
                password=DEMO_PERSON_PASSWORD,
                identity_checked=True,
                identity_document="cni",
                by=Actor(label="Données de démonstration"),
            )
        self.stdout.write("")
        self.stdout.write(f"Espace personnel de démonstration : {person.display_name}")
        self.stdout.write(
            f"  /mon-espace/ — identifiant {account.card_identifier} "
            f"ou {person.phone}, mot de passe {DEMO_PERSON_PASSWORD}"
        )
        self.stdout.write("  (ou « Recevoir un code » : le SMS s'affiche dans cette console)")
