from django_tasks import task

from relais.audit.context import Actor
from relais.portal.codes import login_code_deliver, purge_spent_codes


@task()
def send_login_code(
    *, account_id: int | None, channel: str, actor_label: str, ip_address: str
) -> bool:
    """Reserve, journal, draw and send a login code after the request that asked for it
    (see services.login_code_send), journaled as the visitor of that request (how the
    journal names them, and their address). The code itself never travels through the
    queue."""
    return login_code_deliver(
        account_id=account_id,
        channel=channel,
        by=Actor(label=actor_label, ip_address=ip_address),
    )


@task()
def purge_login_codes() -> int:
    """Spent login codes are erased after a day (see codes.purge_spent_codes)."""
    return purge_spent_codes()
