from datetime import timedelta
from html import unescape
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from relais.accounts.models import User
from relais.accounts.sessions import MEMBERSHIP_ID
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record
from relais.www.journal.views import PAGE_SIZE
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

JOURNAL = reverse("journal:list")
RANGE_ERROR = "La date de fin doit suivre la date de début."
TOO_EARLY = "Choisissez une date à partir du 01/01/2000."
TOO_LATE = "Choisissez une date jusqu'au 31/12/2100."


def _actor(membership, *, acting=True) -> Actor:
    return Actor(
        user_id=membership.user_id,
        label=membership.user.get_full_name(),
        organisation_id=membership.organisation_id if acting else None,
        organisation_label=membership.organisation.name if acting else "",
        ip_address="192.0.2.1",
    )


def _record(membership, action=AuditAction.ORGANISATION_UPDATED, *, acting=True, **fields):
    return audit_record(action=action, by=_actor(membership, acting=acting), **fields)


def _seqs(response) -> set[int]:
    return {event.seq for event in response.context["events"]}


@pytest.fixture
def outsider():
    return MembershipFactory()


@pytest.fixture
def events(member_membership, manager_membership, outsider):
    return {
        "member_act": _record(member_membership, object_id="ici"),
        "member_login": _record(member_membership, AuditAction.LOGIN, acting=False),
        "manager_act": _record(manager_membership, AuditAction.INVITATION_SENT),
        "outsider_act": _record(outsider, object_id="ailleurs"),
        "outsider_login": _record(outsider, AuditAction.LOGIN, acting=False),
    }


def test_it_shows_the_manager_the_events_of_the_organisation(manager_client, events):
    response = manager_client.get(JOURNAL)

    assert response.status_code == 200
    assert _seqs(response) == {
        events["member_act"].seq,
        events["member_login"].seq,
        events["manager_act"].seq,
    }


def test_it_hides_the_events_of_another_organisation(manager_client, events, outsider):
    content = manager_client.get(JOURNAL).content.decode()

    assert outsider.organisation.name not in content
    assert outsider.user.get_full_name() not in content
    assert "ailleurs" not in content


def test_it_hides_what_a_member_does_for_another_organisation(
    manager_client, member_membership, events
):
    elsewhere = MembershipFactory(user=member_membership.user)
    secret = _record(elsewhere, object_id="autre-structure")

    response = manager_client.get(JOURNAL)

    assert secret.seq not in _seqs(response)
    assert elsewhere.organisation.name not in response.content.decode()


def test_it_hides_what_a_pilot_who_is_a_member_does_for_the_whole_platform(
    manager_client, organisation, events
):
    pilot = MembershipFactory(organisation=organisation, user__is_superuser=True)
    platform_acts = [
        _record(pilot, action, acting=False)
        for action in (AuditAction.ORGANISATION_CREATED, AuditAction.CHARTER_PUBLISHED)
    ]
    login = _record(pilot, AuditAction.LOGIN, acting=False)

    shown = _seqs(manager_client.get(JOURNAL))

    assert login.seq in shown
    assert not shown & {act.seq for act in platform_acts}


def test_the_pilots_acts_on_the_platform_belong_to_no_organisation(pilot_client, organisation):
    pilot = User.objects.get(is_superuser=True)
    MembershipFactory(organisation=organisation, user=pilot)
    session = pilot_client.session
    session[MEMBERSHIP_ID] = pilot.memberships.get().pk
    session.save()

    pilot_client.post(
        reverse("organisations:pilot_create"),
        {
            "name": "CCAS de Liévin",
            "siret": "21620510400013",
            "kind": "ccas",
            "commune_code": "62510",
            "commune_name": "Liévin",
            "territory": "Liévin",
        },
    )

    created = AuditEvent.objects.get(action=AuditAction.ORGANISATION_CREATED)
    assert (created.actor_id, created.organisation_id) == (pilot.pk, None)


def test_it_filters_by_user(manager_client, member_membership, events):
    response = manager_client.get(JOURNAL, {"actor": member_membership.user_id})

    assert _seqs(response) == {events["member_act"].seq, events["member_login"].seq}


def test_it_offers_only_members_as_users_to_filter_by(
    manager_client, member_membership, manager_membership, outsider
):
    response = manager_client.get(JOURNAL)

    choices = {value for value, _ in response.context["form"].fields["actor"].choices}
    assert choices == {"", member_membership.user_id, manager_membership.user_id}


def test_it_filters_by_action(manager_client, events):
    response = manager_client.get(JOURNAL, {"action": AuditAction.LOGIN})

    assert _seqs(response) == {events["member_login"].seq}


