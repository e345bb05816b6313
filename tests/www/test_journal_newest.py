"""The journal pages back to its newest rows, filters kept, as the file's access history
does: a page of older events was left by the browser's « Back » button only."""

import re
from html import unescape

import pytest
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.www.journal.views import PAGE_SIZE

pytestmark = pytest.mark.django_db

JOURNAL = reverse("journal:list")
NEWEST = "Revenir aux plus récents"
OLDER = "Événements plus anciens"


def _record(membership, action):
    return audit_record(
        action=action,
        by=Actor(
            user_id=membership.user_id,
            label=membership.user.get_full_name(),
            organisation_id=membership.organisation_id,
            organisation_label=membership.organisation.name,
        ),
    )


def _links(response) -> dict[str, str]:
    """The page's links by their text."""
    page = response.content.decode()
    return {
        unescape(re.sub(r"<[^>]+>", "", text)).strip(): unescape(href)
        for href, text in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', page, re.DOTALL)
    }


def _seqs(response) -> list[int]:
    return [event.seq for event, _ in response.context["rows"]]


@pytest.fixture
def invitations(member_membership):
    """More invitations than a page holds, among other events."""
    recorded = []
    for _ in range(PAGE_SIZE + 5):
        recorded.append(_record(member_membership, AuditAction.INVITATION_SENT))
        _record(member_membership, AuditAction.ORGANISATION_UPDATED)
    return recorded


def test_the_newest_page_offers_older_events_only(manager_client, invitations):
    links = _links(manager_client.get(JOURNAL))

    assert OLDER in links
    assert NEWEST not in links


def test_an_older_page_leads_back_to_the_newest_with_the_filters_kept(manager_client, invitations):
    filtered = {"action": AuditAction.INVITATION_SENT}
    first = manager_client.get(JOURNAL, filtered)
    older = manager_client.get(f"{JOURNAL}{_links(first)[OLDER]}")

    back = _links(older)[NEWEST]
    newest = manager_client.get(f"{JOURNAL}{back}")

    assert back == f"?action={AuditAction.INVITATION_SENT}"
    assert _seqs(older) == [event.seq for event in reversed(invitations[:5])]
    assert _seqs(newest) == _seqs(first)
    assert OLDER not in _links(older)


def test_the_pilot_goes_back_to_the_newest_events_of_the_organisation_opened(
    pilot_client, organisation, invitations
):
    opened = {"organisation": organisation.pk}
    first = pilot_client.get(JOURNAL, opened)

    older = pilot_client.get(f"{JOURNAL}{_links(first)[OLDER]}")

    assert _links(older)[NEWEST] == f"?organisation={organisation.pk}"
    assert set(_seqs(older)).isdisjoint(_seqs(first))
