"""Every string of the person's space is translated into English and Arabic: none left
empty or fuzzy in the .po files, the committed .mo files say the same, and no string of
the portal templates was forgotten by makemessages."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "relais" / "locale"
TEMPLATES = Path(settings.BASE_DIR) / "relais" / "templates"
LANGUAGES = ["en", "ar"]
_TRANSLATE_TAG = re.compile(r"""\{%\s*translate\s+(["'])(.*?)\1\s*%\}""")


def entries(language: str) -> list[dict]:
    """The entries of a .po file: msgid, plural, msgstr forms and flags."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    found = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry: dict = {"flags": [], "msgid": None, "plural": None, "msgstr": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural "):
                field, entry["plural"] = "plural", ast.literal_eval(line[13:])
            elif line.startswith("msgid "):
                field, entry["msgid"] = "msgid", ast.literal_eval(line[6:])
            elif line.startswith("msgstr"):
                key, _, value = line.partition(" ")
                field = key
                entry["msgstr"][key] = ast.literal_eval(value)
            elif line.startswith('"'):
                if field in ("msgid", "plural"):
                    entry[field] += ast.literal_eval(line)
                else:
                    entry["msgstr"][field] += ast.literal_eval(line)
        if entry["msgid"]:
            found.append(entry)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_string_is_left_untranslated_or_fuzzy(language):
    problems = [
        entry["msgid"]
        for entry in entries(language)
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"].values())
    ]

    assert len(entries(language)) > 300
    assert not problems, problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_files_match_the_po_files(language):
    with translation.override(language):
        stale = [
            entry["msgid"]
            for entry in entries(language)
            if entry["plural"] is None
            and translation.gettext(entry["msgid"]) != entry["msgstr"]["msgstr"]
        ]

    assert not stale, f"Lancez compilemessages : {stale[:5]}"


def test_every_string_of_the_portal_templates_is_in_the_po_files():
    known = {entry["msgid"] for entry in entries("en")}
    templates = [*TEMPLATES.glob("portal/**/*.html"), *TEMPLATES.glob("portability/*.html")]
    forgotten = {
        match[2]
        for template in templates
        for match in _TRANSLATE_TAG.finditer(template.read_text(encoding="utf-8"))
        if match[2] not in known
    }

    assert templates
    assert not forgotten, f"Lancez makemessages : {sorted(forgotten)}"
