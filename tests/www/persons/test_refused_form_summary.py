"""A refused form starts with a summary of its errors, each a link to its field: the sharing
categories left unticked on a new file or a consent say what to do, at the top of the form
and not only under the twelve boxes far below."""

import re

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from dsfr.forms import DsfrBaseForm
from pytest_django.asserts import assertContains

from relais.persons.models import Person
from relais.www.portal.forms import PortalForm
from tests.factories import OrganisationFactory
from tests.persons.editing import create_file

pytestmark = pytest.mark.django_db

NO_CATEGORY = "Cochez au moins une information que la personne accepte de partager."
SUMMARY = re.compile(
    r'<div tabindex="-1" autofocus class="fr-alert fr-alert--error[^"]*" role="alert">(.*?)</div>',
    re.S,
)


def summary_of(page: str) -> str:
    found = SUMMARY.search(page)
    assert found, "no error summary on the page"
    return found.group(1)


def test_a_new_file_without_a_category_says_what_to_do_at_the_top_of_the_form(member_client):
    response = create_file(member_client, categories=[])

    page = response.content.decode()
    assertContains(
        response,
        '<li><a href="#id_categories_0">Ce que la personne accepte de partager : '
        f"{NO_CATEGORY}</a></li>",
        html=True,
        status_code=400,
    )
    assert page.index('role="alert"') < page.index('name="first_names"')
    assert 'id="id_categories_0"' in page
    assert "Ce champ est obligatoire." not in page
    assert not Person.objects.exists()


def test_a_consent_without_a_category_says_what_to_do(member_client, person):
    other = OrganisationFactory()

    response = member_client.post(
        reverse("persons:consents", args=[person.pk]),
        {
            "organisation": str(other.pk),
            "purpose": "Suivi conjoint des démarches",
            "duration": "6m",
            "method": "signe",
        },
    )

    assert response.status_code == 400
    assert NO_CATEGORY in summary_of(response.content.decode())
    assert not person.consents.filter(organisation=other).exists()


class Kinds(DsfrBaseForm):
    name = forms.CharField(label="Nom <b>de naissance</b>")
    paper = forms.ChoiceField(label="Quel papier ?", choices=[("cni", "Carte d'identité")])
    method = forms.ChoiceField(
        label="Comment", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect
    )
    page = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("name") == "déjà":
            raise forms.ValidationError("Ce nom est déjà pris <ailleurs>.")
        return cleaned


def rendered(form) -> str:
    return Template("{{ form }}").render(Context({"form": form}))


def test_the_summary_names_each_field_and_links_to_it():
    page = rendered(Kinds({"name": "", "paper": "", "method": "", "page": "0"}))
    summary = summary_of(page)

    assert re.findall(r'<a href="#([^"]+)">', summary) == ["id_name", "id_paper", "id_method_0"]
    assert "Nom &lt;b&gt;de naissance&lt;/b&gt; : Ce champ est obligatoire." in summary
    # A label that asks a question runs on into its error.
    assert "Quel papier ? Ce champ est obligatoire." in summary
    # A hidden field's error is the page's to explain.
    assert "supérieure ou égale" not in summary


def test_a_form_refused_as_a_whole_says_why_without_a_list():
    summary = summary_of(rendered(Kinds({"name": "déjà", "paper": "cni", "method": "a"})))

    assert "<p>Ce nom est déjà pris &lt;ailleurs&gt;.</p>" in summary
    assert "<ul>" not in summary


def test_a_form_sent_and_accepted_or_not_sent_has_no_summary():
    accepted = Kinds({"name": "Dupré", "paper": "cni", "method": "a"})
    assert accepted.is_valid()

    assert 'role="alert"' not in rendered(accepted)
    assert 'role="alert"' not in rendered(Kinds())


class PersonsPaper(PortalForm):
    paper = forms.ChoiceField(label="Quel papier ?", choices=[("cni", "Carte d'identité")])
    day = forms.DateField(label="Date écrite sur le papier")


@pytest.mark.parametrize(
    ("language", "heading", "colon"),
    [("fr", "Corrigez le formulaire :", " : "), ("en", "Correct the form:", ": ")],
)
def test_the_persons_pages_say_it_in_their_language(language, heading, colon):
    with translation.override(language):
        form = PersonsPaper({"paper": "cni", "day": "pas une date"})
        summary = summary_of(rendered(form))
        label = str(form.fields["day"].label)
        error = form.errors["day"][0]

    assert heading in summary
    assert f"{label}{colon}{error}" in summary.replace("&#x27;", "'")
