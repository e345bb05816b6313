"""A published charter version's rules never change: each process reads them once per
version, and a request's checks read them under the version its charter check saw. The
current version itself is kept a couple of seconds per process, and no longer."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from relais.audit.context import SYSTEM
from relais.consent import charter, middleware
from relais.consent.charter import charter_publish, current_matrix, current_version, levels_for
from relais.consent.models import CharterVersion
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory, PersonFactory

pytestmark = pytest.mark.django_db

KIND, PROFESSION = OrganisationKind.CCAS, Profession.ASS


def _with_health(level: str) -> dict[tuple[str, str, str], str]:
    return current_matrix() | {(KIND, PROFESSION, DataCategory.HEALTH): level}


def test_a_version_s_levels_are_read_once(django_assert_num_queries):
    version = current_version()
    first = levels_for(KIND, PROFESSION, version)

    with django_assert_num_queries(0):
        assert levels_for(KIND, PROFESSION, version) == first
    assert first[DataCategory.IDENTITY] == Level.WRITE


def test_a_new_version_is_read_under_its_own_rules(django_capture_on_commit_callbacks):
    before = current_version()
    assert levels_for(KIND, PROFESSION, before)[DataCategory.HEALTH] == Level.NONE

    with django_capture_on_commit_callbacks(execute=True):
        newer = charter_publish(levels=_with_health(Level.READ), summary="Santé lue", by=SYSTEM)

    assert levels_for(KIND, PROFESSION)[DataCategory.HEALTH] == Level.READ
    assert levels_for(KIND, PROFESSION, newer)[DataCategory.HEALTH] == Level.READ
    assert levels_for(KIND, PROFESSION, before)[DataCategory.HEALTH] == Level.NONE


def test_the_levels_are_not_kept_in_the_shared_cache():
    cache.clear()
    version = current_version()
    cache.clear()

    levels_for(KIND, PROFESSION, version)

    assert cache.get("relais:charter:current") is None


def test_a_file_page_asks_for_the_current_version_once(monkeypatch, organisation):
    membership = MembershipFactory(organisation=organisation)
    client = log_in(Client(), membership.user, membership)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    calls = []

    def counted():
        calls.append(1)
        return current_version()

    monkeypatch.setattr(middleware, "current_version", counted)
    monkeypatch.setattr(charter, "current_version", counted)

    assert client.get(reverse("persons:file", args=[person.pk])).status_code == 200
    assert len(calls) == 1


def test_a_process_trusts_the_version_it_read_for_a_moment(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(charter.time, "monotonic", lambda: now[0])
    before = current_version()
    # Another server process publishes.
    newer = CharterVersion.objects.create(number=before.number + 1, published_by_label="Pilote")

    now[0] += charter.CURRENT_VERSION_KEPT_FOR / 2
    assert current_version() == before
    now[0] += charter.CURRENT_VERSION_KEPT_FOR
    assert current_version() == newer


def test_publishing_here_is_seen_here_at_once(django_capture_on_commit_callbacks):
    before = current_version()

    with django_capture_on_commit_callbacks(execute=True):
        newer = charter_publish(levels=current_matrix(), summary="Relecture", by=SYSTEM)

    assert newer != before
    assert current_version() == newer


def test_a_version_read_while_another_was_published_is_kept_no_longer(
    monkeypatch, django_capture_on_commit_callbacks
):
    now = [1000.0]
    monkeypatch.setattr(charter.time, "monotonic", lambda: now[0])
    before = current_version()
    with django_capture_on_commit_callbacks(execute=True):
        newer = charter_publish(levels=current_matrix(), summary="Relecture", by=SYSTEM)
    # Another process read the version in force just before that commit and, once the
    # commit had emptied the shared cache, put it back there.
    cache.set("relais:charter:current", before)
    charter._current_read["version"] = (now[0] + charter.CURRENT_VERSION_KEPT_FOR, before)

    now[0] += charter.CURRENT_VERSION_KEPT_FOR + 0.1

    assert current_version() == newer
