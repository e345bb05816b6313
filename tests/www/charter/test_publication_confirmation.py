"""A publication in two steps: the editor's valid form leads to a page that says what the
new version changes from the one in force and publishes nothing; only that page's
« Publier » publishes, the very form it showed, checked again whole."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_publish, current_matrix, current_version
from relais.consent.models import CharterVersion
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from tests.conftest import log_in
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

EDITOR = reverse("consent:charter_edit")
CIP_HEALTH = f"{Profession.CIP}__{DataCategory.HEALTH}"
NURSE_HOUSING = f"{Profession.NURSE}__{DataCategory.HOUSING}"
NEW_WORDING = "Je respecte le secret professionnel.\n\nJe n'imprime aucun dossier."


def _typed(**fields: str) -> dict[str, object]:
    """The editor's form for the CCAS as the version in force fills it, but for `fields`."""
    version = current_version()
    grid = {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == "ccas"}
    return {
        "type": OrganisationKind.CCAS,
        "version": version.number,
        "summary": "Les CIP lisent la santé ; les infirmiers écrivent le logement.",
        "commitments": version.commitments,
        **grid,
        **fields,
    }


def _two_rights_changed() -> dict[str, object]:
    return _typed(**{CIP_HEALTH: Level.READ, NURSE_HOUSING: Level.WRITE})


def _published() -> tuple[int, int]:
    return (
        CharterVersion.objects.count(),
        AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).count(),
    )


def _said(page: str) -> str:
    """The page's text as a screen reader says it: no tag, no arrow hidden from it."""
    page = re.sub(r'<span aria-hidden="true">[^<]*</span>', "", page)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def _hidden_fields(page: str) -> dict[str, str]:
    """What the confirmation's form sends back, as the browser reads its hidden fields."""
    form = page.split('<form method="post">')[-1].split("</form>")[0]
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form)
        if name != "csrfmiddlewaretoken"
    }


def _confirmation(client: Client, typed: dict[str, object]) -> str:
    response = client.post(EDITOR, typed)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_what_the_version_changes_and_publishes_nothing(pilot_client):
    shown = current_version().number
    before = _published()

    page = _confirmation(pilot_client, _two_rights_changed())

    said = _said(page)
    assert f"Publier la version {shown + 1} de la charte d'usages ?" in said
    assert "Rien n'est encore publié." in said
    assert (
        "Conseiller(ère) en insertion professionnelle, dans les structures de type CCAS / CIAS "
        "Santé : Aucun accès devient Lecture"
    ) in said
    assert (
        "Infirmier(ère), dans les structures de type CCAS / CIAS "
        "Logement : Aucun accès devient Lecture et écriture"
    ) in said
    assert said.count("dans les structures de type") == 2
    assert "Le texte des engagements ne change pas." in said
    assert "« Les CIP lisent la santé ; les infirmiers écrivent le logement. »" in said
    assert f"chaque professionnel devra accepter la version {shown + 1}" in said
    assert f">Publier la version {shown + 1}</button>" in page
    assert ">Revenir à la modification</button>" in page
    assert _published() == before
    assert current_version().number == shown


def test_it_says_the_commitments_change_and_shows_their_new_text(pilot_client):
    page = _confirmation(pilot_client, _typed(commitments=NEW_WORDING.replace("\n", "\r\n")))

    said = _said(page)
    assert "Le texte des engagements change." in said
    assert "<p>Je respecte le secret professionnel.</p>" in unescape(page)
    assert "Aucun droit ne change." in said


def test_the_confirmation_publishes_exactly_what_it_showed(
    pilot_client, django_capture_on_commit_callbacks
):
    in_force, matrix = current_version(), current_matrix()
    typed = _two_rights_changed() | {"commitments": NEW_WORDING.replace("\n", "\r\n")}
    sent_back = _hidden_fields(_confirmation(pilot_client, typed))
    before = _published()

    with django_capture_on_commit_callbacks(execute=True):
        response = pilot_client.post(EDITOR, sent_back | {"etape": "publier"})

    assert response.status_code == 302
    assert _published() == (before[0] + 1, before[1] + 1)
    published = current_version()
    assert published.number == in_force.number + 1
    assert published.summary == typed["summary"]
    assert published.commitments == NEW_WORDING
    assert current_matrix() == matrix | {
        ("ccas", Profession.CIP, DataCategory.HEALTH): Level.READ,
        ("ccas", Profession.NURSE, DataCategory.HOUSING): Level.WRITE,
    }


