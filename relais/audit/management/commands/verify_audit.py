from django.core.management.base import BaseCommand, CommandError

from relais.audit.verification import verify_chain


class Command(BaseCommand):
    help = "Vérifie la chaîne d'empreintes du journal d'audit et nomme la première ligne rompue."

    def handle(self, *args: object, **options: object) -> None:
        result = verify_chain()
        if result.intact:
            self.stdout.write(f"Journal intact : {result.rows_checked} lignes vérifiées.")
            return
        raise CommandError(
            f"Journal rompu à la ligne n° {result.broken_seq} : {result.problem} "
            f"({result.rows_checked} lignes vérifiées avant elle)."
        )
