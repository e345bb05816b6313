from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relais.documents.checking import Problem, Trouble, Verification


def _line(problem: Problem) -> str:
    replaced = ", remplacée depuis" if problem.replaced else ""
    where = (
        f"version n° {problem.version_id}{replaced} (pièce n° {problem.document_id}, "
        f"dossier n° {problem.person_id})"
    )
    if problem.trouble is Trouble.MISSING:
        return f"{where} : {problem.trouble} ({problem.storage_name})."
    if problem.trouble in (Trouble.DAMAGED, Trouble.REFUSED):
        return f"{where} : {problem.trouble} ({problem.storage_name}) — {problem.reason}"
    return f"{where} : {problem.trouble} — {problem.reason}"


def _what_to_do(verification: Verification) -> str:
    steps = []
    if verification.missing or verification.damaged:
        steps.append("Remettre les fichiers nommés depuis la sauvegarde des pièces.")
    if verification.refused:
        steps.append(
            "Vérifier que le compte de Relais peut lire les objets nommés (ses droits sur le "
            "compartiment, leur classe de stockage)."
        )
    if verification.unreadable_keys:
        steps.append(
            "Remettre dans RELAIS_ENCRYPTION_KEYS la clé qui manque, depuis la sauvegarde des clés."
        )
    steps.append("Voir « Sauvegarder et restaurer » dans docs/exploitation.md.")
    return " ".join(steps)


def _version_number(value: str) -> int:
    """A version's number, as the resume hint gives it: a whole number from 1."""
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ArgumentTypeError(
            f"« {value} » n'est pas un numéro de version : donnez un nombre entier à partir "
            "de 1, comme celui que la vérification interrompue a indiqué."
        )
    return int(value)


class Command(BaseCommand):
    help = (
        "Vérifie que chaque version des pièces non supprimées a son fichier dans le stockage "
        "et une clé lisible ; avec --complet, lit chaque fichier en entier et compare son "
        "empreinte SHA-256. Nomme les versions en défaut par leurs numéros et sort en erreur "
        "s'il y en a."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--complet",
            action="store_true",
            help="lire et déchiffrer chaque fichier (long : tout le stockage est relu)",
        )
        parser.add_argument(
            "--depuis",
            type=_version_number,
            default=1,
            metavar="NUMÉRO",
            help="commencer à cette version (pour reprendre une vérification interrompue)",
        )

    def handle(self, *args: object, complet: bool, depuis: int, **options: object) -> None:
        verification = Verification(full=complet, since=depuis)
        try:
            for problem in verification.problems():
                self.stdout.write(_line(problem))
        except (Exception, KeyboardInterrupt) as error:
            cause = f"{type(error).__name__} : {error}" if str(error) else type(error).__name__
            raise CommandError(
                f"Vérification interrompue après {verification.checked} version(s), dont "
                f"{verification.problem_count} en défaut ({cause}). "
                "Pour la reprendre là où elle s'est arrêtée : verify_documents --depuis "
                f"{verification.resume_from}" + (" --complet" if verification.full else "")
            ) from error
        what = "fichiers lus en entier" if verification.full else "présence des fichiers"
        summary = (
            f"{verification.checked} version(s) de pièce vérifiée(s) ({what}) : "
            f"{verification.missing} fichier(s) manquant(s), "
            f"{verification.damaged} fichier(s) endommagé(s), "
            f"{verification.unreadable_keys} clé(s) illisible(s)"
            + (
                f", {verification.refused} fichier(s) refusé(s) par le stockage."
                if verification.refused
                else "."
            )
        )
        if verification.problem_count:
            # An exit code that cron or the supervisor reports.
            raise CommandError(f"{summary} {_what_to_do(verification)}")
        self.stdout.write(summary)
