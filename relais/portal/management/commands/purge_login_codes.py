from django.core.management.base import BaseCommand

from relais.portal.tasks import purge_login_codes


class Command(BaseCommand):
    help = "Efface les codes de connexion des espaces personnels expirés ou utilisés."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--en-tache", action="store_true", help="confier le travail à la file de tâches"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["en_tache"]:
            purge_login_codes.enqueue()
            self.stdout.write("Purge confiée à la file de tâches.")
            return
        count = purge_login_codes.call()
        self.stdout.write(f"{count} code(s) de connexion effacé(s).")
