from django.core.management.base import BaseCommand, CommandError

from relais.persons.tasks import apply_retention


class Command(BaseCommand):
    help = (
        "Archive les dossiers sans contact depuis la durée de conservation active, "
        "anonymise les dossiers archivés depuis la durée d'archivage, puis efface les "
        "lignes du journal et les tâches terminées de la file plus anciennes que leur durée "
        "de conservation."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--en-tache", action="store_true", help="confier le travail à la file de tâches"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["en_tache"]:
            apply_retention.enqueue()
            self.stdout.write("Application des durées de conservation confiée à la file de tâches.")
            return
        run = apply_retention.call()
        self.stdout.write(
            f"{run['archived']} dossier(s) archivé(s), {run['anonymised']} dossier(s) "
            f"anonymisé(s), {run['journal_rows_erased']} ligne(s) du journal effacée(s), "
            f"{run['task_results_erased']} tâche(s) terminée(s) effacée(s) de la file."
        )
        failed = run["failed"]
        if failed:
            # An exit code that cron or the supervisor reports.
            numbers = ", ".join(str(pk) for pk in failed)
            raise CommandError(
                f"{len(failed)} dossier(s) non traité(s) (n° {numbers}) : voir les journaux "
                "techniques ; la prochaine exécution réessaiera."
            )
