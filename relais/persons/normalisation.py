"""Name keys for search and duplicate detection: no accents, no case, hyphens and
apostrophes as spaces, single spaces."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-'’.]+")
_NOT_KEY = re.compile(r"[^a-z0-9 ]")


def name_key(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_only = ascii_only.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    spaced = _SEPARATORS.sub(" ", ascii_only)
    return _NOT_KEY.sub("", spaced).strip()


def search_tokens(query: str) -> list[str]:
    return [token for token in name_key(query).split(" ") if token][:4]
