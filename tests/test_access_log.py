"""gunicorn's access log, as config/gunicorn.conf.py sets it up, written by gunicorn's own
logging for a request that carries everything that must stay out of it; and Django's own
request logs, which write the path of a refused form or a page not found."""

import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config
from gunicorn.glogging import Logger

from config.access_log import SECRET_TOKEN_PATH
from relais.accounts.password_reset import link_token
from relais.accounts.services import actor_of
from relais.organisations.models import Role
from relais.organisations.services import invitation_create
from tests.factories import MembershipFactory

ROOT = Path(__file__).resolve().parent.parent


def _logger(log_file: Path) -> Logger:
    config = Config()
    for name, value in runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py")).items():
        if name in config.settings and value is not None:
            config.set(name, value)
    config.set("accesslog", str(log_file))
    return config.logger_class(config)


def _request(logger: Logger, path: str, query: str) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://relais.example.org{path}",
        "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0) Firefox/128",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("USER-AGENT", environ["HTTP_USER_AGENT"])])
    logger.access(response, request, environ, timedelta(milliseconds=12))


def test_the_access_log_keeps_the_path_and_status_and_nothing_personal(tmp_path):
    log_file = tmp_path / "access.log"
    invitation = reverse("accounts:invitation", args=["jeton-secret-0123456789"])

    _request(_logger(log_file), invitation, "next=/personnes/12/&q=Dupr%C3%A9")

    (line,) = log_file.read_text().splitlines()
    assert '"GET /compte/invitation/…/" 200 512 12ms' in line
    for secret in ("jeton-secret", "Dupr", "next=", "203.0.113.7", "Firefox", "relais.example"):
        assert secret not in line


@pytest.mark.parametrize("name", ["accounts:invitation", "accounts:password_reset_confirm"])
def test_the_mask_follows_the_addresses_that_hold_a_token(name):
    assert SECRET_TOKEN_PATH.match(reverse(name, args=["x"]))


@pytest.fixture
def invitation_path(db):
    manager = MembershipFactory(role=Role.MANAGER)
    _, token = invitation_create(
        organisation=manager.organisation,
        email="nouvelle.collegue@exemple.test",
        first_name="Inès",
        last_name="Moreau",
        role=Role.PROFESSIONAL,
        profession="es",
        invited_by=manager.user,
        by=actor_of(manager.user),
    )
    return token, reverse("accounts:invitation", args=[token])


def test_a_refused_invitation_form_leaves_no_token_in_the_request_log(
    client, invitation_path, caplog
):
    token, path = invitation_path

    response = client.post(path, {"password1": "girafe-orbite-cerfeuil", "password2": "autre"})

    assert response.status_code == 400
    assert "Bad Request: /compte/invitation/…/" in caplog.text
    assert token not in caplog.text
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert token not in record.getMessage()


def test_a_csrf_failure_on_an_invitation_leaves_no_token_in_the_log(invitation_path, caplog):
    token, path = invitation_path

    response = Client(enforce_csrf_checks=True).post(path, {"password1": "x", "password2": "x"})

    assert response.status_code == 403
    assert "/compte/invitation/…/" in caplog.text
    assert token not in caplog.text


def test_the_request_log_keeps_the_other_paths_as_they_are(client, db, caplog):
    client.get("/personnes/12/notes/ajouter/cette-page-n-existe-pas/")
    client.post(reverse("accounts:login"), {"email": "a@exemple.test", "password": "x"})

    assert "Not Found: /personnes/12/notes/ajouter/cette-page-n-existe-pas/" in caplog.text
    assert "Bad Request: /compte/connexion/" in caplog.text
    assert "…" not in caplog.text


def test_runservers_request_lines_mask_the_token_too(db):
    user = MembershipFactory().user
    token = link_token(user)
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    server_log = logging.getLogger("django.server")
    server_log.addHandler(handler)
    try:
        server_log.info(
            '"%s" %s %s', f"GET /compte/nouveau-mot-de-passe/{token}/?x=1 HTTP/1.1", "200", "0"
        )
        server_log.info('"%s" %s %s', "GET /personnes/12/ HTTP/1.1", "200", "0")
    finally:
        server_log.removeHandler(handler)

    assert lines == [
        '"GET /compte/nouveau-mot-de-passe/…/?x=1 HTTP/1.1" 200 0',
        '"GET /personnes/12/ HTTP/1.1" 200 0',
    ]
