"""The commitments a professional accepts belong to the version: the pilot writes them when
publishing, the charter page shows those of the version in force, and a version keeps them
once the wording has changed."""

from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.audit.models import AuditEvent
from relais.consent.charter import (
    COMMITMENTS_MAX_LENGTH,
    DEFAULT_COMMITMENTS,
    charter_publish,
    current_matrix,
    current_version,
    version_changes,
)
from relais.consent.models import CharterRule, CharterVersion
from relais.organisations.models import OrganisationKind
from tests.conftest import log_in
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db

# The commitments as the charter page's template wrote them before they were kept with the
# version, each of its list items a paragraph (« avec » was in bold).
TEMPLATE_WORDING = [
    "Je n'ouvre un dossier que pour accompagner la personne, avec son consentement, dans la "
    "limite de ce qu'elle a accepté de partager.",
    "Je saisis avec la personne plutôt qu'à sa place, et je lui explique ce que je fais.",
    "J'écris des notes objectives et nécessaires ; je n'écris ni diagnostic, ni opinion, ni "
    "jugement.",
    "Je n'utilise l'accès exceptionnel qu'en cas de nécessité, en écrivant pourquoi : la "
    "personne et mon responsable le verront.",
    "Je ne partage ni mon mot de passe, ni mon second facteur, et je me déconnecte en quittant "
    "le poste.",
    "Chacun de mes accès est inscrit dans un journal que la personne peut consulter.",
]
NEW_WORDING = "Je respecte le secret professionnel.\n\nJe n'imprime aucun dossier."
EDITOR = reverse("consent:charter_edit")


@pytest.fixture
def _latest_schema_after():
    yield
    migrate_to_latest()


@pytest.mark.usefixtures("_latest_schema_after")
def test_the_versions_published_before_keep_the_wording_they_were_accepted_with(
    transactional_db,
):
    apps = migrate_to(("consent", "0006_charter_acceptance_rights"))
    apps.get_model("consent", "CharterVersion").objects.create(
        number=41, published_by_label="Pilote"
    )

    apps = migrate_to(("consent", "0007_charter_commitments"))

    kept = apps.get_model("consent", "CharterVersion").objects.get(number=41).commitments
    assert kept.split("\n\n") == TEMPLATE_WORDING


def test_the_default_charter_holds_the_wording_of_the_template():
    assert DEFAULT_COMMITMENTS.split("\n\n") == TEMPLATE_WORDING


def _unaccepted() -> Client:
    member = MembershipFactory()
    client = log_in(Client(), member.user, device=TOTPDeviceFactory(user=member.user))
    session = client.session
    session["relais_membership_id"] = member.pk
    session.save()
    return client


def _charter_page(client: Client) -> str:
    return client.get(reverse("consent:charter")).content.decode()


