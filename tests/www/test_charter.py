import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from relais.accounts.sessions import MEMBERSHIP_ID
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import charter_publish, current_matrix, current_version
from relais.consent.middleware import ACCEPTED_VERSION
from relais.consent.models import CharterAcceptance, CharterVersion
from relais.organisations.models import OrganisationKind, Profession
from relais.persons.categories import DataCategory
from tests.conftest import log_in
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_client(client):
    """A verified professional who has not accepted the charter yet."""
    membership = MembershipFactory()
    log_in(client, membership.user, device=TOTPDeviceFactory(user=membership.user))
    session = client.session
    session["relais_membership_id"] = membership.pk
    session.save()
    return client, membership


def _accepting(*memberships, **fields):
    """What the charter page posts: the version and the rights it showed."""
    rights = sorted({f"{m.organisation.kind}/{m.profession}" for m in memberships})
    return {"version": current_version().number, "droits": rights} | fields


def test_it_sends_a_professional_to_the_charter_before_any_page(fresh_client):
    client, _ = fresh_client

    response = client.get(reverse("persons:list"))

    assert response.status_code == 302
    assert response.url == reverse("consent:charter") + "?next=%2Fpersonnes%2F"


def test_it_returns_to_the_asked_page_once_the_charter_is_accepted(fresh_client):
    client, membership = fresh_client

    response = client.post(reverse("consent:charter"), _accepting(membership, next="/personnes/"))

    assert response.url == "/personnes/"
    assert CharterAcceptance.objects.filter(user=membership.user).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CHARTER_ACCEPTED).count() == 1
    assert client.get(reverse("persons:list")).status_code == 200


@pytest.mark.parametrize(
    "next_page", ["https://exemple.test/", "//exemple.test/", "on", "persons:list", "journal/"]
)
def test_it_goes_home_for_a_next_page_that_is_not_a_path_of_this_site(fresh_client, next_page):
    client, membership = fresh_client

    response = client.post(reverse("consent:charter"), _accepting(membership, next=next_page))

    assert response.status_code == 302
    assert response.url == reverse("www:home")
    assert CharterAcceptance.objects.filter(user=membership.user).count() == 1


def test_it_asks_again_when_the_pilot_publishes_a_new_version(
    member_membership, django_capture_on_commit_callbacks
):
    member = log_in(Client(), member_membership.user, member_membership)
    pilot = log_in(Client(), UserFactory(pilot=True))
    assert member.get(reverse("persons:list")).status_code == 200
    levels = _changed_levels()

    with django_capture_on_commit_callbacks(execute=True):
        response = pilot.post(
            reverse("consent:charter_edit"),
            {
                "type": "ccas",
                "summary": "Mise à jour",
                "version": _shown(),
                "commitments": _in_force_commitments(),
                "etape": "publier",
                **levels,
            },
        )

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).exists()
    assert member.get(reverse("persons:list")).url.startswith(reverse("consent:charter"))


def test_it_refuses_a_publication_without_summary_and_changes_nothing(pilot_client):
    before = current_version().number

    response = pilot_client.post(reverse("consent:charter_edit"), {"type": "ccas"})

    assert response.status_code == 400
    assert "Décrivez en une phrase ce qui change" in response.content.decode()
    assert current_version().number == before


def test_it_refuses_a_summary_with_a_nul_character_and_changes_nothing(pilot_client):
    before = current_version().number
    levels = {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == "ccas"}

    response = pilot_client.post(
        reverse("consent:charter_edit"), {"type": "ccas", "summary": "Mise\x00à jour", **levels}
    )

    assert response.status_code == 400
    assert "caractère invisible interdit" in response.content.decode()
    assert current_version().number == before


def _shown() -> int:
    """The version the editor's page names, posted back with the grid."""
    return current_version().number


def _in_force_commitments() -> str:
    """The commitments the editor's page shows, posted back unchanged with the grid."""
    return current_version().commitments


def test_it_refuses_to_publish_over_a_version_published_while_the_grid_was_edited(
    pilot_client, django_capture_on_commit_callbacks
):
    shown = _shown()
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(levels=current_matrix(), summary="Publiée par un autre pilote", by=SYSTEM)
    typed = f"{Profession.CIP}__{DataCategory.HOUSING}"

    page = _refused(
        pilot_client,
        {
            "type": "ccas",
            "summary": "Mise à jour",
            "version": shown,
            "commitments": _in_force_commitments(),
            **_ccas_levels(),
            typed: "write",
        },
    )

    assert f"La version {shown + 1} a été publiée pendant votre modification" in page
    assert _selected(page, typed) == current_matrix()[("ccas", Profession.CIP, "logement")]
    assert _selected(page, typed) != "write"
    assert f'name="version" value="{shown + 1}"' in page


