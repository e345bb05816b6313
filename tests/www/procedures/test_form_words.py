"""The procedures' forms say what they expect: a required field left empty names what to
give, never Django's « Ce champ est obligatoire. », and no label leaves a letter to guess
(« Le », « dans les N jours »)."""

import inspect

import pytest
from django import forms as django_forms
from django.urls import reverse
from django.utils import translation

from relais.procedures.models import ProcedureType
from relais.www.procedures import forms
from tests.procedures.factories import ProcedureTypeFactory

pytestmark = pytest.mark.django_db

FORMS = [
    form
    for _, form in inspect.getmembers(forms, inspect.isclass)
    if issubclass(form, django_forms.BaseForm) and form.__module__ == forms.__name__
]
REQUIRED = [
    pytest.param(field, id=f"{form.__name__}.{name}")
    for form in FORMS
    for name, field in form.base_fields.items()
    if field.required
]


def test_it_finds_the_required_fields():
    assert len(REQUIRED) >= 12


@pytest.mark.parametrize("field", REQUIRED)
def test_a_required_field_says_what_it_expects(field):
    with translation.override("fr"):
        default = str(django_forms.Field.default_error_messages["required"])
        message = str(field.error_messages["required"])

    assert default == "Ce champ est obligatoire."
    assert message != default


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.__name__)
def test_no_label_leaves_a_number_or_a_date_to_guess(form):
    for name, field in form.base_fields.items():
        label = str(field.label or "")
        assert " N " not in f" {label} ", (name, label)
        assert label.strip() != "Le", (name, label)


def test_the_list_filters_are_written_as_questions_with_their_errors(member_client):
    response = member_client.get(reverse("procedures:mine"), {"echeance": "-3", "attente": "x"})

    text = response.content.decode()
    assert "Échéance dans combien de jours au plus ?" in text
    assert "En attente de réponse depuis combien de jours au moins ?" in text
    assert text.count("Écrivez un nombre de jours entre 0 et 3650, par exemple 15.") == 2
    assert "N jours" not in text


def test_an_empty_catalogue_entry_says_what_to_write(pilot_client):
    entry = ProcedureTypeFactory()

    response = pilot_client.post(
        reverse("procedures:catalogue_edit", args=[entry.slug]),
        dict.fromkeys(forms.CatalogueEntryForm.base_fields, ""),
    )

    text = response.content.decode()
    assert response.status_code == 400
    for message in (
        "Écrivez l&#x27;intitulé de la démarche.",
        "Écrivez en quelques mots à quoi sert la démarche.",
        "Écrivez les étapes de la démarche, une par ligne.",
        "Indiquez l&#x27;adresse de la page d&#x27;information officielle.",
        "Indiquez le jour où la fiche a été vérifiée.",
    ):
        assert message in text
    assert "Ce champ est obligatoire" not in text


def test_a_catalogue_entry_sent_with_nothing_is_refused_with_its_errors(pilot_client):
    """A POST with no field at all is a form sent empty, not a page to show afresh."""
    entry = ProcedureTypeFactory()

    response = pilot_client.post(reverse("procedures:catalogue_edit", args=[entry.slug]), {})

    assert response.status_code == 400
    assert "Écrivez l&#x27;intitulé de la démarche." in response.content.decode()
    assert ProcedureType.objects.get(pk=entry.pk).version == entry.version
