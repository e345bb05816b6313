from django.core.management.base import BaseCommand, CommandError

from relais.documents.models import DocumentVersion
from relais.documents.tasks import purge_deleted_documents


class Command(BaseCommand):
    help = "Efface définitivement les fichiers des pièces supprimées depuis plus du délai fixé."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--en-tache", action="store_true", help="confier le travail à la file de tâches"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["en_tache"]:
            purge_deleted_documents.enqueue()
            self.stdout.write("Purge confiée à la file de tâches.")
            return
        count = purge_deleted_documents.call()
        self.stdout.write(f"{count} fichier(s) de pièce effacé(s) définitivement.")
        left = DocumentVersion.objects.blob_left().count()
        if left:
            # An exit code that cron or the supervisor reports; the next purge tries again.
            raise CommandError(
                f"{left} fichier(s) de pièce purgée(s) encore dans le stockage : leur "
                "effacement a échoué (voir les journaux techniques) ; la prochaine purge "
                "réessaiera."
            )
