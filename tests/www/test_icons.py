"""Every DSFR icon Relais names exists in the stylesheets the layout loads: a name the
design system does not know shows an empty square where the icon should be."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from dsfr.constants import DsfrStaticAssets

ROOT = Path(__file__).resolve().parents[2] / "relais"
ICON = re.compile(r"fr-icon-[a-z0-9]+(?:-[a-z0-9]+)*")


def _defined() -> set[str]:
    names: set[str] = set()
    for asset in (DsfrStaticAssets.DSFR_CSS, DsfrStaticAssets.DSFR_UTILITY_CSS):
        path = finders.find(asset)
        assert path, asset
        names |= set(re.findall(r"\.(fr-icon-[a-z0-9-]+)", Path(path).read_text()))
    return names


def _used() -> dict[str, str]:
    used: dict[str, str] = {}
    for path in sorted([*ROOT.rglob("*.html"), *ROOT.rglob("*.py")]):
        for name in ICON.findall(path.read_text()):
            used.setdefault(name, str(path.relative_to(ROOT)))
    return used


def test_every_icon_used_is_one_the_design_system_defines():
    defined = _defined()
    used = _used()

    assert len(used) > 20
    assert {name: where for name, where in used.items() if name not in defined} == {}


GROUP = re.compile(r'<(ul|div) class="([^"]*\bfr-btns-group\b[^"]*)"')
# The header's tools: the design system's header shows their words itself.
HEADER_TOOLS = "templates/layout/tools.html"


def test_every_group_of_buttons_with_icons_shows_their_words():
    """In a group of buttons, the design system shows an icon button as the icon alone,
    unless the group itself places icons left or right: the words must stay visible."""
    icon_only = []
    for path in sorted(ROOT.rglob("*.html")):
        if str(path.relative_to(ROOT)) == HEADER_TOOLS:
            continue
        text = path.read_text()
        for match in GROUP.finditer(text):
            tag, classes = match.groups()
            inside = text[match.end() : text.find(f"</{tag}>", match.end())]
            has_icon_button = re.search(r'class="fr-btn\b[^"]*\bfr-icon-', inside)
            if has_icon_button and "fr-btns-group--icon-" not in classes:
                icon_only.append(str(path.relative_to(ROOT)))

    assert icon_only == []
