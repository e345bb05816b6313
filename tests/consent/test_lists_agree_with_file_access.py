"""`persons_readable_in` against `file_access`, over a grid of situations: for every
professional, charter and category, the lists across files hold exactly the persons whose
file `file_access` opens with that category readable. The grid crosses what each condition
of the rule reads: the file's status, blocks of the organisation and of the professional,
consents to the organisation or to one professional, their start, expiry and withdrawal
at the very moment asked, break-glass grants and their refusal in advance, and charters
closing the identity or the category to one profession."""

import datetime
import itertools
from unittest.mock import patch

import pytest
from django.http import Http404
from django.utils import timezone

from relais.consent.access import Professional, file_access, persons_readable_in
from relais.consent.charter import levels_for
from relais.organisations.models import Profession
from relais.persons.categories import Action, DataCategory, Level
from relais.persons.models import Person, PersonStatus
from tests.factories import MembershipFactory, OrganisationFactory
from tests.persons.factories import (
    BlockFactory,
    BreakGlassGrantFactory,
    ConsentFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
BEFORE, AFTER = AT - datetime.timedelta(seconds=1), AT + datetime.timedelta(seconds=1)
PROCEDURES, HEALTH, IDENTITY = DataCategory.PROCEDURES, DataCategory.HEALTH, DataCategory.IDENTITY

# Each consent the grid may give, as `ConsentFactory` fields; "org" is the professional's
# organisation, "pro" the professional, "colleague" another of its members, "elsewhere"
# another organisation.
CONSENTS = {
    "to the organisation": {},
    "without procedures": {"categories": [c for c in DataCategory.values if c != PROCEDURES]},
    "identity and health": {"categories": [IDENTITY, HEALTH]},
    "to the professional": {"professional": "pro"},
    "to a colleague": {"professional": "colleague"},
    "elsewhere": {"organisation": "elsewhere"},
    "starts at the moment": {"starts_at": AT},
    "starts just after": {"starts_at": AFTER},
    "expires at the moment": {"expires_at": AT},
    "expires just after": {"expires_at": AFTER},
    "revoked": {"revoked_at": BEFORE, "revoked_by_label": "La personne"},
}
CONSENT_SETS = [
    (),
    *((name,) for name in CONSENTS),
    ("without procedures", "to the professional"),
    ("to a colleague", "elsewhere"),
    ("expires at the moment", "starts just after"),
]
GRANTS = {
    "none": None,
    "live": {},
    "expires at the moment": {"expires_at": AT},
    "expires just after": {"expires_at": AFTER},
    "opened for another organisation": {"organisation": "elsewhere"},
    "of a colleague": {"professional": "colleague"},
}
BLOCKS = {
    "none": None,
    "organisation": {"organisation": "org"},
    "professional": {"professional": "pro"},
    "lifted": {"organisation": "org", "lifted_at": BEFORE},
    "another organisation": {"organisation": "elsewhere"},
    "a colleague": {"professional": "colleague"},
}
STATUSES = ["active", "archived", "merged", "anonymised"]


def _charters(levels):
    return {
        "default": levels,
        "identity closed": levels | {IDENTITY: Level.NONE},
        "procedures closed": levels | {PROCEDURES: Level.NONE},
        "all read only": dict.fromkeys(DataCategory.values, Level.READ),
    }


@pytest.fixture
def cast(organisation):
    member = MembershipFactory(organisation=organisation)
    mjpm = MembershipFactory(organisation=organisation, profession=Profession.MJPM)
    return {
        "org": organisation,
        "pro": member.user,
        "colleague": MembershipFactory(organisation=organisation).user,
        "elsewhere": OrganisationFactory(),
        "ass": Professional.acting(member.user, member),
        "mjpm": Professional.acting(mjpm.user, mjpm),
    }


def _fields(spec, cast, roles):
    return {key: cast[value] if key in roles else value for key, value in spec.items()}


def _person(cast, *, status="active", consents=(), grant=None, refuses=False, block=None):
    person = PersonFactory(refuses_break_glass=refuses)
    if status == "merged":
        person.merged_into = PersonFactory()
    if status != "active":
        person.status = {
            "archived": PersonStatus.ARCHIVED,
            "merged": PersonStatus.ARCHIVED,
            "anonymised": PersonStatus.ANONYMISED,
        }[status]
        person.save()
    for name in consents:
        fields = {
            "organisation": cast["org"],
            "starts_at": AT - datetime.timedelta(days=1),
            "expires_at": AT + datetime.timedelta(days=30),
        } | _fields(CONSENTS[name], cast, ("organisation", "professional"))
        ConsentFactory(person=person, **fields)
    if grant is not None:
        fields = {
            "professional": cast["pro"],
            "organisation": cast["org"],
            "opened_at": AT - datetime.timedelta(hours=1),
            "expires_at": AT + datetime.timedelta(hours=3),
        } | _fields(grant, cast, ("organisation", "professional"))
        BreakGlassGrantFactory(person=person, **fields)
    if block is not None:
        BlockFactory(person=person, **_fields(block, cast, ("organisation", "professional")))


@pytest.fixture
def grid(cast):
    """Every set of consents with every grant, refused in advance or not; then every
    status and block, over a consent and over a grant."""
    for consents, grant, refuses in itertools.product(CONSENT_SETS, GRANTS, [False, True]):
        _person(cast, consents=consents, grant=GRANTS[grant], refuses=refuses)
    for status, block, opened_by in itertools.product(
        STATUSES, BLOCKS, [{"consents": ("to the organisation",)}, {"grant": {}}]
    ):
        _person(cast, status=status, block=BLOCKS[block], **opened_by)


def _opened(pro, category):
    """The files `file_access` opens to `pro` with `category` readable, at the moment."""
    opened = set()
    for person_id in Person.objects.values_list("pk", flat=True):
        try:
            access = file_access(pro, person_id, at=AT)
        except Http404:
            continue
        if access.can(Action.VIEW, category):
            opened.add(person_id)
    return opened


@pytest.mark.parametrize(
    "charter", ["default", "identity closed", "procedures closed", "all read only"]
)
@pytest.mark.usefixtures("grid")
def test_the_lists_hold_exactly_the_files_that_open_with_the_category(cast, charter):
    listed_somewhere = set()
    for who in ("ass", "mjpm"):
        pro = cast[who]
        levels = levels_for(pro.organisation_kind, pro.profession)
        if who == "ass":
            levels = _charters(levels)[charter]
        with patch("relais.consent.access.levels_for", return_value=levels):
            for category in DataCategory.values:
                listed = {row["pk"] for row in persons_readable_in(pro, category, at=AT)}
                assert listed == _opened(pro, category), (who, category)
                listed_somewhere |= listed
    assert listed_somewhere
