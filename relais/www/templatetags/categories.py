"""`{{ event.category|category_label }}`: a journal row's data category as its name."""

from django import template

from relais.persons.categories import DataCategory

register = template.Library()

_LABELS = dict(DataCategory.choices)


@register.filter
def category_label(code: str) -> str:
    """The category's name (« Identité et coordonnées »); a code Relais no longer knows
    stays as the journal holds it."""
    return str(_LABELS.get(code, code))
