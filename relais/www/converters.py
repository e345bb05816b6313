"""The path converter of the numbers in Relais's URLs."""

# The largest number the converter takes.
LARGEST_ID = 10**18 - 1


class IdConverter:
    """A row's number: at most 18 digits, so that it always fits the database's 64-bit
    keys. A longer one is no row's: the URL answers 404 instead of failing on the
    database's side."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
