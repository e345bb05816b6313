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
