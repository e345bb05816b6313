import pytest
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.persons.models import Person

pytestmark = pytest.mark.django_db


def test_it_creates_a_file_and_shows_it(member_client):
    response = member_client.post(
        reverse("persons:create"),
        {
            "first_names": "Léa",
            "birth_name": "Dupré",
            "birth_date": "1990-04-12",
            "nir": "",
            "categories": ["identite", "famille", "ressources", "notes"],
            "purpose": "Accompagnement",
            "duration": "6m",
            "method": "signe",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Person.objects.get()
    page = member_client.get(reverse("persons:file", args=[person.pk]))
    assert page.status_code == 200
    assert "DUPRÉ Léa" in page.content.decode()
    assert (
        AuditEvent.objects.filter(action=AuditAction.SECTION_VIEWED, person_id=person.pk).count()
        == 1
    )
    for category in ["famille", "ressources", "notes"]:
        assert (
            member_client.get(reverse("persons:section", args=[person.pk, category])).status_code
            == 200
        )
    assert (
        member_client.get(reverse("persons:section", args=[person.pk, "sante"])).status_code == 404
    )
    assert member_client.get(reverse("persons:consents", args=[person.pk])).status_code == 200
    assert member_client.get(reverse("persons:history", args=[person.pk])).status_code == 200
    search = member_client.post(reverse("persons:list"), {"q": "dupre"}, follow=True)
    assert "DUPRÉ Léa" in search.content.decode()
