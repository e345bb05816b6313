from django_tasks import task

from relais.portal.services import purge_spent_codes


@task()
def purge_login_codes() -> int:
    """Spent login codes are erased after a day (see services.purge_spent_codes)."""
    return purge_spent_codes()
