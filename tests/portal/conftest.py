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


@pytest.fixture
def held_tasks(settings):
    """Tasks wait in the database's queue, as in production, until `run_held_tasks`."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
