"""The project's `date` filter, installed over Django's, writes what Django's filter writes:
same formats, same languages, same local time, same failures; but for the first day of a
month in French, « 1er septembre », where Django writes « 1 septembre »."""

import datetime as dt
import re
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template import Context, Engine, Template
from django.template.base import VariableNode
from django.utils.formats import get_format
from django.utils.translation import override
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from relais.www.templatetags import dates

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
ZONES = [UTC, PARIS, ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati")]
LANGUAGES = [code for code, _ in settings.LANGUAGES]

_TEMPLATES = Path(settings.BASE_DIR) / "relais" / "templates"
_DATE_FORMAT_USE = re.compile(r"""\|\s*date\s*:\s*(?:"([^"]*)"|'([^']*)')""")


def _project_formats() -> list[str]:
    found: set[str] = set()
    for path in _TEMPLATES.rglob("*.html"):
        for double, single in _DATE_FORMAT_USE.findall(path.read_text(encoding="utf-8")):
            found.add(double or single)
    return sorted(found)


PROJECT_FORMATS = _project_formats()
# Every letter the filter writes itself, with text around that the page must escape.
EXTRA_FORMATS = [
    "d j m n Y y F H i s",
    "<q>j</q> & F, Y — H:i",
    "{j} {F}, {0} Y%s",
    r"j \d\e F",
    r"\Y\e\a\r: Y",
    "d F Y",
]
# Formats the filter leaves to Django's.
REFUSED_FORMATS = [
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "MONTH_DAY_FORMAT",
    "YEAR_MONTH_FORMAT",
    "l j F Y",
    "N j, Y",
    "D d M Y",
    "d/m/Y G\\hi",
    "c",
    "U",
    "jS F Y",
    "P",
]

VALUES: list[object] = [
    # Paris goes to summer time on 31 March 2024 at 01:00 UTC, back on 27 October.
    dt.datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC),
    dt.datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
    dt.datetime(2024, 10, 27, 0, 59, 59, tzinfo=UTC),
    dt.datetime(2024, 10, 27, 1, 0, tzinfo=UTC),
    dt.datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=0),
    dt.datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1),
    dt.datetime(2024, 3, 31, 2, 30, tzinfo=PARIS),
    # Around midnight UTC, which is already the next day in Paris.
    dt.datetime(2024, 12, 31, 22, 59, 59, tzinfo=UTC),
    dt.datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
    dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC),
    dt.datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
    dt.datetime(2024, 2, 28, 23, 30, tzinfo=UTC),
    dt.datetime(2025, 6, 30, 22, 0, tzinfo=UTC),
    dt.datetime(2024, 8, 15, 23, 5, 7, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2024, 8, 15, 9, 5, 7, tzinfo=ZoneInfo("Pacific/Kiritimati")),
    # A naive moment is written as it is.
    dt.datetime(2024, 8, 15, 0, 0),  # noqa: DTZ001
    dt.datetime(5, 2, 3, 4, 5, 6, tzinfo=UTC),
    dt.datetime(87, 11, 9, 23, 59, 59),  # noqa: DTZ001
    dt.date(2024, 8, 15),
    *[dt.date(2026, 9, day) for day in (1, 2, 11, 21, 30)],
    dt.date(1, 1, 1),
    dt.date(999, 12, 31),
    dt.date(9999, 12, 31),
    *[dt.date(2024, month, 9) for month in range(1, 13)],
    None,
    "",
    "pas une date",
    0,
    dt.time(13, 5),
]

Outcome = tuple[str, object]


@cache
def _templates(format_string: str) -> tuple[Template, Template]:
    """The template through the project's engine, and through an engine with Django's
    filters only."""
    source = '{{ value|date:"' + format_string + '" }}'
    return Engine.get_default().from_string(source), Engine().from_string(source)


def _outcome(template: Template, value: object) -> Outcome:
    try:
        return "text", template.render(Context({"value": value}))
    except Exception as error:
        return "error", type(error)


def _djangos(format_string: str, value: object, code: str) -> Outcome:
    """What Django's filter writes, with « 1er » for the first day of a month in French."""
    with override(code):
        _, djangos = _templates(format_string)
        if code == "fr" and _outcome(_templates("j")[1], value) == ("text", "1"):
            resolved = get_format(format_string or "DATE_FORMAT")
            _, djangos = _templates(resolved.replace("j F", r"j\e\r F"))
        return _outcome(djangos, value)


def _assert_same(format_string: str, value: object) -> None:
    ours, _ = _templates(format_string)
    for code in LANGUAGES:
        with override(code):
            outcome = _outcome(ours, value)
        assert outcome == _djangos(format_string, value, code), (format_string, value, code)


def test_the_project_templates_use_formats_the_filter_writes_itself() -> None:
    assert PROJECT_FORMATS
    assert "j F Y" in PROJECT_FORMATS
    assert "d/m/Y H:i" in PROJECT_FORMATS
    for format_string in PROJECT_FORMATS + EXTRA_FORMATS:
        assert dates.compiled(format_string) is not None, format_string


