from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from relais.organisations.models import Invitation
from relais.organisations.tokens import invitation_token


@task()
def send_invitation_email(*, invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("organisation").get(pk=invitation_id)
    path = reverse("accounts:invitation", args=[invitation_token(invitation)])
    link = settings.RELAIS_PUBLIC_URL + path
    # The body names the organisation only: no data about any accompanied person.
    send_mail(
        subject="Invitation à rejoindre Relais",
        message=(
            "Bonjour,\n\n"
            f"Vous êtes invité(e) à rejoindre la structure « {invitation.organisation.name} » "
            "sur Relais, la plateforme du dossier administratif partagé.\n\n"
            f"Pour créer votre accès, ouvrez ce lien dans les 72 heures :\n{link}\n\n"
            "Ce lien ne sert qu'une fois. Si vous n'attendiez pas cette invitation, "
            "ignorez ce message.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
