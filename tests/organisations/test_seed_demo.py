from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.fr import siret

from relais.accounts.models import User
from relais.audit.models import AuditEvent
from relais.organisations.models import Membership, Organisation, Role
from relais.persons.models import Person, Referent

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "devices": TOTPDevice.objects.count(),
        "events": AuditEvent.objects.count(),
    }


def test_it_is_idempotent():
    _seed()
    first = _counts()
    _seed()

    assert _counts() == first
    assert first["organisations"] == 13


def test_it_leaves_an_intact_journal():
    _seed()
    _seed()
    out = StringIO()

    call_command("verify_audit", stdout=out)

    assert "Journal intact" in out.getvalue()
    assert AuditEvent.objects.count() >= 13


def test_it_places_each_demo_person_in_the_town_of_the_organisation_following_them():
    _seed()

    persons = Person.objects.all()
    assert persons.exists()
    for person in persons:
        referent = Referent.objects.select_related("organisation").get(person=person)
        assert person.commune_name == referent.organisation.commune_name, person.pk


def test_it_creates_organisations_with_valid_sirets():
    _seed()

    sirets = list(Organisation.objects.values_list("siret", flat=True))
    assert len(sirets) == len(set(sirets)) == 13
    assert all(siret.is_valid(number) for number in sirets)


def test_it_gives_each_organisation_one_manager():
    _seed()

    for organisation in Organisation.objects.all():
        managers = Membership.objects.active().filter(organisation=organisation, role=Role.MANAGER)
        assert managers.count() == 1, organisation.name


def test_it_creates_one_pilot_and_a_professional_of_two_organisations():
    _seed()

    pilot = User.objects.get(is_superuser=True)
    assert pilot.is_staff
    assert not pilot.memberships.exists()
    assert User.objects.filter(memberships__isnull=False).distinct().count() == 25
    assert Membership.objects.filter(user__email="karim.benali@demo.relais.test").count() == 2


def test_it_gives_every_demo_account_the_shared_authenticator(settings):
    _seed()

    assert TOTPDevice.objects.filter(confirmed=True).count() == User.objects.count()
    keys = set(TOTPDevice.objects.values_list("key", flat=True))
    assert len(keys) == 1


def test_it_prints_the_demo_logins():
    output = _seed()

    assert "pilote.regional@demo.relais.test" in output
    assert "claire.dumont@demo.relais.test" in output


def test_it_is_refused_outside_demo_mode(settings):
    settings.RELAIS_DEMO_MODE = False

    with pytest.raises(CommandError, match="hors du mode démo"):
        _seed()

    assert _counts() == dict.fromkeys(_counts(), 0)
