from django.core.management.base import BaseCommand

from relais.procedures.tasks import fill_checklists, open_next_occurrences, send_due_reminders


class Command(BaseCommand):
    help = (
        "Travaux quotidiens des démarches : ouvre les démarches à renouveler, rattache aux "
        "listes de pièces les pièces déjà au dossier et envoie les rappels d'échéance par "
        "SMS. À lancer une fois par jour (cron)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--en-tache", action="store_true", help="confier le travail à la file de tâches"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["en_tache"]:
            open_next_occurrences.enqueue()
            fill_checklists.enqueue()
            send_due_reminders.enqueue()
            self.stdout.write("Travaux des démarches confiés à la file de tâches.")
            return
        # Renewals first: a procedure opened today with a near deadline is reminded today.
        renewals = open_next_occurrences.call()
        checklists = fill_checklists.call()
        reminders = send_due_reminders.call()
        summary = (
            f"{renewals['opened']} démarche(s) à renouveler ouverte(s), {reminders['sent']} "
            f"rappel(s) envoyé(s), pièces rattachées : {checklists['attached']}."
        )
        if renewals["not_allowed"]:
            summary += (
                f" {renewals['not_allowed']} démarche(s) à renouveler non ouverte(s) : la "
                "personne ne permet plus à la structure de suivre ses démarches."
            )
        if reminders["not_mobile"]:
            summary += (
                f" {reminders['not_mobile']} rappel(s) non envoyé(s) : ni numéro de portable, "
                "ni adresse électronique."
            )
        if reminders["not_allowed"]:
            summary += (
                f" {reminders['not_allowed']} rappel(s) non envoyé(s) : la personne ne permet "
                "plus à la structure de suivre ses démarches."
            )
        if reminders["refused"]:
            summary += (
                f" {reminders['refused']} rappel(s) refusé(s) par l'envoi des SMS ou des "
                "courriels, à réessayer au prochain passage."
            )
        self.stdout.write(summary)
