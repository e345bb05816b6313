"""File sizes as the platform states them elsewhere (« 20 Mo » for the largest paper): in
octets, Ko and Mo, which French readers know, rather than the Kio and Mio Django's
`filesizeformat` writes in French."""

from django import template

from relais.documents.validation import MEGABYTE

register = template.Library()

KILOBYTE = 1024


@register.filter
def file_size(size: int) -> str:
    if size < KILOBYTE:
        return f"{size} octet" if size < 2 else f"{size} octets"
    if size < MEGABYTE:
        return f"{round(size / KILOBYTE)} Ko"
    return f"{size / MEGABYTE:.1f} Mo".replace(".", ",")
