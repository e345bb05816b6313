"""A professional follows a procedure from opening to decision in a real browser: the
checklist fills with a document uploaded to the vault, the completeness rate moves, the
log and the journal show each move; axe-core checks every page on the way."""

import io

from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.procedures.models import Procedure, ProcedureStatus, ProcedureType
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.persons.factories import ConsentFactory, PersonFactory
from tests.procedures.factories import ProcedureTypeFactory
from tests.www.browser.conftest import accept_charter, at, log_in_with_totp
from tests.www.browser.test_accessibility import Sweep


def test_a_professional_follows_a_procedure_to_its_decision(page, tmp_path):
    sweep = Sweep(page)
    manager = MembershipFactory(manager=True)
    person = PersonFactory(first_names="Inès", birth_name="Carpentier")
    ConsentFactory(person=person, organisation=manager.organisation)
    entry = ProcedureTypeFactory(
        slug="css-demande",
        title="Demander la complémentaire santé solidaire",
        organisme="CPAM",
        category="sante",
        required_documents=[
            {"kind": "cni", "condition": ""},
            {
                "kind": "justificatif_domicile",
                "condition": "si vous êtes hébergé",
                "conditional": True,
            },
        ],
    )
    log_in_with_totp(page, manager.user, TOTPDeviceFactory(user=manager.user))
    accept_charter(page)

    # Open the procedure from the person's tab.
    page.get_by_role("link", name="Mes démarches").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes démarches")
    sweep.check()
    sweep.visit(reverse("procedures:person", args=[person.pk]))
    sweep.submit_empty("Ouvrir la démarche")
    page.get_by_label("Démarche du catalogue").select_option(label=f"{entry.title} (CPAM)")
    page.get_by_role("button", name="Ouvrir la démarche").click()
    expect(page.get_by_role("heading", level=2, name=entry.title)).to_be_visible()
    expect(page.get_by_text("0 % des pièces réunies")).to_be_visible()
    sweep.check()
    procedure = Procedure.objects.get()
    detail = reverse("procedures:detail", args=[person.pk, procedure.pk])

    # Upload the identity card in the vault, then link it to the checklist.
    page.get_by_role("link", name="Déposer une pièce dans le dossier").click()
    photo = tmp_path / "cni.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(buffer, format="JPEG")
    photo.write_bytes(buffer.getvalue())
    page.get_by_label("Type de pièce", exact=True).select_option("cni")
    page.get_by_label("Délivrée le").fill("2024-03-01")
    page.locator("input[name=files]").last.set_input_files(str(photo))
    page.get_by_role("button", name="Enregistrer la pièce").click()
    expect(page.get_by_role("cell", name="Carte nationale d'identité", exact=True)).to_be_visible()
    page.goto(detail)
    page.get_by_label("Pièce du dossier pour « Carte nationale d'identité »").select_option(index=1)
    page.get_by_role("button", name="Enregistrer la pièce Carte nationale d'identité").click()
    expect(page.get_by_text("100 % des pièces réunies")).to_be_visible()
    page.get_by_role(
        "button", name="La personne est concernée par Justificatif de domicile"
    ).click()
    expect(page.get_by_text("50 % des pièces réunies")).to_be_visible()
    page.get_by_role("button", name="Non concerné(e) par Justificatif de domicile").click()
    expect(page.get_by_text("100 % des pièces réunies")).to_be_visible()
    expect(page.get_by_text("Ce qui manque")).to_have_count(0)
    sweep.check()

    # A step done in place of the person needs a reason.
    page.get_by_role("button", name="Noter comment l'étape 1 a été faite").click()
    page.get_by_text("À la place de la personne").first.click()
    page.get_by_role("button", name="Enregistrer l'étape 1").click()
    expect(page.locator(".fr-error-text").first).to_be_visible()
    sweep.check()
    page.get_by_text("À la place de la personne").first.click()
    page.get_by_label("Pourquoi à la place de la personne").first.fill(
        "Elle n'a pas encore de compte sur le site."
    )
    page.get_by_role("button", name="Enregistrer l'étape 1").click()
    expect(page.get_by_text("Elle n'a pas encore de compte sur le site.")).to_be_visible()

    # Move it along: in progress, submitted, granted.
    page.get_by_role("button", name="Passer à « En cours »").click()
    expect(page.get_by_text("La démarche est passée à l'état « En cours ».")).to_be_visible()
    page.get_by_role("button", name="Passer à « Déposée »").click()
    expect(page.get_by_text("La démarche est passée à l'état « Déposée ».")).to_be_visible()
    sweep.check()
    page.get_by_role("button", name="Enregistrer le refus").click()
    expect(page.locator(".fr-error-text", has_text="Écrivez le motif du refus.")).to_be_visible()
    sweep.check()
    today = timezone.localdate().isoformat()
    page.get_by_label("Montant accordé (€ par mois)").fill("32.50")
    page.get_by_label("Droits ouverts à partir du").fill(today)
    page.get_by_role("button", name="Enregistrer l'accord").click()
    expect(page.get_by_text("La démarche est passée à l'état « Accordée ».")).to_be_visible()

    log = page.locator("section", has=page.get_by_role("heading", name="Historique de la démarche"))
    expect(log.get_by_role("cell", name="En cours → Déposée")).to_be_visible()
    expect(log.get_by_role("cell", name="Déposée → Accordée")).to_be_visible()
    expect(log.get_by_text("Pièces valables au dépôt : 1 sur 1 (100 %)")).to_be_visible()
    sweep.check()
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.GRANTED
    assert str(procedure.amount_granted) == "32.50"

    # The journal shows the moves, and the lists and the guide pass axe-core.
    sweep.visit(
        f"{reverse('journal:list')}?action={AuditAction.PROCEDURE_TRANSITION}&actor={manager.user_id}"
    )
    expect(page.get_by_role("cell", name="Démarche : changement d'étape")).to_have_count(3)
    sweep.visit(reverse("procedures:person", args=[person.pk]))
    expect(page.get_by_text("Accordée")).to_be_visible()
    sweep.visit(reverse("procedures:mine") + "?etat=")
    expect(page.get_by_role("link", name=entry.title)).to_be_visible()
    sweep.visit(reverse("procedures:organisation"))
    sweep.visit(reverse("procedures:guide", args=[entry.slug]))
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()
    sweep.assert_clean()
    assert AuditEvent.objects.filter(
        action=AuditAction.PROCEDURE_DOCUMENT_LINKED, person_id=person.pk
    ).exists()


def test_the_pilot_brings_a_withdrawn_entry_back(page):
    sweep = Sweep(page)
    ProcedureTypeFactory(slug="ancienne", title="Demander l'ancienne aide", inactive=True)
    pilot = UserFactory(pilot=True)
    log_in_with_totp(page, pilot, TOTPDeviceFactory(user=pilot))
    expect(page).to_have_url(at(reverse("www:home")))

    sweep.visit(reverse("procedures:catalogue"))
    expect(page.get_by_role("link", name="Demander l'ancienne aide")).to_have_count(0)
    page.get_by_role("link", name="Démarches retirées du catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Démarches retirées du catalogue")
    sweep.check()
    page.get_by_role("link", name="Modifier la fiche « Demander l'ancienne aide »").click()
    page.locator("label[for=id_is_active]").click()
    page.get_by_role("button", name="Enregistrer la fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander l'ancienne aide")
    sweep.check()
    sweep.visit(reverse("procedures:catalogue_withdrawn"))
    expect(page.get_by_text("Aucune démarche retirée.")).to_be_visible()
    sweep.assert_clean()
    assert ProcedureType.objects.get(slug="ancienne").is_active
