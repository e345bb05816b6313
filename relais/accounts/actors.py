"""Building the journal's `Actor` from a request."""

from dataclasses import replace

from django.conf import settings
from django.http import HttpRequest

from relais.audit.context import Actor


def client_ip(request: HttpRequest) -> str:
    header = settings.RELAIS_CLIENT_IP_HEADER
    value = request.META.get(header, "") or request.META.get("REMOTE_ADDR", "")
    # The trusted proxy appends the address it saw to X-Forwarded-For: the last entry.
    # What comes before was sent by the client and may be forged.
    return str(value).split(",")[-1].strip()[:45]


def actor_for(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    authenticated = user is not None and user.is_authenticated
    return Actor(
        user_id=user.pk if authenticated else None,
        label=user.get_full_name() if authenticated else "",
        organisation_id=membership.organisation_id if membership else None,
        organisation_label=membership.organisation.name if membership else "",
        ip_address=client_ip(request),
        profession=membership.profession_label if membership else "",
    )


def platform_actor(request: HttpRequest) -> Actor:
    """The pilot acting for the whole platform (organisations, charter, catalogue, the
    administration): the act belongs to no organisation, even when the pilot is also a
    member of one, whose manager's journal would otherwise show it."""
    return replace(actor_for(request), organisation_id=None, organisation_label="", profession="")
