import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from relais.procedures.catalogue import CatalogueError, load_catalogue


class Command(BaseCommand):
    help = (
        "Charge le catalogue des démarches depuis les fichiers TOML (par défaut "
        "relais/procedures/catalogue/). Rien n'est écrit si un fichier contient une erreur."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--directory", type=Path, default=None, help="dossier des fichiers du catalogue"
        )

    def handle(self, *args: object, **options: object) -> None:
        directory = options["directory"]
        try:
            report = load_catalogue(directory if isinstance(directory, Path) else None)
        except CatalogueError as error:
            self.stderr.write(str(error))
            sys.exit(1)
        self.stdout.write(
            f"Catalogue chargé depuis {report.files} fichier(s) : {report.created} démarche(s) "
            f"ajoutée(s), {report.updated} modifiée(s), {report.unchanged} inchangée(s), "
            f"{report.deactivated} retirée(s)."
        )