def test_it_refuses_a_publication_that_names_no_version(pilot_client):
    page = _refused(pilot_client, {"type": "ccas", "summary": "Mise à jour", **_ccas_levels()})

    assert "La version modifiée manque : rechargez la page." in page


def _ccas_levels() -> dict[str, str]:
    return {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == "ccas"}


def _changed_levels() -> dict[str, str]:
    """The CCAS grid with one right changed: the CIP read health."""
    return _ccas_levels() | {f"{Profession.CIP}__{DataCategory.HEALTH}": "read"}


def _refused(pilot_client, data: dict[str, str]) -> str:
    """Post `data` to the charter editor, check nothing was published, return the page."""
    versions, events = CharterVersion.objects.count(), AuditEvent.objects.count()

    response = pilot_client.post(reverse("consent:charter_edit"), data)

    assert response.status_code == 400
    assert CharterVersion.objects.count() == versions
    assert AuditEvent.objects.count() == events
    return unescape(response.content.decode())


@pytest.mark.parametrize("kind", ["inconnu", "", None])
def test_it_refuses_a_publication_for_an_unknown_kind_and_changes_nothing(pilot_client, kind):
    data = {"summary": "Mise à jour", **_ccas_levels()}
    if kind is not None:
        data["type"] = kind

    page = _refused(pilot_client, data)

    assert "Type de structure inconnu : choisissez-en un dans la liste." in page


@pytest.mark.parametrize("length", [301, 200_000])
def test_it_refuses_a_summary_too_long_and_changes_nothing(pilot_client, length):
    page = _refused(pilot_client, {"type": "ccas", "summary": "x" * length, **_ccas_levels()})

    assert "Le résumé dépasse 300 caractères : raccourcissez-le." in page


def test_it_publishes_a_summary_of_the_longest_length_allowed(pilot_client):
    summary = "x" * 300

    response = pilot_client.post(
        reverse("consent:charter_edit"),
        {
            "type": "ccas",
            "summary": summary,
            "version": _shown(),
            "commitments": _in_force_commitments(),
            "etape": "publier",
            **_changed_levels(),
        },
    )

    assert response.status_code == 302
    assert CharterVersion.objects.order_by("-number").first().summary == summary


def test_it_counts_the_missing_levels_by_profession_and_changes_nothing(pilot_client):
    levels = _ccas_levels()
    for category in list(DataCategory)[:3]:
        del levels[f"{Profession.NURSE}__{category}"]
    levels[f"{Profession.CIP}__{DataCategory.HEALTH}"] = "tout"

    page = _refused(pilot_client, {"type": "ccas", "summary": "Mise à jour", **levels})

    assert (
        "Niveau d'accès manquant ou inconnu pour : "
        "Conseiller(ère) en insertion professionnelle (1 catégorie), "
        "Infirmier(ère) (3 catégories)."
    ) in page


def _acceptances() -> tuple[int, int]:
    return (
        CharterAcceptance.objects.count(),
        AuditEvent.objects.filter(action=AuditAction.CHARTER_ACCEPTED).count(),
    )


def test_it_refuses_an_acceptance_of_a_version_published_while_the_page_was_read(
    fresh_client, django_capture_on_commit_callbacks
):
    client, membership = fresh_client
    read = _accepting(membership)
    with django_capture_on_commit_callbacks(execute=True):
        published = charter_publish(levels=current_matrix(), summary="Mise à jour", by=SYSTEM)

    response = client.post(reverse("consent:charter"), read | {"next": "/personnes/"})

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert (
        f"La charte a changé pendant votre lecture : relisez la version {published.number}." in page
    )
    assert f'name="version" value="{published.number}"' in page
    assert 'name="next" value="/personnes/"' in page
    assert _acceptances() == (0, 0)
    assert client.get(reverse("persons:list")).status_code == 302


def test_it_refuses_an_acceptance_that_names_no_version(fresh_client):
    client, membership = fresh_client
    data = _accepting(membership)
    del data["version"]

    response = client.post(reverse("consent:charter"), data)

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert "La charte a changé pendant votre lecture" in page
    assert "<title>Erreur — Charte d'usages — Relais</title>" in page
    assert '<div id="acceptation-refusee" tabindex="-1" autofocus' in page
    assert _acceptances() == (0, 0)


def _acting_for(client, membership) -> None:
    session = client.session
    session[MEMBERSHIP_ID] = membership.pk
    session.save()