def test_it_filters_by_date(manager_client, member_membership, events):
    long_ago = timezone.now() - timedelta(days=40)
    with mock.patch("django.utils.timezone.now", return_value=long_ago):
        old = _record(member_membership, object_id="ancien")
    old_day = timezone.localdate(long_ago).isoformat()
    today = timezone.localdate().isoformat()

    on_old_day = manager_client.get(JOURNAL, {"start": old_day, "end": old_day})
    since_today = manager_client.get(JOURNAL, {"start": today})
    until_old_day = manager_client.get(JOURNAL, {"end": old_day})

    assert _seqs(on_old_day) == {old.seq}
    assert old.seq not in _seqs(since_today)
    assert _seqs(since_today) == {e.seq for k, e in events.items() if not k.startswith("out")}
    assert _seqs(until_old_day) == {old.seq}


def test_it_refuses_an_inverted_date_range_in_french(manager_client, events):
    response = manager_client.get(JOURNAL, {"start": "2026-03-10", "end": "2026-03-01"})

    assert response.status_code == 200
    assert response.context["form"].errors["end"] == [RANGE_ERROR]
    assert RANGE_ERROR in response.content.decode()
    assert _seqs(response) == set()


@pytest.mark.parametrize("persona", ["manager_client", "pilot_client"])
@pytest.mark.parametrize(
    ("field", "day", "error"),
    [
        ("start", "0001-01-01", TOO_EARLY),
        ("end", "0001-01-01", TOO_EARLY),
        ("start", "9999-12-31", TOO_LATE),
        ("end", "9999-12-31", TOO_LATE),
    ],
)
def test_it_refuses_a_date_out_of_bounds_in_french_and_shows_nothing(
    request, events, persona, field, day, error
):
    client = request.getfixturevalue(persona)
    recorded = AuditEvent.objects.count()

    response = client.get(JOURNAL, {field: day})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert error in unescape(response.content.decode())
    assert _seqs(response) == set()
    assert AuditEvent.objects.count() == recorded


def test_it_accepts_the_bounds_themselves(manager_client, events):
    response = manager_client.get(JOURNAL, {"start": "2000-01-01", "end": "2100-12-31"})

    assert response.context["form"].errors == {}
    assert _seqs(response) == {e.seq for k, e in events.items() if not k.startswith("out")}


def test_it_refuses_a_malformed_date(manager_client, events):
    response = manager_client.get(JOURNAL, {"start": "pas-une-date"})

    assert "start" in response.context["form"].errors
    assert _seqs(response) == set()


def test_it_shows_the_pilot_every_event(pilot_client, events):
    response = pilot_client.get(JOURNAL)

    assert response.status_code == 200
    assert {e.seq for e in events.values()} <= _seqs(response)
    assert response.context["scope"] == "plateforme"


def test_it_lets_the_pilot_filter_by_organisation(pilot_client, events, outsider):
    response = pilot_client.get(JOURNAL, {"organisation": outsider.organisation_id})

    assert _seqs(response) == {events["outsider_act"].seq}


def test_it_offers_the_pilot_the_chosen_organisation_not_every_one(pilot_client, events, outsider):
    others = OrganisationFactory.create_batch(5)

    unfiltered = pilot_client.get(JOURNAL)
    filtered = pilot_client.get(JOURNAL, {"organisation": outsider.organisation_id})

    assert "organisation" not in unfiltered.context["form"].fields
    assert filtered.context["form"].fields["organisation"].choices == [
        ("", "Toutes"),
        (outsider.organisation_id, outsider.organisation.name),
    ]
    for page in (unfiltered, filtered):
        assert not any(other.name in page.content.decode() for other in others)
        assert reverse("organisations:pilot_list") in page.content.decode()


@pytest.mark.parametrize("value", ["999999", "abc", "²"])
def test_it_refuses_an_unknown_organisation_in_french_and_shows_nothing(
    pilot_client, events, value
):
    response = pilot_client.get(JOURNAL, {"organisation": value})

    assert response.context["form"].errors["organisation"] == [
        "Cette structure n'existe pas : ouvrez son journal depuis la liste des structures."
    ]
    assert _seqs(response) == set()


def test_it_refuses_the_journal_to_a_professional(member_client, events):
    response = member_client.get(JOURNAL)

    assert response.status_code == 403


def test_it_pages_through_the_journal_without_counting(manager_client, member_membership):
    recorded = [_record(member_membership) for _ in range(PAGE_SIZE + 3)]

    first = manager_client.get(JOURNAL)
    second = manager_client.get(JOURNAL, {"avant": first.context["next_before"]})

    assert len(first.context["events"]) == PAGE_SIZE
    assert first.context["events"][0].seq == recorded[-1].seq
    assert _seqs(second) == {e.seq for e in recorded[:3]}
    assert second.context["next_before"] is None


