"""axe-core over forms that refuse for a reason of their own — a wrong code or password, a
NIR already another file's, a change made meanwhile by someone else — in their ordinary
state and refused, the refusal announced (an alert, or an error the field refers to)."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from relais.accounts.services import actor_of
from relais.consent.charter import charter_publish, current_matrix
from relais.consent.models import Block, CharterVersion
from relais.notifications import sms
from relais.organisations.models import Profession
from relais.persons.models import Person
from relais.persons.services import nir_set
from relais.portal.services import LOGIN_REFUSED
from relais.www.accounts.views import REACTIVATION_ERROR
from relais.www.persons.consent_views import CODE_REFUSED
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.persons.factories import BlockFactory, ConsentFactory, PersonFactory, ReferentFactory
from tests.portability.builders import NIR, OTHER_NIR, actor
from tests.portal.factories import PERSON_PASSWORD, PersonAccountFactory
from tests.portal.helpers import log_in_person
from tests.www.browser.conftest import accept_charter, at, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep, invite


def expect_field_refused(page: Page, name: str, error: str) -> None:
    """The field is marked invalid and its error is part of its accessible description,
    read by a screen reader when the field takes the focus."""
    field = page.locator(f"[name={name}]")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(error)))


def test_a_colleague_of_a_blocked_professional_types_a_wrong_code(page: Page):
    sweep = Sweep(page)
    referent = MembershipFactory(profession=Profession.ASS)
    blocked = MembershipFactory(organisation=referent.organisation)
    person = PersonFactory(first_names="Léa", birth_name="Dupré")
    ConsentFactory(person=person, organisation=referent.organisation)
    ReferentFactory(person=person, organisation=referent.organisation, professional=referent.user)
    block = BlockFactory(person=person, professional=blocked.user)
    log_in_with_totp(page, referent.user, TOTPDeviceFactory(user=referent.user))
    accept_charter(page)

    sweep.visit(reverse("persons:consents", args=[person.pk]))
    page.get_by_role("button", name="Envoyer un code par SMS à la personne").click()
    expect(page.get_by_role("alert").filter(has_text="Un code a été envoyé")).to_be_visible()
    sweep.check()
    sent = re.search(r"\b(\d{6})\b", sms.outbox[-1].body)
    assert sent is not None
    wrong = f"{(int(sent.group(1)) + 1) % 1_000_000:06d}"
    code = page.get_by_label("Code lu par la personne")
    expect(code).to_have_accessible_name(re.compile("travaille dans votre structure"))
    code.focus()
    page.keyboard.type(wrong)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Lever le blocage")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(at(reverse("persons:consents", args=[person.pk])))
    expect(page.get_by_role("alert").filter(has_text=CODE_REFUSED)).to_be_visible()
    sweep.check()
    sweep.assert_clean()
    assert Block.objects.active().filter(pk=block.pk).exists()


PASSWORD_CHANGE = {
    "fr": ("Changer mon mot de passe", "Enregistrer mon mot de passe"),
    "ar": ("تغيير كلمة السر", "حفظ كلمة السر"),
}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_persons_new_password_refused_for_a_wrong_current_one(
    page: Page, server_url: str, language: str
):
    sweep = Sweep(page)
    account = PersonAccountFactory(with_password=True)
    heading, button = PASSWORD_CHANGE[language]
    with translation.override(language):
        refused, error_title = str(LOGIN_REFUSED), translation.gettext("Erreur")
    if language != "fr":
        page.goto(reverse("portal:login"))
        page.locator(f"button[name=language][value={language}]").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
    session = log_in_person(Client(), account).cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": server_url}]
    )

    sweep.visit(reverse("portal:password_choose"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("input[name=current_password]")).to_be_focused()
    page.keyboard.type("pas-le-mot-de-passe")
    page.locator("input[name=password1]").fill("Un-nouveau-mot-2026")
    page.locator("input[name=password2]").fill("Un-nouveau-mot-2026")
    page.get_by_role("button", name=button).click()

    expect(page).to_have_title(re.compile("^" + re.escape(error_title)))
    expect_field_refused(page, "current_password", refused)
    sweep.check()
    sweep.assert_clean()
    account.refresh_from_db()
    assert check_password(PERSON_PASSWORD, account.password)


def test_an_invitation_asks_a_deactivated_account_for_its_password(page: Page):
    sweep = Sweep(page)
    manager = MembershipFactory(manager=True)
    deactivated = UserFactory(is_active=False)
    MembershipFactory(user=deactivated, ended_on=timezone.localdate())
    _, token = invite(manager.organisation, manager.user, deactivated.email)

    sweep.visit(reverse("accounts:invitation", args=[token]))
    expect(page.get_by_text("a été désactivé")).to_be_visible()
    expect(page.get_by_label("Mot de passe de votre compte")).to_be_focused()
    sweep.submit_empty("Réactiver mon compte")
    page.get_by_label("Mot de passe de votre compte").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Réactiver mon compte").click()

    expect_field_refused(page, "password", REACTIVATION_ERROR)
    sweep.check()
    sweep.assert_clean()
    deactivated.refresh_from_db()
    assert not deactivated.is_active


def test_a_new_file_refused_for_a_nir_already_anothers(page: Page):
    sweep = Sweep(page)
    manager = MembershipFactory(manager=True)
    followed = PersonFactory(first_names="Léa", birth_name="Dupré")
    ConsentFactory(person=followed, organisation=manager.organisation)
    nir_set(person=followed, nir=NIR, by=actor(manager))
    elsewhere = MembershipFactory()
    followed_elsewhere = PersonFactory(first_names="Inès", birth_name="Marchal")
    ConsentFactory(person=followed_elsewhere, organisation=elsewhere.organisation)
    nir_set(person=followed_elsewhere, nir=OTHER_NIR, by=actor(elsewhere))
    log_in_with_totp(page, manager.user, TOTPDeviceFactory(user=manager.user))
    accept_charter(page)

    sweep.visit(reverse("persons:create"))
    page.get_by_label("Prénom(s)").fill("Maëlle")
    page.get_by_label("Nom de naissance").fill("Dubreuil")
    # Born when both numbers say, so that only their being taken refuses them.
    page.get_by_label("Date de naissance").fill("1984-06-15")
    page.get_by_label("Identité et coordonnées", exact=True).check(force=True)
    page.get_by_label("Numéro de sécurité sociale (NIR)").fill(NIR)
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", name="Ce dossier existe peut-être déjà")).to_be_visible()
    sweep.check()
    page.get_by_label("J'ai vérifié : il s'agit bien d'une autre personne").check(force=True)
    page.get_by_role("button", name="Créer le dossier").click()
    expect_field_refused(page, "nir", f"celui du dossier n° {followed.pk}")
    sweep.check()
    page.get_by_label("Numéro de sécurité sociale (NIR)").fill(OTHER_NIR)
    page.get_by_role("button", name="Créer le dossier").click()
    expect_field_refused(page, "nir", "un dossier suivi par une autre structure")
    sweep.check()
    sweep.assert_clean()
    assert not Person.objects.filter(birth_name="Dubreuil").exists()


def test_an_identity_and_a_nir_refused_on_an_existing_file(page: Page):
    sweep = Sweep(page)
    manager = MembershipFactory(manager=True)
    person = PersonFactory(first_names="Léa", birth_name="Dupré")
    ConsentFactory(person=person, organisation=manager.organisation)
    log_in_with_totp(page, manager.user, TOTPDeviceFactory(user=manager.user))
    accept_charter(page)

    sweep.visit(reverse("persons:section_edit", args=[person.pk, "identite"]))
    birth_name = page.get_by_label("Nom de naissance")
    birth_name.fill("")
    page.get_by_role("button", name="Enregistrer").click()
    expect_field_refused(page, "birth_name", "Ce champ est obligatoire.")
    sweep.check()
    Person.objects.filter(pk=person.pk).update(phone="0698765432")
    birth_name.fill("Dupré-Martin")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Quelqu'un a enregistré cette rubrique")).to_be_visible()
    sweep.check()
    nir_page = reverse("persons:nir_edit", args=[person.pk])
    other = PersonFactory()
    nir_set(person=other, nir=NIR, by=actor(manager))
    ConsentFactory(person=other, organisation=manager.organisation)
    sweep.visit(nir_page)
    page.get_by_label("Numéro de sécurité sociale (NIR)").fill(NIR)
    page.get_by_role("button", name="Enregistrer").click()
    expect_field_refused(page, "nir", f"celui du dossier n° {other.pk}")
    sweep.check()
    sweep.assert_clean()
    person.refresh_from_db()
    assert person.birth_name == "Dupré" and not person.has_nir


def test_a_charter_refused_because_another_version_was_published_meanwhile(page: Page):
    sweep = Sweep(page)
    pilot = UserFactory(pilot=True)
    log_in_with_totp(page, pilot, TOTPDeviceFactory(user=pilot))
    expect(page).to_have_url(at(reverse("www:home")))

    sweep.visit(reverse("consent:charter_edit"))
    page.get_by_label("Ce qui change dans cette version").fill("Les CESF lisent la santé.")
    page.get_by_label(f"{Profession.CESF.label} — Santé").select_option("read")
    page.get_by_role("button", name="Vérifier avant de publier").click()
    meanwhile = charter_publish(
        levels=current_matrix(), summary="Publiée par une collègue.", by=actor_of(pilot)
    )
    page.get_by_role("button", name=f"Publier la version {meanwhile.number}").click()

    expect(
        page.get_by_role("alert").filter(
            has_text=f"La version {meanwhile.number} a été publiée pendant votre modification"
        )
    ).to_be_visible()
    expect(page.get_by_label("Ce qui change dans cette version")).to_have_value(
        "Les CESF lisent la santé."
    )
    sweep.check()
    sweep.assert_clean()
    assert CharterVersion.objects.latest("number") == meanwhile
