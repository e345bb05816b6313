import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from relais.organisations.models import Invitation
from relais.organisations.tokens import invitation_token

logger = logging.getLogger(__name__)


class InvitationNotSent(Exception):
    """The mail server could not be reached or refused the message. Unlike smtplib's own
    errors, it names no address: a failed task's traceback is kept in the task queue's
    table and written to the worker's log."""


@task()
def send_invitation_email(*, invitation_id: int) -> bool:
    """Send the invitation's link; False, sending nothing, when the invitation was
    accepted, revoked or expired while the task waited in the queue."""
    invitation = (
        Invitation.objects.pending().select_related("organisation").filter(pk=invitation_id).first()
    )
    if invitation is None:
        return False
    until = timezone.localtime(invitation.expires_at)
    path = reverse("accounts:invitation", args=[invitation_token(invitation)])
    link = settings.RELAIS_PUBLIC_URL + path
    # The body names the organisation only: no data about any accompanied person.
    try:
        send_mail(
            subject="Invitation à rejoindre Relais",
            message=(
                "Bonjour,\n\n"
                f"Vous êtes invité(e) à rejoindre la structure « {invitation.organisation.name} » "
                "sur Relais, la plateforme du dossier administratif partagé.\n\n"
                f"Pour créer votre accès, ouvrez ce lien avant le {until:%d/%m/%Y} à "
                f"{until:%H:%M} :\n{link}\n\n"
                "Ce lien ne sert qu'une fois. Si vous n'attendiez pas cette invitation, "
                "ignorez ce message.\n"
            ),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except OSError as error:
        logger.warning("Invitation %s non envoyée : %s", invitation.pk, type(error).__name__)
        raise InvitationNotSent(
            f"Invitation {invitation.pk} non envoyée ({type(error).__name__})."
        ) from None
    return True