def test_going_back_shows_the_editor_as_typed_and_publishes_nothing(pilot_client):
    typed = _two_rights_changed() | {"commitments": NEW_WORDING}
    sent_back = _hidden_fields(_confirmation(pilot_client, typed))
    before = _published()

    response = pilot_client.post(EDITOR, sent_back | {"etape": "modifier"})

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert _selected(page, CIP_HEALTH) == Level.READ
    assert _selected(page, NURSE_HOUSING) == Level.WRITE
    assert f'value="{typed["summary"]}"' in page
    assert f">{NEW_WORDING}</textarea>" in page
    assert f'name="version" value="{current_version().number}"' in page
    assert "publication-refusee" not in page
    assert _published() == before


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select [^>]*name="{name}">(.*?)</select>', page, re.S)
    assert select is not None
    return re.search(r'<option value="([^"]*)" selected>', select.group(1)).group(1)


def test_a_version_published_meanwhile_is_refused_at_confirmation(
    pilot_client, django_capture_on_commit_callbacks
):
    sent_back = _hidden_fields(_confirmation(pilot_client, _two_rights_changed()))
    with django_capture_on_commit_callbacks(execute=True):
        meanwhile = charter_publish(levels=current_matrix(), summary="Une collègue", by=SYSTEM)
    before = _published()

    response = pilot_client.post(EDITOR, sent_back | {"etape": "publier"})

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert (
        f"La version {meanwhile.number} a été publiée pendant votre modification : la grille "
        "montre maintenant ses niveaux. Refaites vos changements, puis publiez."
    ) in page
    assert _selected(page, CIP_HEALTH) == Level.NONE
    assert f'name="version" value="{meanwhile.number}"' in page
    assert _published() == before


def test_the_changes_are_measured_from_the_version_in_the_database(pilot_client):
    """A version another server process published is the one in force, even when this
    process read the one before it a moment ago."""
    typed = _two_rights_changed()
    meanwhile = charter_publish(levels=current_matrix(), summary="Une collègue", by=SYSTEM)
    assert current_version().number == meanwhile.number - 1

    response = pilot_client.post(EDITOR, typed)

    assert response.status_code == 400
    assert f"La version {meanwhile.number} a été publiée pendant votre modification" in (
        unescape(response.content.decode())
    )


def test_a_confirmation_that_changes_nothing_is_refused(pilot_client):
    sent_back = _hidden_fields(_confirmation(pilot_client, _two_rights_changed()))
    unchanged = _typed(summary=sent_back["summary"]) | {"etape": "publier"}
    before = _published()

    response = pilot_client.post(EDITOR, unchanged)

    assert response.status_code == 400
    assert "La grille ne change aucun droit" in unescape(response.content.decode())
    assert _published() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (CIP_HEALTH, "tout", "Niveau d'accès manquant ou inconnu pour"),
        (
            f"{Profession.CIP}__{DataCategory.IDENTITY}",
            Level.NONE,
            "Sans l'identité, aucun dossier ne s'ouvre",
        ),
        ("summary", "", "Décrivez en une phrase ce qui change"),
        ("commitments", "", "Écrivez les engagements"),
    ],
)
def test_the_confirmation_is_checked_again_whole(pilot_client, field, value, message):
    sent_back = _hidden_fields(_confirmation(pilot_client, _two_rights_changed()))
    before = _published()

    response = pilot_client.post(EDITOR, sent_back | {field: value, "etape": "publier"})

    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert _published() == before


@pytest.mark.parametrize("step", ["", "publier"])
@pytest.mark.parametrize("role", ["member", "manager"])
def test_a_professional_who_is_not_the_pilot_neither_sees_nor_publishes(role, step):
    membership = MembershipFactory(manager=role == "manager")
    client = log_in(Client(), membership.user, membership)
    before = _published()

    response = client.post(EDITOR, _two_rights_changed() | {"etape": step})

    assert response.status_code == 403
    assert "Publier la version" not in response.content.decode()
    assert _published() == before
