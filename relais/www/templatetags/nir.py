"""`nir|nir_groups`: a social security number in the groups the carte Vitale prints."""

from django import template
from stdnum.fr import nir as stdnum_nir

register = template.Library()


@register.filter
def nir_groups(value: str) -> list[str]:
    """« 285035935012357 » as ["2", "85", "03", "59", "350", "123", "57"]: sex, year, month,
    département (« 2A », « 2B » for Corsica), commune, order number, key — the groups a
    worker reads out or copies onto a form. A value of another length stays whole."""
    compact = stdnum_nir.compact(value or "")
    if len(compact) != 15:
        return [value] if value else []
    return stdnum_nir.format(compact).split(" ")
