from django_tasks import task

from relais.accounts.password_reset import reset_link_send


@task()
def send_password_reset_link(*, user_id: int | None, ip_address: str) -> bool:
    """Send the password reset link asked for on the page « Mot de passe oublié » after
    the request (see services.password_reset_request). The link itself never travels
    through the queue: it is made when the message is written."""
    return reset_link_send(user_id=user_id, ip_address=ip_address)
