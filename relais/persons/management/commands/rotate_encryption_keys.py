from django.core.management.base import BaseCommand, CommandError

from relais import crypto
from relais.audit.context import SYSTEM
from relais.documents.services import keys_rewrap_all, versions_under_other_keys
from relais.persons.services import SHOWN_IDS, ids_text, nir_rewrap_all, nir_under_other_keys


def _left(ids: list[int], what: str, which: str) -> str:
    return f"{len(ids)} {what}" + (f" ({which} n° {ids_text(ids)})" if ids else "")


class Command(BaseCommand):
    help = (
        "Chiffre de nouveau sous la clé courante (la première de RELAIS_ENCRYPTION_KEYS) "
        "les NIR et les clés des pièces (pas les fichiers), puis dit ce qui reste sous une "
        "autre clé. Ajoutez la nouvelle clé en tête, lancez cette commande, et ne retirez "
        "l'ancienne clé qu'une fois que la commande répond « Plus aucune valeur sous une "
        "autre clé »."
    )

    def handle(self, *args: object, **options: object) -> None:
        current = crypto.keyring().current_id
        nirs = nir_rewrap_all(by=SYSTEM)
        self.stdout.write(f"{nirs.rewrapped} NIR chiffré(s) de nouveau sous la clé « {current} ».")
        keys = keys_rewrap_all(by=SYSTEM)
        self.stdout.write(f"{keys.rewrapped} clé(s) de pièce rechiffrée(s) sous « {current} ».")
        failures = [f"dossier n° {pk} : {why}" for pk, why in nirs.failed.items()] + [
            f"version n° {pk} : {why}" for pk, why in keys.failed.items()
        ]
        left_nirs, left_keys = nir_under_other_keys(), versions_under_other_keys()
        if failures or left_nirs or left_keys:
            if len(failures) > SHOWN_IDS:
                failures[SHOWN_IDS:] = [f"… et {len(failures) - SHOWN_IDS} autre(s) échec(s)"]
            raise CommandError(
                "\n".join(
                    [
                        *failures,
                        f"Ne retirez pas l'ancienne clé : {_left(left_nirs, 'NIR', 'dossier(s)')} "
                        f"et {_left(left_keys, 'clé(s) de pièce', 'version(s)')} restent sous "
                        f"une autre clé que « {current} ». Relancez la commande une fois la "
                        "cause corrigée.",
                    ]
                )
            )
        self.stdout.write(
            f"Plus aucune valeur sous une autre clé que « {current} » : l'ancienne clé peut "
            "être retirée de RELAIS_ENCRYPTION_KEYS."
        )
