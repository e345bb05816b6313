"""The address the journal and the limits count: behind the proxy, the one it saw."""

import pytest
from django.test import RequestFactory

from relais.accounts.actors import client_ip


@pytest.mark.parametrize(
    ("forwarded", "seen"),
    [
        ("203.0.113.9", "203.0.113.9"),
        # A client that sends its own header to look like someone else: the proxy appends
        # the address it really saw, last.
        ("198.51.100.1, 203.0.113.9", "203.0.113.9"),
        ("198.51.100.1,203.0.113.9 ", "203.0.113.9"),
    ],
)
def test_it_takes_the_address_the_proxy_saw(settings, forwarded, seen):
    settings.RELAIS_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == seen


def test_it_takes_the_connection_address_without_a_proxy(settings):
    settings.RELAIS_CLIENT_IP_HEADER = "REMOTE_ADDR"
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="198.51.100.1", REMOTE_ADDR="192.0.2.4"
    )

    assert client_ip(request) == "192.0.2.4"
