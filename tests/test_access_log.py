"""gunicorn's access log, as config/gunicorn.conf.py sets it up, written by gunicorn's own
logging for a request that carries everything that must stay out of it."""

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from django.urls import reverse
from gunicorn.config import Config
from gunicorn.glogging import Logger

from config.access_log import INVITATION

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


def test_the_mask_follows_the_invitations_address():
    assert INVITATION.match(reverse("accounts:invitation", args=["x"]))
