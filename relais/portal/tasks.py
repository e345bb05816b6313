from django_tasks import task

from relais.portal.codes import login_code_deliver, purge_spent_codes


@task()
def send_login_code(login_code_id: int) -> bool:
    """Draw and send a login code after the request that asked for it (see
    services.login_code_send): only the record's id travels through the queue."""
    return login_code_deliver(login_code_id=login_code_id)


@task()
def purge_login_codes() -> int:
    """Spent login codes are erased after a day (see codes.purge_spent_codes)."""
    return purge_spent_codes()
