"""Days typed in the forms of procedures and documents stay within what a real situation
can have, so that the dates computed from them exist."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from relais.www.forms import DayField


@pytest.mark.parametrize(
    ("typed", "years_ahead", "error"),
    [
        ("0001-01-01", 100, "Vérifiez l'année : la date doit être postérieure à 1900."),
        ("9999-12-31", 100, "ne peut pas dépasser de plus de 100 ans"),
        (
            (timezone.localdate() + timedelta(days=1)).isoformat(),
            0,
            "ne peut pas être dans le futur",
        ),
    ],
)
def test_a_day_out_of_its_window_is_refused_in_french(typed, years_ahead, error):
    field = DayField(years_ahead=years_ahead)

    with pytest.raises(ValidationError, match=error):
        field.clean(typed)


def test_a_day_within_its_window_is_taken():
    assert DayField(years_ahead=0).clean("1950-06-01") == date(1950, 6, 1)
