import time

import pytest
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from relais.accounts.sessions import LOGIN_AT, MEMBERSHIP_ID, SECOND_FACTOR_AT, SEEN_AT
from relais.audit.context import SYSTEM
from relais.consent import charter
from relais.consent.charter import charter_accept, current_version, forget_current_version
from relais.notifications import sms
from tests.factories import MembershipFactory, OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.key_rotation import OLD


@pytest.fixture(autouse=True)
def _flushable_journal(request):
    """Let a transactional test's final flush empty the journal on PostgreSQL.

    The flush TRUNCATEs every table, which the journal's append-only trigger refuses.
    Replica mode is set for that flush only: Django closes the connection right after it,
    so the next test starts with the triggers active again.
    """
    if not {"transactional_db", "live_server"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")


@pytest.fixture(autouse=True)
def _isolated_documents_storage():
    """Each test starts with an empty documents storage (in memory under test settings)."""
    storages._storages.pop("documents", None)
    yield
    storages._storages.pop("documents", None)


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch):
    cache.clear()
    forget_current_version()
    # A test trusts the charter version it read for its whole length, as a process does for
    # two seconds: on a loaded machine, a page measured more than two seconds after the one
    # before it would read it again, one query more than the pinned count. A publication
    # in the test's process is seen at once all the same.
    monkeypatch.setattr(charter, "CURRENT_VERSION_KEPT_FOR", 3600.0)
    yield
    cache.clear()
    forget_current_version()


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    """Each test reads only the SMS it sent (the local backend keeps them in one list)."""
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def totp_now(device) -> str:
    """The code an authenticator app would show right now for this device."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def log_in(client: Client, user, membership=None, *, device=None) -> Client:
    """Open a fully verified session, as after password, second factor and the choice of
    the acting organisation."""
    device = device or TOTPDeviceFactory(user=user)
    client.force_login(user, backend="relais.accounts.backends.AccountBackend")
    session = client.session
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[SECOND_FACTOR_AT] = now
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if membership is not None:
        session[MEMBERSHIP_ID] = membership.pk
        charter_accept(user_id=user.pk, version=current_version(), by=SYSTEM)
    session.save()
    return client


@pytest.fixture
def organisation():
    return OrganisationFactory()


@pytest.fixture
def manager_membership(organisation):
    return MembershipFactory(organisation=organisation, manager=True)


@pytest.fixture
def member_membership(organisation):
    return MembershipFactory(organisation=organisation)


@pytest.fixture
def manager_client(client, manager_membership):
    return log_in(client, manager_membership.user, manager_membership)


@pytest.fixture
def member_client(client, member_membership):
    return log_in(client, member_membership.user, member_membership)


@pytest.fixture
def pilot_client(client):
    return log_in(client, UserFactory(pilot=True))


@pytest.fixture
def outsider_client(client):
    """A verified professional of another organisation."""
    membership = MembershipFactory(manager=True)
    return log_in(client, membership.user, membership)


@pytest.fixture
def keys(settings):
    """The settings, with the old key of a key rotation's tests as the only one."""
    settings.RELAIS_ENCRYPTION_KEYS = OLD
    return settings


@pytest.fixture
def referent():
    """A professional of an organisation that follows the tests' person."""
    return MembershipFactory()


@pytest.fixture
def referent_client(referent):
    return log_in(Client(), referent.user, referent)
