import pytest

from relais.notifications import sms
from tests.portal.helpers import Clock


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
