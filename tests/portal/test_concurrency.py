"""On PostgreSQL, the tasks that send login codes lock the account: run at once by several
workers they keep its sending limit, and one that starts during a change made at the office
waits for it and sends to the new phone."""

import threading
import time

import pytest
from django.db import connection, transaction

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.portal.models import CodeChannel, LoginCode
from relais.portal.services import person_account_update
from relais.portal.tasks import send_login_code
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import VISITOR, sms_outbox

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.usefixtures("transactional_db"),
    pytest.mark.django_db(transaction=True),
]

PRO = Actor(user_id=1, label="Claire Dupont", organisation_label="CCAS de Calais")


@pytest.fixture(autouse=True)
def _on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL seulement (DATABASE_URL=postgres://…)")


def _send(account_id: int, results: list[bool], start: threading.Barrier | None = None) -> None:
    """Run the sending task as a worker would, on its own connection."""
    try:
        if start is not None:
            start.wait()
        results.append(
            send_login_code.call(
                account_id=account_id,
                channel=CodeChannel.SMS,
                actor_label=VISITOR.label,
                ip_address=VISITOR.ip_address,
            )
        )
    finally:
        connection.close()


def _wait_for_a_lock_waiter() -> None:
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    pytest.fail("La tâche n'attend pas le verrou de l'espace.")


def test_tasks_run_at_once_keep_the_accounts_sending_limit(settings):
    settings.RELAIS_PORTAL_CODES_PER_15_MIN = 3
    account = PersonAccountFactory(phone="+33612345678")
    workers = 8
    start = threading.Barrier(workers)
    results: list[bool] = []

    threads = [
        threading.Thread(target=_send, args=(account.pk, results, start)) for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == [False] * 5 + [True] * 3
    assert LoginCode.objects.count() == len(sms_outbox()) == 3
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_LOGIN_CODE_SENT).count() == 3


def test_a_task_waits_for_a_change_of_phone_at_the_office_and_sends_to_the_new_one():
    account = PersonAccountFactory(phone="+33612345678")
    results: list[bool] = []
    worker = threading.Thread(target=_send, args=(account.pk, results))

    with transaction.atomic():
        person_account_update(
            account=account,
            phone="07 81 22 33 44",
            identity_checked=True,
            identity_document="cni",
            reason="Nouveau numéro",
            by=PRO,
        )
        worker.start()
        _wait_for_a_lock_waiter()
    worker.join(timeout=60)

    assert results == [True]
    assert [sms.to for sms in sms_outbox() if sms.body.startswith("Votre code Relais")] == [
        "+33781223344"
    ]
