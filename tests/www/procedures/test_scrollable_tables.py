"""The procedures' tables scroll sideways on a narrow screen (DSFR's `.fr-table > table`
is its own scroll container): each takes the keyboard focus, named by its caption, so that
a keyboard user can scroll it with the arrow keys."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from relais.audit.context import SYSTEM
from relais.consent.charter import charter_publish, default_matrix
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from tests.conftest import log_in
from tests.factories import MembershipFactory
from tests.persons.factories import ConsentFactory

PROCEDURES_TEMPLATES = Path(settings.BASE_DIR) / "relais" / "templates" / "procedures"
TABLE = re.compile(r"<table([^>]*)>(\s*<caption)?")


def test_every_table_of_the_procedures_templates_takes_the_focus_by_its_caption():
    tables = {
        path.name: TABLE.findall(path.read_text(encoding="utf-8"))
        for path in PROCEDURES_TEMPLATES.glob("*.html")
    }

    assert {"detail.html", "list.html", "person.html", "_person_table.html"} <= {
        name for name, found in tables.items() if found
    }
    unreachable = [
        name
        for name, found in tables.items()
        for attributes, caption in found
        if 'tabindex="0"' not in attributes or not caption
    ]
    assert not unreachable


@pytest.mark.django_db
def test_a_reader_of_a_procedure_can_reach_its_tables(procedure, person):
    levels = default_matrix()
    for category in (DataCategory.PROCEDURES, DataCategory.DOCUMENTS):
        levels[(OrganisationKind.CCAS, Profession.CESF, category)] = Level.READ
    charter_publish(levels=levels, summary="Démarches en lecture pour les CESF.", by=SYSTEM)
    reader = MembershipFactory(profession=Profession.CESF)
    ConsentFactory(person=person, organisation=reader.organisation)
    client = log_in(Client(), reader.user, reader)

    page = client.get(reverse("procedures:detail", args=[person.pk, procedure.pk]))

    main = page.content.decode().split("<main")[1].split("</main>")[0]
    checklist = main.split('id="titre-pieces"')[1].split('id="titre-etapes"')[0]
    # Nothing in the checklist takes the focus for it: the table itself must.
    assert "<form" not in main and "<a " not in checklist
    assert re.findall(r'<table tabindex="0">\s*<caption class="fr-sr-only">([^<]+)', main) == [
        "Liste des pièces à fournir et pièces rattachées",
        "Changements d'état de la démarche",
    ]
