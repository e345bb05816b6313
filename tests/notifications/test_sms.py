"""The SMS backends: the development file, and Brevo's API against a real local server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from relais.notifications import sms
from relais.notifications.sms import BrevoBackend, FileBackend, Sms, SmsError, send_sms


class _Brevo(BaseHTTPRequestHandler):
    """Answers like Brevo: 201 with a message id, or the status the test asks for."""

    status = 201
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(
            {
                "path": self.path,
                # Header names are case-insensitive: read them through the message object.
                "api_key": self.headers["api-key"],
                "content_type": self.headers["content-type"],
                "json": json.loads(body),
            }
        )
        answer = json.dumps({"messageId": 1511882900176220}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `received` instead."""


@pytest.fixture
def brevo(settings):
    _Brevo.status = 201
    _Brevo.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Brevo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.RELAIS_SMS_BACKEND = "relais.notifications.sms.BrevoBackend"
    settings.RELAIS_SMS_API_URL = f"http://127.0.0.1:{server.server_port}/v3/transactionalSMS/sms"
    settings.RELAIS_SMS_API_KEY = "xkeysib-test"
    settings.RELAIS_SMS_SENDER = "Relais"
    settings.RELAIS_SMS_TIMEOUT = 2
    yield _Brevo
    server.shutdown()
    server.server_close()


def test_it_posts_the_message_to_brevo(brevo):
    send_sms(to="+33612345678", body="Votre code Relais : 123456.")

    (request,) = brevo.received
    assert request["path"] == "/v3/transactionalSMS/sms"
    assert request["api_key"] == "xkeysib-test"
    assert request["content_type"] == "application/json"
    assert request["json"] == {
        "type": "transactional",
        "sender": "Relais",
        "recipient": "33612345678",
        "content": "Votre code Relais : 123456.",
    }


def test_it_raises_a_clear_error_when_brevo_refuses(brevo):
    brevo.status = 401

    with pytest.raises(SmsError, match=r"refusé l'envoi \(HTTP 401\)"):
        BrevoBackend().send(Sms(to="+33612345678", body="x"))


def test_it_raises_a_clear_error_when_brevo_does_not_answer(brevo, settings):
    settings.RELAIS_SMS_API_URL = "http://127.0.0.1:9/v3/transactionalSMS/sms"

    with pytest.raises(SmsError, match="ne répond pas"):
        BrevoBackend().send(Sms(to="+33612345678", body="x"))


class _HangsUp(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.close_connection = True


class _Garbles(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.wfile.write(b"HELLO\r\n")
        self.close_connection = True


@pytest.mark.parametrize(
    ("handler", "error"), [(_HangsUp, "RemoteDisconnected"), (_Garbles, "BadStatusLine")]
)
def test_it_raises_a_clear_error_when_brevo_hangs_up_or_answers_garbage(
    brevo, settings, handler, error
):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.RELAIS_SMS_API_URL = f"http://127.0.0.1:{server.server_port}/sms"
    try:
        with pytest.raises(SmsError, match=rf"ne répond pas \({error}\)"):
            BrevoBackend().send(Sms(to="+33612345678", body="x"))
    finally:
        server.shutdown()
        server.server_close()


def test_it_refuses_to_send_without_an_api_key(brevo, settings):
    settings.RELAIS_SMS_API_KEY = ""

    with pytest.raises(SmsError, match="RELAIS_SMS_API_KEY"):
        BrevoBackend().send(Sms(to="+33612345678", body="x"))
    assert brevo.received == []


def test_the_file_backend_appends_messages_with_the_number_masked(settings, tmp_path):
    settings.RELAIS_SMS_FILE = str(tmp_path / "var" / "sms.log")
    backend = FileBackend()

    backend.send(Sms(to="+33612345678", body="Votre code Relais : 111111."))
    backend.send(Sms(to="+33781223344", body="Votre code Relais : 222222."))

    lines = (tmp_path / "var" / "sms.log").read_text(encoding="utf-8").splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "…78 Votre code Relais : 111111.",
        "…44 Votre code Relais : 222222.",
    ]
    assert "612345678" not in "".join(lines)


def test_the_console_backend_masks_the_number(caplog):
    sms.ConsoleBackend().send(Sms(to="+33612345678", body="Votre code Relais : 123456."))

    assert "…78" in caplog.text
    assert "612345678" not in caplog.text
