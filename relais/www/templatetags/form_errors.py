"""`form|error_summary`: the lines of a refused form's summary, one per error of a field,
each with the element its link reaches (relais/templates/dsfr/form_snippet.html)."""

from dataclasses import dataclass

from django import forms, template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()

# A label that asks or announces (« Quel papier ? ») runs on into its error without a colon.
_ENDS_A_SENTENCE = ("?", "؟", "!", ":")


@dataclass(frozen=True)
class SummaryLine:
    target: str
    text: SafeString


@register.filter
def error_summary(form: forms.BaseForm) -> list[SummaryLine]:
    """The errors of the visible fields, in the form's order, each after its field's label:
    alone, « Ce champ est obligatoire. » does not say which. A list of boxes or of radio
    buttons has no element of its own that takes the focus: the link reaches its first
    choice, read with the list's legend and error. Hidden fields are left to the page,
    which says what their error means (a page number out of a list)."""
    lines = []
    for field in form.visible_fields():
        if not field.errors:
            continue
        target = field.id_for_label or field.subwidgets[0].id_for_label or field.auto_id
        label = str(field.label or "").rstrip()
        for error in field.errors:
            lines.append(SummaryLine(target, _line(label, error)))
    return lines


def _line(label: str, error: str) -> SafeString:
    if not label:
        return conditional_escape(error)
    if label.endswith(_ENDS_A_SENTENCE):
        sentence = "%(label)s %(error)s"
    else:
        # The colon's spacing is the language's: « Nom : … » in French, "Name: …" in English.
        sentence = gettext("%(label)s : %(error)s")
    values = {"label": conditional_escape(label), "error": conditional_escape(error)}
    return mark_safe(conditional_escape(sentence) % values)  # noqa: S308 (every part escaped)