def test_it_pages_through_the_organisations_events_and_its_members_logins_in_order(
    manager_client, member_membership
):
    recorded = []
    for number in range(PAGE_SIZE + 5):
        acting = number % 3 != 0
        action = AuditAction.ORGANISATION_UPDATED if acting else AuditAction.LOGIN
        recorded.append(_record(member_membership, action, acting=acting))
    newest_first = [event.seq for event in reversed(recorded)]

    first = manager_client.get(JOURNAL)
    second = manager_client.get(JOURNAL, {"avant": first.context["next_before"]})

    assert [event.seq for event in first.context["events"]] == newest_first[:PAGE_SIZE]
    assert [event.seq for event in second.context["events"]] == newest_first[PAGE_SIZE:]


@pytest.mark.parametrize("before", ["²", "abc", "9" * 30])
def test_a_page_start_that_is_not_a_row_number_shows_the_newest(
    manager_client, member_membership, before
):
    recorded = _record(member_membership)

    response = manager_client.get(JOURNAL, {"avant": before})

    assert response.status_code == 200
    assert recorded.seq in _seqs(response)


def _queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(JOURNAL)
    assert response.status_code == 200
    return len(queries)


def test_it_reads_the_journal_in_a_fixed_number_of_queries(
    manager_client, member_membership, django_assert_num_queries
):
    # The first request of a session checks the device and membership once and keeps
    # them in the session; measure the pages after it.
    manager_client.get(JOURNAL)
    for _ in range(5):
        _record(member_membership, person_label="Dossier", details={"champ": "valeur"})
    with_five = _queries_for(manager_client)
    for _ in range(45):
        _record(member_membership, person_label="Dossier", details={"champ": "valeur"})
    with_fifty = _queries_for(manager_client)

    assert with_five == with_fifty
    # Session, user, users to filter by, one page of events.
    with django_assert_num_queries(4):
        manager_client.get(JOURNAL)


def test_it_stops_showing_a_former_members_logins(manager_client, member_membership):
    during = _record(member_membership, AuditAction.LOGIN, acting=False)
    member_membership.ended_on = timezone.localdate()
    member_membership.save()
    after = _record(member_membership, AuditAction.LOGIN, acting=False)

    seqs = _seqs(manager_client.get(JOURNAL))

    assert after.seq not in seqs
    assert during.seq not in seqs


def test_it_names_the_data_category_of_a_read_and_says_yes_or_no_in_french(
    manager_client, member_membership
):
    _record(
        member_membership,
        AuditAction.SECTION_VIEWED,
        person_id=1,
        person_label="MARTIN Léa (n° 1)",
        category="couverture_sociale",
        details={"exceptionnel": False},
    )

    page = manager_client.get(JOURNAL).content.decode()

    assert "MARTIN Léa (n° 1) (Couverture sociale)" in page
    assert "exceptionnel : non" in page


def test_it_hides_a_new_members_logins_from_before_they_joined(manager_client, organisation):
    """Their logins at a former employer belong to that employer's journal."""
    former = MembershipFactory(started_on=timezone.localdate() - timedelta(days=800))
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=400)):
        before = _record(former, AuditAction.LOGIN, acting=False)
    joined = MembershipFactory(user=former.user, organisation=organisation)
    since = _record(joined, AuditAction.LOGIN, acting=False)

    seqs = _seqs(manager_client.get(JOURNAL))

    assert since.seq in seqs
    assert before.seq not in seqs


def test_it_says_an_empty_detail_with_a_dash_not_none(manager_client, member_membership):
    _record(member_membership, AuditAction.ORGANISATION_SWITCHED, details={"depuis": None})

    page = unescape(manager_client.get(JOURNAL).content.decode())

    assert "depuis : —" in page
    assert "None" not in page


def test_it_says_how_long_rows_are_kept(manager_client, settings):
    settings.RELAIS_RETENTION_JOURNAL = timedelta(days=365)

    page = unescape(manager_client.get(JOURNAL).content.decode())

    assert "Ses lignes sont effacées 12 mois après leur écriture." in page
    assert "effacé :" not in page


def test_the_pilot_acting_for_an_organisation_reads_the_platforms_journal_under_its_name(
    client, organisation, outsider
):
    """Its rows are every organisation's: the title says so, not the name of the
    organisation the pilot acts for; once one organisation's journal is opened, its
    name."""
    pilot = MembershipFactory(organisation=organisation, user__is_superuser=True)
    log_in(client, pilot.user, pilot)
    _record(outsider)

    everything = unescape(client.get(JOURNAL).content.decode())
    opened = unescape(
        client.get(JOURNAL, {"organisation": outsider.organisation_id}).content.decode()
    )

    assert "Journal des accès — plateforme" in everything
    assert outsider.organisation.name in everything
    assert f"Journal des accès — {outsider.organisation.name}" in opened
