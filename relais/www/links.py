"""Links to a route, built without `reverse()` once the route's shape is known.

`reverse()` walks the URL configuration on every call (≈ 25 µs); a file page holds a dozen
links to the same routes. The first call for a route (under a given script prefix)
reverses it once with marker values and keeps the text around them; later calls only join
strings. Arguments that a marker cannot stand for (a negative number, a boolean, text in a
numeric place, characters outside a slug) go through `reverse()`, which validates them as
usual.
"""

import re
from functools import cache

from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.urls.converters import SlugConverter

from relais.www.converters import LARGEST_ID

_SLUG = re.compile(SlugConverter.regex)


def _marker(position: int) -> str:
    return f"918273645{position}0"


@cache
def _shape(name: str, arity: int, prefix: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """The route's text split around its arguments, and whether each place takes text."""
    markers = [_marker(i) for i in range(arity)]
    url = reverse(name, args=markers)
    parts, rest = [], url
    for marker in markers:
        before, found, rest = rest.partition(marker)
        if not found:
            raise NoReverseMatch(f"Route {name} : argument introuvable dans {url}.")
        parts.append(before)
    parts.append(rest)
    takes_text = []
    for i in range(arity):
        try:
            reverse(name, args=[*markers[:i], "texte", *markers[i + 1 :]])
        except NoReverseMatch:
            takes_text.append(False)
        else:
            takes_text.append(True)
    return tuple(parts), tuple(takes_text)


def link(name: str, *args: int | str) -> str:
    parts, takes_text = _shape(name, len(args), get_script_prefix())
    pieces = [parts[0]]
    for value, text_allowed, after in zip(args, takes_text, parts[1:], strict=True):
        if isinstance(value, bool):
            return reverse(name, args=args)
        if isinstance(value, int) and 0 <= value <= LARGEST_ID:
            pieces.append(str(value))
        elif isinstance(value, str) and text_allowed and _SLUG.fullmatch(value):
            pieces.append(value)
        else:
            return reverse(name, args=args)
        pieces.append(after)
    return "".join(pieces)
