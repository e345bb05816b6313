"""axe-core over every page each kind of user reaches, in its ordinary state and, for
forms, after a refused submission (error messages must be announced properly)."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from relais.accounts.password_reset import link_token
from relais.accounts.services import actor_of
from relais.audit.actions import AuditAction
from relais.audit.context import SYSTEM
from relais.organisations.models import Profession, Role
from relais.organisations.services import invitation_create
from relais.organisations.tokens import invitation_token
from relais.portal.services import person_account_open
from tests.conftest import totp_now
from tests.factories import (
    MembershipFactory,
    TOTPDeviceFactory,
    UserFactory,
)
from tests.persons.factories import PersonFactory
from tests.procedures.factories import ProcedureTypeFactory
from tests.www.browser.conftest import (
    CHARTER_ACCEPT,
    at,
    axe_violations,
    log_in_with_totp,
    submit_password,
)


class Sweep:
    """Visits pages one after the other and reports every violation at the end, so that
    one run lists all the pages to fix."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.violations: list[str] = []

    def check(self) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_count(1)
        self.violations += axe_violations(self.page)

    def visit(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (path, response)
        self.check()

    def submit_empty(self, button: str) -> None:
        """Send the page's form untouched, then check the page with its errors."""
        self.page.get_by_role("button", name=button).click()
        expect(self.page.locator(".fr-error-text, .fr-alert--error").first).to_be_visible()
        self.check()

    def charter(self) -> None:
        """Check the charte d'usages shown after login, then accept it."""
        expect(self.page).to_have_url(at(reverse("consent:charter")))
        self.check()
        self.page.get_by_role("button", name=CHARTER_ACCEPT).click()
        expect(self.page).to_have_url(at(reverse("www:home")))

    def assert_clean(self) -> None:
        report = "\n".join(self.violations)
        assert not self.violations, f"Anomalies d'accessibilité graves ou critiques :\n{report}"


@pytest.fixture
def sweep(page: Page) -> Sweep:
    return Sweep(page)


def invite(organisation, by_user, email: str):
    invitation, token = invitation_create(
        organisation=organisation,
        email=email,
        first_name="Inès",
        last_name="Invitée",
        role=Role.PROFESSIONAL,
        profession=Profession.CESF,
        invited_by=by_user,
        by=actor_of(by_user),
    )
    assert invitation_token(invitation) == token
    return invitation, token


def test_public_pages(sweep: Sweep):
    manager = MembershipFactory(manager=True)
    _, fresh_token = invite(manager.organisation, manager.user, "nouvelle@exemple.test")
    existing = UserFactory()
    _, existing_token = invite(manager.organisation, manager.user, existing.email)

    sweep.visit(reverse("www:accessibility"))
    sweep.visit(reverse("www:legal"))
    sweep.visit(reverse("www:privacy"))
    sweep.visit(reverse("accounts:login"))
    sweep.submit_empty("Se connecter")
    submit_password(sweep.page, existing.email, "pas-le-bon-mot-de-passe")
    expect(sweep.page.get_by_text("mot de passe incorrect")).to_be_visible()
    sweep.check()
    sweep.visit(reverse("accounts:invitation", args=[fresh_token]))
    sweep.submit_empty("Créer mon compte")
    sweep.visit(reverse("accounts:invitation", args=[existing_token]))
    sweep.visit(reverse("accounts:invitation", args=["lien-inconnu"]), status=404)
    sweep.visit(reverse("accounts:password_reset"))
    sweep.submit_empty("Recevoir le lien")
    sweep.visit(reverse("accounts:password_reset_sent"))
    forgetful = MembershipFactory(organisation=manager.organisation).user
    sweep.visit(reverse("accounts:password_reset_confirm", args=[link_token(forgetful)]))
    sweep.submit_empty("Enregistrer le mot de passe")
    sweep.visit(reverse("accounts:password_reset_confirm", args=["lien-inconnu"]), status=404)
    sweep.visit("/cette-page-n-existe-pas/", status=404)
    sweep.assert_clean()


def test_pages_of_a_manager(sweep: Sweep):
    manager = MembershipFactory(manager=True)
    organisation = manager.organisation
    colleague = MembershipFactory(organisation=organisation)
    TOTPDeviceFactory(user=colleague.user)
    former = MembershipFactory(
        organisation=organisation,
        started_on=timezone.localdate() - timedelta(days=90),
        ended_on=timezone.localdate() - timedelta(days=1),
    )
    invite(organisation, manager.user, "arrivee@exemple.test")
    log_in_with_totp(sweep.page, manager.user, TOTPDeviceFactory(user=manager.user))
    sweep.charter()

    sweep.check()
    sweep.visit(reverse("accounts:profile"))
    sweep.visit(reverse("organisations:members"))
    sweep.submit_empty("Envoyer l'invitation")
    sweep.visit(reverse("organisations:edit_member", args=[colleague.pk]))
    sweep.visit(reverse("organisations:deactivate", args=[colleague.pk]))
    sweep.visit(reverse("organisations:reset_second_factor", args=[colleague.pk]))
    sweep.visit(reverse("organisations:reinvite", args=[former.pk]))
    sweep.visit(reverse("journal:list"))
    today = timezone.localdate().isoformat()
    filters = {"actor": manager.user.pk, "action": AuditAction.LOGIN, "start": today, "end": today}
    sweep.visit(f"{reverse('journal:list')}?{urlencode(filters)}")
    expect(sweep.page.locator("tbody tr")).not_to_have_count(0)
    wrong_period = {"start": today, "end": "2000-01-01", "actor": colleague.user.pk}
    sweep.visit(f"{reverse('journal:list')}?{urlencode(wrong_period)}")
    sweep.visit(reverse("accounts:recovery_codes"))
    sweep.visit(reverse("accounts:password_change"))
    sweep.submit_empty("Enregistrer")
    sweep.visit(reverse("accounts:second_factor_setup"))
    sweep.assert_clean()


def test_pages_of_a_professional(sweep: Sweep):
    member = MembershipFactory()
    device = TOTPDeviceFactory(user=member.user)
    submit_password(sweep.page, member.user.email)
    expect(sweep.page).to_have_url(at(reverse("accounts:second_factor")))
    sweep.check()
    code = sweep.page.locator("input[name=code]")
    code.fill("pas-un-code")
    sweep.page.get_by_role("button", name="Valider").click()
    expect(
        sweep.page.locator(".fr-error-text", has_text="Code incorrect ou expiré")
    ).to_be_visible()
    sweep.check()
    device.throttle_reset()  # django-otp delays the next attempt after a failure
    code.fill(totp_now(device))
    sweep.page.get_by_role("button", name="Valider").click()
    sweep.charter()

    sweep.check()
    sweep.visit(reverse("consent:charter"))
    sweep.visit(reverse("accounts:profile"))
    sweep.visit(reverse("accounts:recovery_codes"))
    sweep.visit(reverse("accounts:password_change"))
    spare = TOTPDeviceFactory(user=member.user, name="Ancien téléphone")
    sweep.visit(reverse("accounts:second_factor_remove", args=["application", spare.pk]))
    sweep.page.get_by_role("button", name="Retirer", exact=True).click()
    expect(sweep.page).to_have_url(at(reverse("accounts:profile")))
    sweep.check()
    # The last one left: the page says why it cannot be removed.
    sweep.visit(reverse("accounts:second_factor_remove", args=["application", device.pk]))
    sweep.assert_clean()


def test_pages_of_a_professional_of_two_organisations(sweep: Sweep):
    first = MembershipFactory()
    MembershipFactory(user=first.user, role=Role.MANAGER)
    log_in_with_totp(sweep.page, first.user, TOTPDeviceFactory(user=first.user))

    expect(sweep.page).to_have_url(at(reverse("accounts:choose_organisation")))
    sweep.check()
    sweep.submit_empty("Continuer")
    # DSFR draws its own radio button: the label takes the click.
    sweep.page.locator("label", has_text=f"{first.organisation.name} —").click()
    sweep.page.get_by_role("button", name="Continuer").click()
    sweep.charter()
    sweep.check()
    sweep.visit(reverse("accounts:profile"))
    sweep.assert_clean()


def test_pages_of_the_pilot(sweep: Sweep):
    pilot = UserFactory(pilot=True)
    organisation = MembershipFactory(manager=True).organisation
    log_in_with_totp(sweep.page, pilot, TOTPDeviceFactory(user=pilot))
    expect(sweep.page).to_have_url(at(reverse("www:home")))

    sweep.check()
    sweep.visit(reverse("organisations:pilot_list"))
    sweep.visit(f"{reverse('organisations:pilot_list')}?{urlencode({'q': organisation.name})}")
    sweep.page.get_by_role("link", name=f"Journal de {organisation.name}").click()
    expect(sweep.page.get_by_label("Structure")).to_have_value(str(organisation.pk))
    sweep.check()
    sweep.visit(f"{reverse('organisations:pilot_list')}?page=0")
    sweep.visit(reverse("organisations:pilot_create"))
    sweep.submit_empty("Créer la structure")
    sweep.visit(reverse("organisations:pilot_detail", args=[organisation.pk]))
    sweep.submit_empty("Envoyer l'invitation")
    sweep.visit(reverse("consent:charter"))
    sweep.visit(reverse("consent:charter_edit"))
    sweep.submit_empty("Vérifier avant de publier")
    sweep.page.get_by_label("Ce qui change dans cette version").fill("Les CIP lisent la santé.")
    sweep.page.get_by_label(f"{Profession.CIP.label} — Santé").select_option("read")
    sweep.page.get_by_role("button", name="Vérifier avant de publier").click()
    expect(sweep.page.get_by_role("button", name="Revenir à la modification")).to_be_visible()
    sweep.check()
    sweep.visit(reverse("journal:list"))
    filters = {"organisation": organisation.pk, "action": AuditAction.LOGIN}
    sweep.visit(f"{reverse('journal:list')}?{urlencode(filters)}")
    sweep.visit(reverse("accounts:profile"))
    sweep.assert_clean()


def test_login_pages_of_a_person(sweep: Sweep):
    """The person's login pages, on their own and after a refused answer, up to the page
    that offers a password after a login with the carte Relais."""
    account, codes = person_account_open(
        person=PersonFactory(),
        phone="0612345678",
        identity_checked=True,
        identity_document="cni",
        by=SYSTEM,
    )
    page = sweep.page

    sweep.visit(reverse("portal:login"))
    sweep.visit(reverse("portal:login_code"))
    sweep.submit_empty("Recevoir le code")
    page.locator("input[name=identifier]").fill("06 12 34 56 78")
    page.get_by_role("button", name="Recevoir le code").click()
    expect(page).to_have_url(at(reverse("portal:login_code_check")))
    sweep.check()
    page.locator("input[name=code]").fill("000000")
    page.get_by_role("button", name="Entrer").click()
    expect(page.locator(".fr-error-text").first).to_be_visible()
    sweep.check()
    sweep.visit(reverse("portal:login_password"))
    sweep.submit_empty("Entrer")
    sweep.visit(reverse("portal:activate"))
    sweep.submit_empty("Ouvrir mon espace")
    sweep.visit(reverse("portal:login_card"))
    sweep.submit_empty("Entrer")
    page.locator("input[name=card_identifier]").fill(account.card_identifier)
    page.locator("input[name=recovery_code]").fill(codes[0])
    page.get_by_role("button", name="Entrer").click()
    expect(page).to_have_url(at(reverse("portal:password_choose")))
    sweep.check()
    sweep.submit_empty("Enregistrer mon mot de passe")
    sweep.assert_clean()


def test_procedure_pages_of_the_pilot_and_a_manager(sweep: Sweep):
    entry = ProcedureTypeFactory(slug="aah-demande", title="Demander l'AAH", organisme="MDPH")
    ProcedureTypeFactory(slug="ancienne", title="Une démarche retirée", inactive=True)
    pilot = UserFactory(pilot=True)
    log_in_with_totp(sweep.page, pilot, TOTPDeviceFactory(user=pilot))
    expect(sweep.page).to_have_url(at(reverse("www:home")))

    sweep.visit(reverse("procedures:catalogue"))
    sweep.visit(f"{reverse('procedures:catalogue')}?q=introuvable")
    sweep.visit(reverse("procedures:catalogue_entry", args=[entry.slug]))
    sweep.visit(reverse("procedures:catalogue_entry", args=["ancienne"]))
    sweep.visit(reverse("procedures:catalogue_edit", args=[entry.slug]))
    sweep.page.get_by_label("Étapes").fill("Une seule étape.")
    sweep.submit_empty("Enregistrer la fiche")
    sweep.visit(reverse("procedures:guide", args=[entry.slug]))
    sweep.page.context.clear_cookies()

    manager = MembershipFactory(manager=True)
    log_in_with_totp(sweep.page, manager.user, TOTPDeviceFactory(user=manager.user))
    sweep.charter()
    sweep.visit(reverse("procedures:organisation"))
    sweep.visit(f"{reverse('procedures:organisation')}?echeance=-1")
    sweep.visit(f"{reverse('procedures:mine')}?attente=30&pieces_manquantes=on")
    sweep.assert_clean()


PERSONS_SPACE_PAGES = [
    "portal:home",
    "portal:file",
    "portal:documents",
    "portal:procedures",
    "portal:consents",
    "portal:history",
    "portal:export",
]
# (page, its main button) for the forms of the person's space, in French and in Arabic.
PERSONS_SPACE_FORMS = {
    "fr": [
        ("portal:document_add", "Enregistrer mon papier"),
        ("portal:consent_grant", "Je donne mon accord"),
        ("portal:block", "Bloquer"),
    ],
    "ar": [
        ("portal:document_add", "حفظ ورقتي"),
        ("portal:consent_grant", "أعطي موافقتي"),
        ("portal:block", "حظر"),
    ],
}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_pages_of_the_persons_space(sweep: Sweep, server_url: str, language: str):
    from django.conf import settings
    from django.test import Client

    from tests.portability.builders import full_file
    from tests.portal.helpers import log_in_person

    built = full_file()
    if language != "fr":
        sweep.page.goto(reverse("portal:login"))
        sweep.page.locator(f"button[name=language][value={language}]").click()
        expect(sweep.page.locator("html")).to_have_attribute("lang", language)
    sweep.visit(reverse("portal:login"))
    session = log_in_person(Client(), built.account).cookies[settings.SESSION_COOKIE_NAME]
    sweep.page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": server_url}]
    )

    for name in PERSONS_SPACE_PAGES:
        sweep.visit(reverse(name))
        expect(sweep.page.locator("html")).to_have_attribute(
            "dir", "rtl" if language == "ar" else "ltr"
        )
    sweep.visit(reverse("portal:procedure_guide", args=[built.procedure.pk]))
    # A paper of the person's own, which « Mes papiers » offers to remove.
    identity = built.documents["cni"]
    identity.versions.update(uploaded_by=None)
    sweep.visit(reverse("portal:document_remove", args=[identity.pk]))
    for name, button in PERSONS_SPACE_FORMS[language]:
        sweep.visit(reverse(name))
        sweep.submit_empty(button)
    sweep.assert_clean()
