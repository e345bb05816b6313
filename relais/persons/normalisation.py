"""Name keys for search and duplicate detection: no accents, no case, hyphens and
apostrophes as spaces, single spaces; and digits of any script written 0 to 9."""

import re
import unicodedata
from typing import Any

from django.db.models import Q

_SEPARATORS = re.compile(r"[\s\-'’.]+")
# Letters that are not an accented letter, which NFKD therefore leaves whole: each
# becomes what a French keyboard types for it. Keys are case-folded first.
_OWN_LETTERS = str.maketrans(
    {
        "œ": "oe", "æ": "ae", "ß": "ss", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th",
        "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "n",
    }
)  # fmt: skip
# The same letters in both cases, for the migration that finds the keys written before.
OWN_LETTERS = "ŒÆẞŁØĐÐÞĦŦŊœæßłøđðþıħŧŋ"
# What a key drops: anything but letters, digits and separators.
_NOT_KEY = re.compile(r"[^a-z0-9\s\-'’.]")


def name_key(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_only = ascii_only.translate(_OWN_LETTERS)
    # Dropped first, so that a dropped letter between two spaces leaves a single one.
    kept = _NOT_KEY.sub("", ascii_only)
    return _SEPARATORS.sub(" ", kept).strip()


def search_tokens(query: str) -> list[str]:
    return [token for token in name_key(query).split(" ") if token][:4]


def rekey(person_model: Any, matching: Q) -> None:
    """Recompute the name keys of the persons `matching` selects: for the migrations that
    change how a key is made, each of which finds the keys it changes."""
    for person in (
        person_model.objects.filter(matching)
        .only("birth_name", "usage_name", "first_names")
        .iterator()
    ):
        person_model.objects.filter(pk=person.pk).update(
            birth_name_key=name_key(person.birth_name),
            usage_name_key=name_key(person.usage_name),
            first_names_key=name_key(person.first_names),
        )


def ascii_digits(value: str) -> str:
    """`value` with every decimal digit, of any script, written 0 to 9: a phone's keyboard
    set to Arabic types « ١٢٣٤٥٦ » for the code 123456. phonenumbers reads a number typed
    so, which a file must still keep in the digits every colleague reads."""
    return "".join(
        str(digit) if (digit := unicodedata.decimal(char, None)) is not None else char
        for char in value
    )
