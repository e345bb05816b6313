"""axe-core over the person's file: every tab, form and printable page, in their ordinary
state and after a refused submission."""

from datetime import date

from django.urls import reverse
from playwright.sync_api import expect

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.persons.models import Person
from tests.factories import MembershipFactory, OrganisationFactory, TOTPDeviceFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.www.browser.conftest import accept_charter, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep


def test_a_manager_opens_and_fills_a_file(page):
    sweep = Sweep(page)
    manager = MembershipFactory(manager=True)
    log_in_with_totp(page, manager.user, TOTPDeviceFactory(user=manager.user))
    accept_charter(page)

    sweep.visit(reverse("persons:list"))
    sweep.visit(reverse("persons:create"))
    sweep.submit_empty("Créer le dossier")
    page.get_by_label("Prénom(s)").fill("Maëlle")
    page.get_by_label("Nom de naissance").fill("Dubreuil")
    page.get_by_label("Date de naissance").fill("1991-05-17")
    page.get_by_label("Téléphone").fill("0612345678")
    for category in ("Identité et coordonnées", "Famille et foyer", "Ressources", "Notes de suivi"):
        page.get_by_label(category, exact=True).check(force=True)
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("DUBREUIL Maëlle")
    sweep.check()
    person = Person.objects.get(birth_name="Dubreuil")

    sweep.visit(reverse("persons:section", args=[person.pk, "famille"]))
    page.get_by_label("Lien").select_option("enfant")
    page.get_by_label("Prénom(s)").fill("Noé")
    page.get_by_label("Date de naissance").fill("2015-09-01")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("cell", name="Noé", exact=True)).to_be_visible()
    sweep.check()
    sweep.visit(reverse("persons:section", args=[person.pk, "ressources"]))
    sweep.submit_empty("Ajouter")
    sweep.visit(reverse("persons:section", args=[person.pk, "notes"]))
    confirmation = page.get_by_label("Je confirme que cette note est objective")
    expect(confirmation).to_have_count(0)
    page.get_by_label("Note de suivi").fill(
        "Elle évoque un problème de santé qui retarde ses démarches."
    )
    page.get_by_role("button", name="Enregistrer la note").click()
    expect(page.locator(".fr-error-text").first).to_contain_text("(santé)")
    sweep.check()
    confirmation.check(force=True)
    page.get_by_role("button", name="Enregistrer la note").click()
    expect(page.get_by_text("La note est enregistrée.")).to_be_visible()
    sweep.visit(reverse("persons:section_edit", args=[person.pk, "identite"]))
    sweep.visit(reverse("persons:nir_edit", args=[person.pk]))
    sweep.submit_empty("Enregistrer")
    sweep.visit(reverse("persons:consents", args=[person.pk]))
    lens = OrganisationFactory(name="Mission locale", commune_code="62498", commune_name="Lens")
    page.get_by_label("Chercher une structure").fill("Lens")
    page.get_by_role("button", name="Chercher", exact=True).click()
    expect(page.get_by_text("1 structure trouvée pour « Lens »")).to_be_visible()
    expect(page.locator("#id_organisation")).to_contain_text(lens.name)
    sweep.check()
    sweep.submit_empty("Enregistrer l'accord")
    consent = person.consents.get()
    sweep.visit(reverse("persons:consent_attestation", args=[person.pk, consent.pk]))
    sweep.visit(reverse("persons:history", args=[person.pk]))
    sweep.visit(reverse("persons:history", args=[person.pk]) + "?impression=1")
    sweep.visit(reverse("persons:break_glass"))
    sweep.submit_empty("Ouvrir le dossier en accès exceptionnel")
    sweep.visit(reverse("persons:merge"))
    sweep.submit_empty("Voir les deux dossiers")
    duplicate = PersonFactory(
        first_names="Maelle", birth_name="DUBREUIL", birth_date=date(1991, 5, 17)
    )
    ConsentFactory(person=duplicate, organisation=manager.organisation)
    page.get_by_label("N° du dossier à garder").fill(str(person.pk))
    page.get_by_label("N° du doublon à fusionner dans ce dossier").fill(str(duplicate.pk))
    page.get_by_role("button", name="Voir les deux dossiers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirmer la fusion de deux dossiers"
    )
    sweep.check()
    sweep.submit_empty("Fusionner les deux dossiers")
    page.get_by_label("Je confirme qu'il s'agit de la même personne").check(force=True)
    page.get_by_role("button", name="Fusionner les deux dossiers").click()
    expect(page.get_by_text("Les deux dossiers sont fusionnés.")).to_be_visible()
    sweep.visit(reverse("consent:charter"))
    sweep.assert_clean()
    assert AuditEvent.objects.filter(
        action=AuditAction.SECTION_VIEWED, person_id=person.pk
    ).exists()


