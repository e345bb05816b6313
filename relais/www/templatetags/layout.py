"""The professional's layout, rendered once and then reused by every page.

The head, the footer and the scripts never change while the process lives. The header
(structure, name, menu) is the same on every page a professional opens, save for the menu
item of the current page and the logout form's CSRF field: it is rendered from a small
frozen state, kept per worker process, and the per-request CSRF field is put in its place
afterwards. No page pays for rendering them again.
"""

from dataclasses import dataclass
from functools import lru_cache

from django import template
from django.conf import settings
from django.template.context import Context
from django.template.loader import get_template
from django.urls import ResolverMatch
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from relais.www.context_processors import layout_urls

register = template.Library()

# Stands for the logout form's CSRF field in the kept HTML.
_CSRF_FIELD = "<!--relais:csrf-->"

# Menu item → what marks a page as being under it: (view name) or (application name).
_MENU_BY_VIEW = {"www:home": "home", "procedures:mine": "procedures"}
_MENU_BY_APP = {
    "persons": "persons",
    "organisations": "members",
    "journal": "journal",
    "consent": "charter",
}


@dataclass(frozen=True)
class HeaderState:
    authenticated: bool = False
    verified: bool = False
    superuser: bool = False
    full_name: str = ""
    acting: bool = False
    organisation_name: str = ""
    manager: bool = False
    demo_mode: bool = False
    current: str = ""


def current_menu_item(match: ResolverMatch | None) -> str:
    if match is None:
        return ""
    return _MENU_BY_VIEW.get(match.view_name) or _MENU_BY_APP.get(match.app_name, "")


def header_state(context: Context) -> HeaderState:
    request = context.get("request")
    user = context.get("user")
    membership = context.get("acting_membership")
    demo_mode = settings.RELAIS_DEMO_MODE
    if user is None or not user.is_authenticated:
        return HeaderState(demo_mode=demo_mode)
    return HeaderState(
        authenticated=True,
        verified=bool(user.is_verified()),
        superuser=user.is_superuser,
        full_name=user.get_full_name(),
        acting=membership is not None,
        organisation_name=membership.organisation.name if membership else "",
        manager=bool(membership and membership.is_manager),
        demo_mode=demo_mode,
        current=current_menu_item(getattr(request, "resolver_match", None)),
    )


@lru_cache(maxsize=1024)
def _header_html(state: HeaderState) -> str:
    return get_template("layout/header.html").render(
        {"header": state, "urls": layout_urls(), "csrf_field": mark_safe(_CSRF_FIELD)}  # noqa: S308 (a constant)
    )


@register.simple_tag(takes_context=True)
def layout_header(context: Context) -> SafeString:
    state = header_state(context)
    html = _header_html(state)
    if state.authenticated:
        field = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', context["csrf_token"]
        )
        html = html.replace(_CSRF_FIELD, field)
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped there)


@register.simple_tag
@lru_cache(maxsize=16)
def layout_fragment(template_name: str) -> SafeString:
    """A part of the layout that depends on nothing but the deployment."""
    return mark_safe(get_template(template_name).render({"urls": layout_urls()}))  # noqa: S308 (rendered by the template engine)
