"""Plausibility of what a professional types in a file: a value no real situation can
have is a typing mistake, refused before it is saved."""

from datetime import date
from decimal import Decimal
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# Lines a person can be called on; 09 numbers, the usual landline of an internet box, are
# VOIP ones to libphonenumber.
_PERSONAL_LINES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
    }
)


# Overseas départements and collectivities have their own country codes: a number typed
# there without one (0692…, 0590…) is theirs, not metropolitan France's.
_FRENCH_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM")


def french_number(value: str) -> phonenumbers.PhoneNumber | None:
    """The valid number `value` stands for: as typed when it bears a country code, else
    in metropolitan France or overseas; None if there is none."""
    for region in _FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return number
    return None


def validate_phone(value: str) -> None:
    """A mobile or landline number, French (overseas included) unless typed with a country
    code; the file keeps it as typed."""
    number = french_number(value)
    if number is None or phonenumbers.number_type(number) not in _PERSONAL_LINES:
        raise ValidationError(
            "Ce numéro de téléphone n'est pas valide : saisissez un numéro de portable ou de "
            "fixe, par exemple 06 12 34 56 78.",
            code="invalid_phone",
        )


def mobile_number(value: str) -> str | None:
    """The number in E.164 form, as SMS gateways want it, when it is a valid mobile one
    (French numbers, overseas included, may be typed without their country code); None
    otherwise."""
    number = french_number(value)
    if number is None or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_not_zero(value: Decimal) -> None:
    """A month's resource is a sum received: a line of 0 € beside the month's real ones
    would read as a resource the person has."""
    if value == 0:
        raise ValidationError(
            "Un montant de 0 € n'est pas une ressource : inscrivez seulement ce que la "
            "personne reçoit ce mois-là.",
            code="zero_amount",
        )


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year that has none
        return day.replace(year=day.year + years, day=28)


@deconstructible
class DateWindow:
    """A date from `earliest` to `years_ahead` years after today (0: not in the future).
    Today is read when the value is validated, so that the window moves with time."""

    def __init__(self, *, earliest: date, years_ahead: int, too_early: str, too_late: str) -> None:
        self.earliest = earliest
        self.years_ahead = years_ahead
        self.too_early = too_early
        self.too_late = too_late

    def __call__(self, value: date) -> None:
        if value < self.earliest:
            raise ValidationError(self.too_early, code="date_too_early")
        if value > _years_after(timezone.localdate(), self.years_ahead):
            raise ValidationError(self.too_late, code="date_too_late")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DateWindow) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((self.earliest, self.years_ahead, self.too_early, self.too_late))