def test_the_sections_a_file_opens_with(page):
    sweep = Sweep(page)
    member = MembershipFactory()
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)
    page.goto(reverse("persons:create"))
    page.get_by_label("Prénom(s)").fill("Jules")
    page.get_by_label("Nom de naissance").fill("Prévost")
    page.get_by_label("Date de naissance").fill(date(1979, 2, 3).isoformat())
    for category in (
        "Logement",
        "Emploi et formation",
        "Couverture sociale",
        "Identité et coordonnées",
    ):
        page.get_by_label(category, exact=True).check(force=True)
    page.get_by_role("button", name="Créer le dossier").click()
    person = Person.objects.get(birth_name="Prévost")
    for category in ("logement", "emploi", "couverture_sociale"):
        sweep.visit(reverse("persons:section", args=[person.pk, category]))
        sweep.visit(reverse("persons:section_edit", args=[person.pk, category]))
        sweep.submit_empty("Enregistrer")
    sweep.assert_clean()


def test_a_professional_adds_a_document_from_the_file(page, tmp_path):
    import io

    from PIL import Image

    sweep = Sweep(page)
    member = MembershipFactory()
    log_in_with_totp(page, member.user, TOTPDeviceFactory(user=member.user))
    accept_charter(page)
    page.goto(reverse("persons:create"))
    page.get_by_label("Prénom(s)").fill("Anouk")
    page.get_by_label("Nom de naissance").fill("Vermeulen")
    page.get_by_label("Date de naissance").fill("1984-11-30")
    page.get_by_label("Pièces justificatives", exact=True).check(force=True)
    page.get_by_role("button", name="Créer le dossier").click()
    person = Person.objects.get(birth_name="Vermeulen")

    sweep.visit(reverse("documents:list", args=[person.pk]))
    sweep.submit_empty("Enregistrer la pièce")
    photo = tmp_path / "quittance.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(buffer, format="JPEG")
    photo.write_bytes(buffer.getvalue())
    page.get_by_label("Type de pièce", exact=True).select_option("quittance_loyer")
    page.get_by_label("Délivrée le").fill("2026-11-01")
    page.locator("input[name=files]").last.set_input_files(str(photo))
    page.get_by_role("button", name="Enregistrer la pièce").click()
    expect(page.get_by_role("cell", name="Quittance de loyer", exact=True)).to_be_visible()
    sweep.check()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger Quittance de loyer").click()
    assert download.value.suggested_filename == "quittance_loyer-2026-11-01.jpg"

    page.get_by_role("link", name="Remplacer Quittance de loyer délivrée le 01/11/2026").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Remplacer la pièce « Quittance de loyer »"
    )
    sweep.check()
    sweep.submit_empty("Enregistrer la nouvelle version")
    page.get_by_label("Délivrée le").fill("2026-11-25")
    page.locator("input[name=files]").set_input_files(str(photo))
    page.get_by_role("button", name="Enregistrer la nouvelle version").click()
    expect(page.get_by_text("La nouvelle version est enregistrée")).to_be_visible()
    expect(page.get_by_role("cell", name="jusqu'au 25/02/2027")).to_be_visible()
    sweep.check()

    page.get_by_role("link", name="Historique de Quittance de loyer").click()
    expect(page.get_by_role("cell", name="01/11/2026", exact=True)).to_be_visible()
    sweep.check()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la version 1").click()
    assert download.value.suggested_filename == "quittance_loyer-2026-11-01-version-1.jpg"

    sweep.visit(reverse("documents:list", args=[person.pk]))
    page.get_by_role("link", name="Modifier Quittance de loyer").click()
    page.get_by_label("Valable jusqu'au").fill("2026-11-01")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    expect(page.locator(".fr-error-text").first).to_contain_text("doit suivre")
    sweep.check()
    page.get_by_label("Valable jusqu'au").fill("2027-01-31")
    page.get_by_role("button", name="Enregistrer les corrections").click()
    expect(page.get_by_text("La pièce est modifiée.")).to_be_visible()

    # With the keyboard: the link to the confirmation, then « Annuler », then « Supprimer ».
    deletion = page.get_by_role("link", name="Supprimer Quittance de loyer")
    deletion.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Supprimer la pièce « Quittance de loyer » ?"
    )
    sweep.check()
    page.get_by_role("link", name="Annuler").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Supprimer Quittance de loyer")).to_be_visible()
    deletion.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Supprimer").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("La pièce est retirée du dossier.")).to_be_visible()
    expect(page.get_by_role("cell", name="Aucune pièce dans le dossier.")).to_be_visible()
    sweep.visit(reverse("documents:expiring"))
    sweep.assert_clean()