def test_the_charter_page_shows_the_commitments_of_the_version_in_force(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(
            levels=current_matrix(), summary="Engagements", by=SYSTEM, commitments=NEW_WORDING
        )

    page = unescape(_charter_page(_unaccepted()))

    assert "<p>Je respecte le secret professionnel.</p>" in page
    assert "<p>Je n'imprime aucun dossier.</p>" in page
    assert TEMPLATE_WORDING[1] not in page


def test_the_charter_page_shows_the_commitments_as_plain_text(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(
            levels=current_matrix(),
            summary="Engagements",
            by=SYSTEM,
            commitments='Je lis <a href="https://exemple.test">ceci</a>.\nPuis <b>cela</b>.',
        )

    page = _charter_page(_unaccepted())

    assert (
        "<p>Je lis &lt;a href=&quot;https://exemple.test&quot;&gt;ceci&lt;/a&gt;.<br>"
        "Puis &lt;b&gt;cela&lt;/b&gt;.</p>"
    ) in page
    assert '<a href="https://exemple.test">' not in page


def test_a_version_published_without_commitments_keeps_those_of_the_last_one():
    charter_publish(
        levels=current_matrix(), summary="Engagements", by=SYSTEM, commitments=NEW_WORDING
    )

    newer = charter_publish(levels=current_matrix(), summary="Grille", by=SYSTEM)

    assert newer.commitments == NEW_WORDING
    assert version_changes(newer, OrganisationKind.CCAS).commitments is False


def test_the_commitments_are_kept_as_they_read():
    version = charter_publish(
        levels=current_matrix(),
        summary="Engagements",
        by=SYSTEM,
        commitments="\r\n  Je respecte le secret.  \r\n\r\nJe n'imprime rien.\r\n\r\n",
    )

    assert version.commitments == "Je respecte le secret.\n\nJe n'imprime rien."


@pytest.mark.parametrize(
    ("commitments", "message"),
    [
        (
            " \r\n\r\n ",
            "Écrivez les engagements que chaque professionnel accepte avec cette version : "
            "le texte ne peut pas être vide.",
        ),
        (
            "Je respecte\x00 le secret.",
            "Le texte des engagements contient un caractère invisible interdit : récrivez-le.",
        ),
        (
            "x" * (COMMITMENTS_MAX_LENGTH + 1),
            f"Le texte des engagements dépasse {COMMITMENTS_MAX_LENGTH} caractères : "
            "raccourcissez-le.",
        ),
    ],
)
def test_it_refuses_commitments_that_cannot_be_accepted_and_writes_nothing(commitments, message):
    current_version()
    counts = CharterVersion.objects.count(), CharterRule.objects.count(), AuditEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        charter_publish(
            levels=current_matrix(), summary="Engagements", by=SYSTEM, commitments=commitments
        )

    assert refused.value.messages == [message]
    assert (
        CharterVersion.objects.count(),
        CharterRule.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


def _ccas_grid() -> dict[str, str]:
    return {f"{p}__{c}": level for (k, p, c), level in current_matrix().items() if k == "ccas"}


def _posted(**fields: object) -> dict[str, object]:
    """What the editor's page posts, unchanged but for `fields`."""
    version = current_version()
    return {
        "type": "ccas",
        "version": version.number,
        "summary": "Engagements",
        "commitments": version.commitments,
        **_ccas_grid(),
        **fields,
    }


def test_the_editor_is_filled_with_the_commitments_of_the_version_in_force(pilot_client):
    page = unescape(pilot_client.get(EDITOR).content.decode())

    assert f">{DEFAULT_COMMITMENTS}</textarea>" in page


def test_a_change_of_the_commitments_alone_is_a_version_every_professional_accepts_again(
    member_membership, django_capture_on_commit_callbacks
):
    member = log_in(Client(), member_membership.user, member_membership)
    pilot = log_in(Client(), UserFactory(pilot=True))
    before = current_version()
    published_before = AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).count()
    assert member.get(reverse("persons:list")).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = pilot.post(
            EDITOR, _posted(commitments=NEW_WORDING.replace("\n", "\r\n"), etape="publier")
        )

    assert response.status_code == 302
    published = current_version()
    assert published.number == before.number + 1
    assert published.commitments == NEW_WORDING
    assert CharterVersion.objects.get(pk=before.pk).commitments == DEFAULT_COMMITMENTS
    assert AuditEvent.objects.filter(action=AuditAction.CHARTER_PUBLISHED).count() == (
        published_before + 1
    )
    assert member.get(reverse("persons:list")).url.startswith(reverse("consent:charter"))
    page = unescape(pilot.get(response.url).content.decode())
    assert "<li>Le texte des engagements a changé.</li>" in page
    assert "Aucun droit de ce type de structure n'a changé" in page
    assert f">{NEW_WORDING}</textarea>" in page


def test_the_editor_does_not_say_the_commitments_changed_when_only_rights_did(
    pilot_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pilot_client.post(EDITOR, _posted(etape="publier", **{"cip__sante": "read"}))

    page = unescape(pilot_client.get(EDITOR).content.decode())

    assert "Conseiller(ère) en insertion professionnelle — Santé : Aucun accès → Lecture" in page
    assert "Le texte des engagements a changé" not in page


def _refused(client: Client, data: dict[str, object]) -> str:
    versions, events = CharterVersion.objects.count(), AuditEvent.objects.count()

    response = client.post(EDITOR, data)

    assert response.status_code == 400
    assert (CharterVersion.objects.count(), AuditEvent.objects.count()) == (versions, events)
    return unescape(response.content.decode())


def test_the_editor_refuses_empty_commitments_and_shows_the_grid_typed(pilot_client):
    page = _refused(pilot_client, _posted(commitments="  ", **{"cip__sante": "read"}))

    assert (
        "Écrivez les engagements que chaque professionnel accepte avec cette version : "
        "le texte ne peut pas être vide."
    ) in page
    assert (
        '<option value="read" selected>' in page.split('name="cip__sante"')[1].split("</select")[0]
    )


def test_the_editor_shows_again_the_commitments_typed_when_a_publication_is_refused(
    pilot_client,
):
    page = _refused(pilot_client, _posted(commitments=NEW_WORDING, summary=""))

    assert f">{NEW_WORDING}</textarea>" in page


def test_the_same_commitments_with_other_line_breaks_and_the_same_grid_are_not_published(
    pilot_client,
):
    shown = current_version()

    page = _refused(
        pilot_client, _posted(commitments=shown.commitments.replace("\n", "\r\n") + "\r\n")
    )

    assert (
        "La grille ne change aucun droit et le texte des engagements est celui de la version "
        f"{shown.number} : rien n'est publié"
    ) in page


def test_the_same_commitments_with_more_blank_lines_between_paragraphs_are_not_published(
    pilot_client,
):
    """The page shows one paragraph break however many blank lines separate two."""
    shown = current_version()

    page = _refused(
        pilot_client, _posted(commitments=shown.commitments.replace("\n\n", "\r\n \r\n\r\n", 1))
    )

    assert (
        "La grille ne change aucun droit et le texte des engagements est celui de la version "
        f"{shown.number} : rien n'est publié"
    ) in page


def test_the_editor_shows_the_commitments_of_a_version_published_while_they_were_edited(
    pilot_client, django_capture_on_commit_callbacks
):
    typed = _posted(commitments="Mon texte, écrit pendant qu'un autre publiait.")
    with django_capture_on_commit_callbacks(execute=True):
        charter_publish(
            levels=current_matrix(), summary="Autre pilote", by=SYSTEM, commitments=NEW_WORDING
        )

    page = _refused(pilot_client, typed)

    assert "a été publiée pendant votre modification" in page
    assert f">{NEW_WORDING}</textarea>" in page
