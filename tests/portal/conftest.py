import pytest

from tests.portal.helpers import Clock


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def held_tasks(settings):
    """Tasks wait in the database's queue, as in production, until `run_held_tasks`."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
