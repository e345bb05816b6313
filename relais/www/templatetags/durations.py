"""The durations pages state, read from the settings that set them: an operator who
changes the length of an exceptional access or of an invitation changes what the pages
say too."""

from django import template
from django.conf import settings

from relais.www.durations import said

register = template.Library()

_SETTINGS = {
    "break_glass": "RELAIS_BREAK_GLASS_DURATION",
    "invitation": "RELAIS_INVITATION_VALIDITY",
    "portal_invitation": "RELAIS_PORTAL_INVITATION_VALIDITY",
}


@register.simple_tag
def duration(name: str) -> str:
    return said(getattr(settings, _SETTINGS[name]))
