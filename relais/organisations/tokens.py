import hashlib

from django.utils.crypto import salted_hmac

from relais.organisations.models import Invitation


def invitation_token(invitation: Invitation) -> str:
    """The link's secret, derived from the row's nonce and the server's secret key: the
    e-mail task recomputes it, so neither the database nor the task queue holds it."""
    return salted_hmac("relais.invitation", invitation.nonce, algorithm="sha256").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