def test_it_asks_again_for_rights_of_another_profession_in_another_kind_of_organisation(
    member_membership,
):
    client = log_in(Client(), member_membership.user, member_membership)
    chrs = MembershipFactory(
        user=member_membership.user,
        organisation=OrganisationFactory(name="CHRS Le Phare", kind=OrganisationKind.CHRS),
        profession=Profession.ES,
    )
    _acting_for(client, chrs)

    assert client.get(reverse("persons:list")).url.startswith(reverse("consent:charter"))
    page = unescape(client.get(reverse("consent:charter")).content.decode())
    assert f"Mes droits — {member_membership.organisation.name}, assistant(e)" in page
    assert "Mes droits — CHRS Le Phare, éducateur(rice) spécialisé(e)" in page
    response = client.post(reverse("consent:charter"), _accepting(member_membership, chrs))
    assert response.status_code == 302
    assert client.get(reverse("persons:list")).status_code == 200
    assert CharterAcceptance.objects.get(organisation_kind="chrs").profession == "es"
    accepted = AuditEvent.objects.filter(action=AuditAction.CHARTER_ACCEPTED).order_by("seq")
    assert accepted.last().details == {"droits": "chrs × es"}


def test_it_does_not_ask_again_for_the_same_rights_in_another_organisation(member_membership):
    client = log_in(Client(), member_membership.user, member_membership)
    other = MembershipFactory(user=member_membership.user)
    _acting_for(client, other)

    assert client.get(reverse("persons:list")).status_code == 200


def test_it_refuses_an_acceptance_when_the_memberships_changed_while_the_page_was_read(
    fresh_client,
):
    client, membership = fresh_client
    read = _accepting(membership)
    MembershipFactory(user=membership.user, organisation__kind=OrganisationKind.CHRS)

    response = client.post(reverse("consent:charter"), read)

    assert response.status_code == 400
    assert "Vos rattachements ont changé pendant votre lecture" in unescape(
        response.content.decode()
    )
    assert _acceptances() == (0, 0)


def test_it_remembers_in_the_session_the_rights_accepted(fresh_client):
    client, membership = fresh_client

    client.post(reverse("consent:charter"), _accepting(membership))

    assert client.session[ACCEPTED_VERSION] == [current_version().pk, "ccas", "ass"]


def _selected(page: str, name: str) -> str:
    """The level a select of the charter editor shows."""
    select = re.search(rf'<select [^>]*name="{name}">(.*?)</select>', page, re.S)
    assert select is not None
    return re.search(r'<option value="([^"]*)" selected>', select.group(1)).group(1)


def test_a_refused_publication_shows_again_the_levels_and_the_summary_typed(pilot_client):
    health, housing = f"{Profession.CIP}__{DataCategory.HEALTH}", f"{Profession.NURSE}__logement"
    saved = current_matrix()[("ccas", Profession.NURSE, DataCategory.HOUSING)]
    levels = _ccas_levels() | {health: "write", housing: "tout"}

    page = _refused(pilot_client, {"type": "ccas", "summary": "x" * 301, **levels})

    assert _selected(page, health) == "write"
    assert _selected(page, housing) == saved
    assert f'name="summary" maxlength="300" value="{"x" * 301}"' in page


@pytest.mark.parametrize(
    ("referer", "query"),
    [
        ("http://testserver/personnes/?page=2", "?next=%2Fpersonnes%2F"),
        ("https://exemple.test/personnes/", ""),
        ("", ""),
    ],
)
def test_a_form_sent_under_a_version_not_accepted_comes_back_to_the_page_that_held_it(
    fresh_client, referer, query
):
    client, _ = fresh_client

    response = client.post(reverse("persons:list"), {"q": "dupont"}, HTTP_REFERER=referer)

    assert response.status_code == 302
    assert response.url == reverse("consent:charter") + query


def test_it_refuses_a_publication_that_changes_no_right_and_changes_nothing(pilot_client):
    page = _refused(
        pilot_client,
        {
            "type": "ccas",
            "summary": "Relecture",
            "version": _shown(),
            "commitments": _in_force_commitments(),
            **_ccas_levels(),
        },
    )

    assert (
        "La grille ne change aucun droit et le texte des engagements est celui de la version "
        f"{_shown()} : rien n'est publié, et les professionnels n'ont pas à l'accepter de "
        "nouveau."
    ) in page


