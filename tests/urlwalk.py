"""Walking every URL pattern of the project, for the tests that sweep them all."""

from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver


def walk(
    patterns: list, render: Callable[[object], str], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Callable]]:
    """Yield (name or route, "/" + rendered path, view) for every pattern; `render` turns
    one pattern into its piece of path (filled with values, or written as a template)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, render, prefix + render(pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if pattern.name else None
            path = "/" + prefix + render(pattern)
            yield name or path, path, pattern.callback
