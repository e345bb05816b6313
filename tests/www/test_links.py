"""`link()` builds the same address as `reverse()`, for every route of the project, and
leaves to `reverse()` whatever a plain join of strings could get wrong."""

from collections.abc import Callable, Iterator

import pytest
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    get_script_prefix,
    reverse,
    set_script_prefix,
)
from django.urls.converters import IntConverter, SlugConverter

from relais.www.converters import IdConverter
from relais.www.links import link

INTS = (1, 42, 1234567)
SLUGS = ("identite", "a-b_c9")

Route = tuple[str, tuple[str, ...]]
Outcome = tuple[str, object]


def _routes(
    patterns: list[URLPattern | URLResolver], namespace: str = "", kinds: tuple[str, ...] = ()
) -> Iterator[Route]:
    """Every named route as ("namespace:name", kind of each argument in order), for the
    routes whose arguments are all integers or slugs."""
    for pattern in patterns:
        converters = pattern.pattern.converters
        if pattern.pattern.regex.groups != len(converters):
            # A regular expression's own groups: no converter tells what they take.
            continue
        if not all(
            type(converter) in (IntConverter, IdConverter, SlugConverter)
            for converter in converters.values()
        ):
            continue
        here = kinds + tuple(
            "slug" if type(c) is SlugConverter else "int" for c in converters.values()
        )
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _routes(pattern.url_patterns, inner, here)
        elif pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), here


ROUTES = sorted(set(_routes(get_resolver().url_patterns)))
WITH_ARGUMENTS = [route for route in ROUTES if route[1]]
WITH_A_SLUG = [route for route in ROUTES if "slug" in route[1]]
WITH_AN_INT = [route for route in ROUTES if "int" in route[1]]


def _samples(kinds: tuple[str, ...]) -> list[tuple[int | str, ...]]:
    """A few argument lists for a route: each sample varies every place."""
    return [
        tuple(
            INTS[(round_ + place) % len(INTS)]
            if kind == "int"
            else SLUGS[(round_ + place) % len(SLUGS)]
            for place, kind in enumerate(kinds)
        )
        for round_ in range(len(INTS) * len(SLUGS))
    ]


def _outcome(build: Callable[[], str]) -> Outcome:
    """The address built, or the kind of error raised."""
    try:
        return "address", build()
    except NoReverseMatch:
        return "no route", NoReverseMatch


def _same_as_reverse(name: str, *args: int | str) -> None:
    expected = _outcome(lambda: reverse(name, args=args))
    assert _outcome(lambda: link(name, *args)) == expected


def test_the_walk_covers_the_project_routes() -> None:
    assert len(ROUTES) > 30
    assert len(WITH_ARGUMENTS) > 20
    assert WITH_A_SLUG
    assert any(kinds.count("int") >= 3 for _, kinds in ROUTES)
    assert ("persons:section", ("int", "slug")) in ROUTES


@pytest.mark.parametrize(("name", "kinds"), ROUTES, ids=[name for name, _ in ROUTES])
def test_it_builds_what_reverse_builds(name: str, kinds: tuple[str, ...]) -> None:
    for args in _samples(kinds):
        # Twice: the first call learns the route's shape, the second only joins strings.
        assert link(name, *args) == reverse(name, args=args)
        assert link(name, *args) == reverse(name, args=args)


@pytest.mark.parametrize(("name", "kinds"), WITH_A_SLUG, ids=[name for name, _ in WITH_A_SLUG])
@pytest.mark.parametrize("text", ["é t", "a/b", "a b", "", "x.y", "identité"])
def test_text_outside_a_slug_goes_through_reverse(
    name: str, kinds: tuple[str, ...], text: str
) -> None:
    args = [text if kind == "slug" else 7 for kind in kinds]
    _same_as_reverse(name, *args)


def test_a_digit_string_in_a_slug_place_reads_as_reverse_reads_it() -> None:
    for name, kinds in WITH_A_SLUG:
        _same_as_reverse(name, *["2024" if kind == "slug" else 3 for kind in kinds])
        _same_as_reverse(name, *[5 if kind == "slug" else 3 for kind in kinds])


def test_text_outside_a_slug_in_a_text_place_is_quoted_as_reverse_quotes_it() -> None:
    # The invitation token is a `str` place: reverse accepts any text but a slash.
    for text in ["a b", "é", "jeton-simple", "a%b"]:
        assert link("accounts:invitation", text) == reverse("accounts:invitation", args=[text])


@pytest.mark.parametrize(("name", "kinds"), WITH_AN_INT, ids=[name for name, _ in WITH_AN_INT])
@pytest.mark.parametrize("text", ["abc", "1a", "1 2", "", "١٢", "42"])
def test_text_in_a_numeric_place_fails_as_reverse_fails(
    name: str, kinds: tuple[str, ...], text: str
) -> None:
    args = [text if kind == "int" else "slug" for kind in kinds]
    _same_as_reverse(name, *args)
    if text != "42":
        with pytest.raises(NoReverseMatch):
            link(name, *args)


def test_a_negative_number_fails_as_reverse_fails() -> None:
    # The numeric converter takes digits only: reverse() refuses a minus sign.
    for name, kinds in WITH_AN_INT:
        _same_as_reverse(name, *[-1 if kind == "int" else "slug" for kind in kinds])


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_not_taken_for_a_number(flag: bool) -> None:
    for name, kinds in WITH_AN_INT:
        args = [flag if kind == "int" else "slug" for kind in kinds]
        _same_as_reverse(name, *args)
        with pytest.raises(NoReverseMatch):
            link(name, *args)


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_in_a_slug_place_reads_as_reverse_reads_it(flag: bool) -> None:
    for name, kinds in WITH_A_SLUG:
        _same_as_reverse(name, *[flag if kind == "slug" else 3 for kind in kinds])


@pytest.mark.parametrize(
    ("name", "kinds"), WITH_ARGUMENTS, ids=[name for name, _ in WITH_ARGUMENTS]
)
def test_a_wrong_number_of_arguments_fails_as_reverse_fails(
    name: str, kinds: tuple[str, ...]
) -> None:
    args = _samples(kinds)[0]
    for wrong in (args[:-1], (*args, 9), ()):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=wrong)
        with pytest.raises(NoReverseMatch):
            link(name, *wrong)


def test_a_route_without_arguments_refuses_one() -> None:
    assert link("www:home") == reverse("www:home")
    with pytest.raises(NoReverseMatch):
        link("www:home", 1)
    with pytest.raises(NoReverseMatch):
        link("www:home", "identite")


def test_an_unknown_route_fails_as_reverse_fails() -> None:
    with pytest.raises(NoReverseMatch):
        link("persons:nowhere", 1)
    with pytest.raises(NoReverseMatch):
        link("nowhere:file", 1)


def test_it_follows_the_script_prefix_as_reverse_does() -> None:
    # A site served under a sub-path: Django sets the prefix for each request.
    previous = get_script_prefix()
    assert link("persons:history", 1) == reverse("persons:history", args=[1])
    set_script_prefix("/relais/")
    try:
        assert reverse("persons:history", args=[1]).startswith("/relais/")
        assert link("persons:history", 1) == reverse("persons:history", args=[1])
    finally:
        set_script_prefix(previous)


def test_a_number_beyond_what_urls_take_goes_through_reverse():
    with pytest.raises(NoReverseMatch):
        link("persons:file", 10**18)