def test_the_editor_shows_what_the_version_in_force_changed_for_the_kind_shown(
    pilot_client, django_capture_on_commit_callbacks
):
    levels = current_matrix()
    levels[("ccas", Profession.CIP, DataCategory.HEALTH)] = "read"
    levels[("chrs", Profession.ES, DataCategory.HEALTH)] = "read"
    with django_capture_on_commit_callbacks(execute=True):
        published = charter_publish(levels=levels, summary="Santé lue", by=SYSTEM)

    page = unescape(
        pilot_client.get(reverse("consent:charter_edit"), {"type": "ccas"}).content.decode()
    )

    assert f"Ce que la version {published.number} a changé" in page
    assert "Conseiller(ère) en insertion professionnelle — Santé : Aucun accès → Lecture" in page
    assert "Éducateur" not in page.split("a changé")[1].split("</ul>")[0]


def test_the_editor_s_table_names_the_kind_of_organisation_it_sets(pilot_client):
    page = unescape(
        pilot_client.get(reverse("consent:charter_edit"), {"type": "chrs"}).content.decode()
    )

    caption = re.search(r"<caption>(.*?)</caption>", page).group(1)
    assert (
        caption == f"Droits par profession et catégorie de données — {OrganisationKind.CHRS.label}"
    )


def test_it_refuses_a_grid_that_closes_the_identity_and_opens_another_category(pilot_client):
    """No file opens without the identity: the other rights would do nothing."""
    closed = _ccas_levels() | {
        f"{Profession.CIP}__{DataCategory.IDENTITY}": "none",
        f"{Profession.ASS}__{DataCategory.IDENTITY}": "none",
    }

    page = unescape(
        _refused(
            pilot_client,
            {
                "type": "ccas",
                "summary": "Identité fermée",
                "version": _shown(),
                "commitments": _in_force_commitments(),
                **closed,
            },
        )
    )

    assert "les autres droits seraient sans effet pour " in page
    assert Profession.CIP.label in page and Profession.ASS.label in page


def test_it_publishes_a_grid_that_closes_a_profession_altogether(
    pilot_client, django_capture_on_commit_callbacks
):
    closed = _ccas_levels() | {f"{Profession.CIP}__{c}": "none" for c in DataCategory.values}

    with django_capture_on_commit_callbacks(execute=True):
        response = pilot_client.post(
            reverse("consent:charter_edit"),
            {
                "type": "ccas",
                "summary": "Plus aucun accès pour les CIP des CCAS",
                "version": _shown(),
                "commitments": _in_force_commitments(),
                "etape": "publier",
                **closed,
            },
        )

    assert response.status_code == 302
    assert current_matrix()[(OrganisationKind.CCAS, Profession.CIP, DataCategory.HEALTH)] == "none"
    assert current_matrix()[(OrganisationKind.CCAS, Profession.CIP, DataCategory.IDENTITY)] == (
        "none"
    )


def test_the_editor_says_the_first_version_has_none_before_it(pilot_client):
    assert current_version().number == 1

    page = unescape(pilot_client.get(reverse("consent:charter_edit")).content.decode())

    assert (
        "La version 1 est la première publiée : il n'y a pas de version précédente à laquelle "
        "la comparer."
    ) in page
    assert "par rapport à la version précédente" not in page


def test_a_refused_publication_is_said_at_the_top_of_the_page_which_takes_the_focus(
    pilot_client,
):
    """Said in the page, not in a notice above it: a keyboard or screen reader user lands
    on why, and each reason leads to its field."""
    page = _refused(pilot_client, {"type": "ccas", "commitments": "", **_changed_levels()})

    alert = re.search(r'<div id="publication-refusee"[^>]*>(.*?)</div>', page, re.S)
    assert alert is not None
    assert 'tabindex="-1" autofocus' in alert.group(0)
    assert '<a href="#summary">Décrivez en une phrase ce qui change' in alert.group(1)
    assert '<a href="#commitments">Écrivez les engagements' in alert.group(1)
    assert 'aria-invalid="true" id="summary"' in page
    assert 'aria-invalid="true" id="commitments"' in page
    assert page.count("Décrivez en une phrase ce qui change") == 1
    assert "<title>Erreur — Modifier la charte d'usages — Relais</title>" in page


def test_a_refusal_about_the_rights_leads_to_the_grid(pilot_client):
    levels = _ccas_levels()
    levels.pop(f"{Profession.CIP}__{DataCategory.HEALTH}")

    page = _refused(pilot_client, {"type": "ccas", "summary": "Santé", **levels})

    assert '<a href="#grille">Niveau d\'accès manquant' in page
    assert 'id="grille" tabindex="-1"' in page
    assert 'aria-invalid="true" id="summary"' not in page
