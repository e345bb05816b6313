"""How the journal's rows read on the professionals' pages."""

from django import template

from relais.persons.categories import DataCategory

register = template.Library()

_LABELS = dict(DataCategory.choices)


@register.filter
def category_label(code: str) -> str:
    """A row's data category as its name (« Identité et coordonnées »); a code Relais no
    longer knows stays as the journal holds it."""
    return str(_LABELS.get(code, code))


@register.filter
def journal_value(value: object) -> object:
    """A detail of a row: yes and no in French, nothing as a dash, anything else as it
    is."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    return value
