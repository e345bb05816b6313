"""A published charter version's rules never change: each process reads them once per
version, and a request's checks read them under the version its charter check saw."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from relais.audit.context import SYSTEM
from relais.consent.charter import charter_publish, current_matrix, current_version, levels_for
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


def test_a_file_page_reads_the_current_version_once(monkeypatch, organisation):
    membership = MembershipFactory(organisation=organisation)
    client = log_in(Client(), membership.user, membership)
    person = PersonFactory()
    ConsentFactory(person=person, organisation=organisation)
    client.get(reverse("persons:file", args=[person.pk]))
    reads = []
    original = cache.get

    def counting_get(key, *args, **kwargs):
        reads.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counting_get)

    assert client.get(reverse("persons:file", args=[person.pk])).status_code == 200
    assert reads.count("relais:charter:current") == 1
