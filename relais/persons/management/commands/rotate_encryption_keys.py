from django.core.management.base import BaseCommand

from relais import crypto
from relais.audit.context import SYSTEM
from relais.persons.services import nir_rewrap_all


class Command(BaseCommand):
    help = (
        "Chiffre de nouveau les NIR sous la clé courante (la première de "
        "RELAIS_ENCRYPTION_KEYS). Ajoutez la nouvelle clé en tête, lancez cette commande, "
        "puis retirez l'ancienne."
    )

    def handle(self, *args: object, **options: object) -> None:
        count = nir_rewrap_all(by=SYSTEM)
        self.stdout.write(
            f"{count} NIR chiffré(s) de nouveau sous la clé « {crypto.keyring().current_id} »."
        )
