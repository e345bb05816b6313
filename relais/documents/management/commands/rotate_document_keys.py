from django.core.management.base import BaseCommand

from relais import crypto
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.services import audit_record
from relais.documents.services import keys_rewrap_all


class Command(BaseCommand):
    help = (
        "Rechiffre la clé de chaque pièce sous la clé maîtresse courante (la première de "
        "RELAIS_ENCRYPTION_KEYS), sans rechiffrer les fichiers eux-mêmes."
    )

    def handle(self, *args: object, **options: object) -> None:
        count = keys_rewrap_all()
        audit_record(action=AuditAction.KEYS_ROTATED, by=SYSTEM, details={"pieces": count})
        self.stdout.write(
            f"{count} clé(s) de pièce rechiffrée(s) sous « {crypto.keyring().current_id} »."
        )