def test_the_project_engine_uses_the_filter_and_a_plain_engine_does_not() -> None:
    ours, djangos = _templates("j F Y")
    for template, expected in ((ours, True), (djangos, False)):
        node = template.nodelist[0]
        assert isinstance(node, VariableNode)
        assert (node.filter_expression.filters[0][0] is dates.date) is expected


@pytest.mark.parametrize("format_string", PROJECT_FORMATS + EXTRA_FORMATS)
def test_it_writes_what_djangos_filter_writes(format_string: str) -> None:
    for value in VALUES:
        _assert_same(format_string, value)


def test_it_writes_the_month_in_the_page_language() -> None:
    ours, _ = _templates("j F Y")
    value = dt.date(2024, 8, 15)
    written = set()
    for code in LANGUAGES:
        with override(code):
            written.add(_outcome(ours, value))
    assert len(written) == len(LANGUAGES)


def test_it_writes_the_local_time_of_the_site() -> None:
    # 23:30 UTC on New Year's Eve is already past midnight in Paris.
    ours, _ = _templates("d/m/Y H:i")
    value = dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
    assert _outcome(ours, value) == ("text", value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"))


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.datetimes(
            min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001
            max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
            timezones=st.one_of(st.none(), st.sampled_from(ZONES)),
        ),
        st.dates(),
    )
)
def test_any_moment_is_written_as_djangos_filter_writes_it(value: dt.date) -> None:
    for format_string in PROJECT_FORMATS + EXTRA_FORMATS:
        _assert_same(format_string, value)


@pytest.mark.parametrize("format_string", REFUSED_FORMATS)
def test_formats_left_to_django_are_written_as_django_writes_them(format_string: str) -> None:
    assert dates.compiled(format_string) is None
    for value in VALUES:
        _assert_same(format_string, value)


@pytest.mark.parametrize("format_string", ["d/m/Y H:i", "H:i", "j F Y à H:i:s", "s"])
def test_a_time_on_a_plain_date_fails_as_djangos_filter_fails(format_string: str) -> None:
    for value in (dt.date(2024, 8, 15), dt.date(1, 1, 1)):
        _assert_same(format_string, value)


def test_a_missing_format_reads_as_djangos_filter_reads_it() -> None:
    ours = Engine.get_default().from_string("{{ value|date }}")
    for code in LANGUAGES:
        for value in VALUES:
            with override(code):
                outcome = _outcome(ours, value)
            assert outcome == _djangos("DATE_FORMAT", value, code), (value, code)


def test_an_empty_format_reads_as_djangos_filter_reads_it() -> None:
    # Django's filter takes an empty format for the language's DATE_FORMAT.
    for value in VALUES:
        _assert_same("", value)


def test_it_reads_each_format_once() -> None:
    assert dates.compiled("j F Y") is dates.compiled("j F Y")


@pytest.mark.parametrize(
    ("format_string", "value", "written"),
    [
        ("j F Y", dt.date(2026, 9, 1), "1er septembre 2026"),
        ("j F Y à H:i", dt.datetime(2026, 9, 1, 8, 5), "1er septembre 2026 à 08:05"),  # noqa: DTZ001
        ("j F", dt.date(2026, 1, 1), "1er janvier"),
        ("l j F Y", dt.date(2026, 9, 1), "mardi 1er septembre 2026"),
        ("DATE_FORMAT", dt.date(2026, 9, 1), "1er septembre 2026"),
        ("", dt.date(2026, 9, 1), "1er septembre 2026"),
        ("j F Y", dt.date(2026, 9, 2), "2 septembre 2026"),
        ("j F Y", dt.date(2026, 9, 11), "11 septembre 2026"),
        ("j F Y", dt.date(2026, 9, 21), "21 septembre 2026"),
        ("j F Y", dt.date(2026, 8, 31), "31 août 2026"),
        ("d F Y", dt.date(2026, 9, 1), "01 septembre 2026"),
        ("d/m/Y", dt.date(2026, 9, 1), "01/09/2026"),
        ("j/n/Y", dt.date(2026, 9, 1), "1/9/2026"),
        (r"\j F Y", dt.date(2026, 9, 1), "j septembre 2026"),
    ],
)
def test_the_first_of_a_month_is_the_1er_in_french(
    format_string: str, value: dt.date, written: str
) -> None:
    with override("fr"):
        assert dates.date(value, format_string) == written


def test_the_first_of_a_month_is_as_django_writes_it_in_english_and_arabic() -> None:
    first = dt.date(2026, 9, 1)
    with override("en"):
        assert dates.date(first, "j F Y") == "1 September 2026"
    with override("ar"):
        assert dates.date(first, "j F Y").startswith("1 ")


def test_the_first_of_a_month_in_local_time_is_the_1er() -> None:
    # 22:30 UTC on 31 August is already 1 September in Paris.
    ours, _ = _templates("j F Y")
    with override("fr"):
        assert _outcome(ours, dt.datetime(2026, 8, 31, 22, 30, tzinfo=UTC)) == (
            "text",
            "1er septembre 2026",
        )
