"""`{% link 'name' arg … %}`: `{% url %}` through `relais.www.links.link`, for the file's
pages, the most served ones (a search result lists twenty links to files)."""

from django import template

from relais.www.links import link as build_link

register = template.Library()


@register.simple_tag(name="link")
def link(name: str, *args: int | str) -> str:
    return build_link(name, *args)
