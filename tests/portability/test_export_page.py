"""« Télécharger mes données »: the ZIP goes to the person only, through their own space;
its journal rows are written with it, and never for anyone else's request."""

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from tests.conftest import log_in
from tests.portability.builders import full_file
from tests.portability.reading import read_export
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    return full_file()


def export_rows(person_id: int) -> dict[str, int]:
    return {
        "exported": AuditEvent.objects.filter(
            action=AuditAction.PERSON_DATA_EXPORTED, person_id=person_id
        ).count(),
        "number": AuditEvent.objects.filter(
            action=AuditAction.NIR_REVEALED, person_id=person_id, details__export=True
        ).count(),
    }


def test_it_sends_the_person_their_file_and_journals_it(built):
    client = log_in_person(Client(), built.account)

    response = client.post(reverse("portal:export"))

    data = read_export(b"".join(response.streaming_content))
    assert data["identity"]["id"] == built.person.pk
    assert export_rows(built.person.pk) == {"exported": 1, "number": 1}


@pytest.mark.parametrize("who", ["anonymous", "professional"])
def test_it_gives_nothing_to_anyone_but_the_person(built, client, who):
    if who == "professional":
        log_in(client, built.referent.user, built.referent)

    response = client.post(reverse("portal:export"))

    assert response.status_code == 302
    assert response.url == reverse("portal:login")
    assert export_rows(built.person.pk) == {"exported": 0, "number": 0}
