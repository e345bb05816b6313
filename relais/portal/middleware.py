import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from relais.audit.actions import AuditAction
from relais.audit.services import audit_record
from relais.portal.codes import ACCOUNT_OBJECT_TYPE
from relais.portal.models import PersonAccount
from relais.portal.sessions import (
    PERSON_ACCOUNT,
    PERSON_KEYS,
    PERSON_LOGIN_AT,
    PERSON_SEEN_AT,
    PERSON_STAMP,
    person_actor,
    person_session_end,
)

# Rewriting the session on every page would cost a write per request; half a minute of
# imprecision on a ten-minute idle timeout does not matter.
_SEEN_AT_RESOLUTION = 30


class PersonSessionMiddleware:
    """Sets `request.person_account` (a PersonAccount or None) from the session.

    The session ends when the account is closed or its file archived, when access was
    restored or the identifiers changed at the office since the login (security stamp
    raised), after RELAIS_PORTAL_IDLE_TIMEOUT seconds without activity or
    RELAIS_PORTAL_ABSOLUTE_TIMEOUT seconds after the login.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.person_account = self._account(request)  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def _account(request: HttpRequest) -> PersonAccount | None:
        session = request.session
        account_id = session.get(PERSON_ACCOUNT)
        if account_id is None:
            return None
        if request.user.is_authenticated:
            # A professional logged in on this browser since: the person's session is over.
            for key in PERSON_KEYS:
                session.pop(key, None)
            return None
        account = (
            PersonAccount.objects.login_allowed()
            .select_related("person")
            .filter(pk=account_id)
            .first()
        )
        now = time.time()
        seen_at = float(session.get(PERSON_SEEN_AT, 0))
        login_at = float(session.get(PERSON_LOGIN_AT, 0))
        if account is None or session.get(PERSON_STAMP) != account.security_stamp:
            person_session_end(request)
            return None
        if (
            now - seen_at > settings.RELAIS_PORTAL_IDLE_TIMEOUT
            or now - login_at > settings.RELAIS_PORTAL_ABSOLUTE_TIMEOUT
        ):
            audit_record(
                action=AuditAction.PERSON_LOGOUT,
                by=person_actor(request),
                person_id=account.person_id,
                person_label=account.person.journal_label,
                object_type=ACCOUNT_OBJECT_TYPE,
                object_id=account.pk,
                details={"expired": True},
            )
            person_session_end(request)
            request.person_session_expired = True  # type: ignore[attr-defined]
            if request.method == "GET":
                messages.info(
                    request,
                    _(
                        "Vous n'avez rien fait pendant un moment. Pour protéger vos papiers, "
                        "Relais vous a déconnecté. Connectez-vous à nouveau."
                    ),
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Vous n'avez rien fait pendant un moment. Pour protéger vos papiers, "
                        "Relais vous a déconnecté. Ce que vous venez d'envoyer n'est pas "
                        "enregistré. Connectez-vous, puis recommencez."
                    ),
                )
            return None
        if now - seen_at > _SEEN_AT_RESOLUTION:
            session[PERSON_SEEN_AT] = now
        return account
