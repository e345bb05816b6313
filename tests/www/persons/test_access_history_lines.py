"""A file's access history groups, for display, the consultations one professional of one
organisation made in a row the same day; every other access keeps a line of its own and
stands out. The journal keeps its rows; the pages never cut nor repeat a line."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record
from relais.www.persons import history_lines, views
from relais.www.persons.history_lines import lines_of, page_of_lines
from relais.www.templatetags.dates import date as date_filter

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NADIA = Actor(
    user_id=901,
    label="Nadia Haddad",
    organisation_id=801,
    organisation_label="CHRS Le Phare",
    profession="Moniteur(trice)-éducateur(trice)",
)
# The same professional, acting for her other organisation.
NADIA_ELSEWHERE = Actor(
    user_id=901, label="Nadia Haddad", organisation_id=802, organisation_label="SIAO du Nord"
)
AMINATA = Actor(
    user_id=902, label="Aminata Diallo", organisation_id=803, organisation_label="CADA de la Somme"
)


def _at(hour: int, minute: int, day: int = 1) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


def _record(monkeypatch, person, moment, action=AuditAction.SECTION_VIEWED, **fields):
    fields.setdefault("by", NADIA)
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: moment.astimezone(datetime.UTC))
        return audit_record(action=action, person_id=person.pk, **fields)


def _history(client, person, **query) -> str:
    response = client.get(reverse("persons:history", args=[person.pk]), query)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _rows(page: str) -> list[str]:
    """The table's lines, as text."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def _actions(page: str) -> list[str]:
    """The action and reason of each line of the table, as text."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        " ".join(re.sub(r"<[^>]+>", "", cell).strip() for cell in cells[3:]).strip()
        for cells in (
            re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
        )
    ]


def test_consultations_in_a_row_are_one_line_naming_what_was_read_how_often_and_when(
    member_client, person, monkeypatch
):
    categories = ["identite", "demarches", "documents", "demarches"] * 3
    for minute, category in zip(range(41, 53), categories, strict=True):
        _record(monkeypatch, person, _at(20, min(minute, 48)), category=category)

    rows = _rows(_history(member_client, person))

    assert len(rows) == 2  # this page's own read, then Nadia's twelve
    assert rows[1] == (
        "01/12/2026 CHRS Le Phare Nadia Haddad (Moniteur(trice)-éducateur(trice)) "
        "Consultation — Identité et coordonnées, Démarches, Pièces justificatives — "
        "12 fois entre 20:41 et 20:48"
    )
    assert AuditEvent.objects.filter(person_id=person.pk).count() == 13


def test_consultations_within_one_minute_say_at_what_time(member_client, person, monkeypatch):
    for _ in range(3):
        _record(monkeypatch, person, _at(9, 5), category="logement")

    assert _rows(_history(member_client, person))[1].endswith(
        "Consultation — Logement — 3 fois à 09:05"
    )


def test_a_change_the_nir_shown_and_an_exceptional_read_break_the_line_and_stand_out(
    member_client, person, monkeypatch
):
    _record(monkeypatch, person, _at(10, 0), category="identite")
    _record(monkeypatch, person, _at(10, 1), category="logement")
    _record(monkeypatch, person, _at(10, 2), AuditAction.SECTION_UPDATED, category="logement")
    _record(monkeypatch, person, _at(10, 3), category="logement")
    _record(monkeypatch, person, _at(10, 4), AuditAction.NIR_REVEALED, category="identite")
    _record(monkeypatch, person, _at(10, 5), category="identite")
    _record(
        monkeypatch,
        person,
        _at(10, 6),
        by=AMINATA,
        category="identite",
        reason="Hébergement d'urgence ce soir, besoin des coordonnées.",
        details={"exceptionnel": True},
    )
    _record(
        monkeypatch,
        person,
        _at(10, 7),
        by=AMINATA,
        category="identite",
        reason="Hébergement d'urgence ce soir, besoin des coordonnées.",
        details={"exceptionnel": True},
    )

    page = _history(member_client, person)

    assert _actions(page)[1:] == [
        "Consultation — Identité et coordonnées Accès exceptionnel : Hébergement d'urgence "
        "ce soir, besoin des coordonnées.",
        "Consultation — Identité et coordonnées Accès exceptionnel : Hébergement d'urgence "
        "ce soir, besoin des coordonnées.",
        "Consultation — Identité et coordonnées",
        "Affichage du NIR en clair — Identité et coordonnées",
        "Consultation — Logement",
        "Modification — Logement",
        "Consultation — Identité et coordonnées, Logement — 2 fois entre 10:00 et 10:01",
    ]
    for stands_out in (
        "Affichage du NIR en clair — Identité et coordonnées",
        "Modification — Logement",
    ):
        assert f"<strong>{stands_out}</strong>" in page
    assert page.count("<strong>Consultation — Identité et coordonnées</strong>") == 2
    assert "<strong>Consultation — Identité et coordonnées, Logement" not in page


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Before and after midnight in Paris: two days.
        ((_at(23, 59), NADIA), (_at(0, 1, day=2), NADIA)),
        ((_at(10, 0), NADIA), (_at(10, 1), NADIA_ELSEWHERE)),
        ((_at(10, 0), NADIA), (_at(10, 1), AMINATA)),
    ],
    ids=["another day", "another organisation", "another professional"],
)
def test_consultations_of_another_day_organisation_or_professional_are_another_line(
    member_client, person, monkeypatch, first, second
):
    for moment, actor in (first, second):
        _record(monkeypatch, person, moment, by=actor, category="logement")

    rows = _rows(_history(member_client, person))

    assert len(rows) == 3
    assert not any("fois" in row for row in rows)


# Pages: a line is never cut, nor shown twice.


def _pattern_rows(monkeypatch, person, pattern: str) -> None:
    """One row per letter, oldest first, a minute apart: « n » a read by Nadia, « a » one by
    Aminata, « M » a change by Nadia."""
    moment = _at(8, 0)
    for letter in pattern:
        actor = AMINATA if letter == "a" else NADIA
        action = AuditAction.SECTION_UPDATED if letter == "M" else AuditAction.SECTION_VIEWED
        _record(monkeypatch, person, moment, action, by=actor, category="logement")
        moment += datetime.timedelta(minutes=1)


def _seqs(lines) -> list[tuple[int, int, int]]:
    """Each line's newest and oldest rows, and how many it holds."""
    return [(line.event.seq, line.oldest_seq, line.count) for line in lines]


@pytest.mark.parametrize(
    "pattern",
    [
        "nnnnnannnMnnaaan",
        "n" * 23,
        "nannannnaaaMMnnnnnnnnnnnnna",
        "anananananana",
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnMa",
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3])
def test_the_pages_hold_the_lines_of_the_whole_history_each_once_and_whole(
    person, monkeypatch, pattern, size
):
    # Few rows read at a time: a line longer than one read, a page needing several.
    monkeypatch.setattr(history_lines, "ROWS_READ_AT_ONCE", 4)
    _pattern_rows(monkeypatch, person, pattern)
    history = AuditEvent.objects.for_file(person).access_history()
    whole = _seqs(lines_of(history.newest_first()))

    paged, before, pages = [], None, 0
    while True:
        lines, older = page_of_lines(history, before, size)
        assert 0 < len(lines) <= size
        paged += _seqs(lines)
        pages += 1
        if older is None:
            break
        assert older == lines[-1].oldest_seq
        before = older

    assert paged == whole
    assert pages == -(-len(whole) // size)


def test_a_line_across_the_page_limit_is_shown_whole_on_one_page(
    member_client, person, monkeypatch
):
    monkeypatch.setattr(views, "HISTORY_PAGE", 2)
    _pattern_rows(monkeypatch, person, "nnnnn" + "a" + "nnnn")

    first = _history(member_client, person)
    older = re.search(r'href="\?avant=(\d+)"', first).group(1)
    second = _history(member_client, person, avant=older)

    # The newest page holds this page's read, then Nadia's last four reads, whole; the next
    # one Aminata's read and Nadia's five before it, whole too, and no older page.
    assert len(_rows(first)) == 2
    assert _rows(first)[1].endswith("Consultation — Logement — 4 fois entre 08:06 et 08:09")
    assert [row.split(" Logement")[-1] for row in _rows(second)] == [
        "",
        " — 5 fois entre 08:00 et 08:04",
    ]
    assert "Accès plus anciens" not in second


def test_the_printed_history_groups_the_consultations_and_keeps_its_limit(
    member_client, person, monkeypatch
):
    monkeypatch.setattr(views, "PRINTED_AT_MOST", 10)
    _pattern_rows(monkeypatch, person, "an" * 4 + "n" * 20)

    printed = _history(member_client, person, impression="1")

    rows = _rows(printed)
    # The ten newest rows: the print's read, then nine of Nadia's reads in a row.
    assert len(rows) == 2
    assert rows[1].endswith("Consultation — Logement — 9 fois entre 08:19 et 08:27")
    assert "Seuls les 10 accès les plus récents sont imprimés." in printed


# The file's « Derniers accès ».


def _last_accesses(client, person) -> list[str]:
    page = html.unescape(client.get(reverse("persons:file", args=[person.pk])).content.decode())
    listed = page.split("Derniers accès", 1)[1].split("Tout l'historique", 1)[0]
    return re.findall(r"<li>(.*?)</li>", listed)


def test_the_last_accesses_group_reads_in_a_row_and_count_them(member_client, person, monkeypatch):
    _record(monkeypatch, person, _at(20, 30), by=AMINATA, category="identite")
    for minute in (39, 40, 41):
        _record(monkeypatch, person, _at(20, minute), category="identite")

    listed = _last_accesses(member_client, person)

    assert listed[1:] == [
        "01/12/2026 20:39 à 20:41 — CHRS Le Phare (3 consultations)",
        "01/12/2026 20:30 — CADA de la Somme",
    ]


def test_the_last_accesses_say_at_least_when_older_reads_may_be_in_the_same_row(
    member_client, person, monkeypatch
):
    for minute in range(35, 42):
        _record(monkeypatch, person, _at(20, minute), category="identite")

    listed = _last_accesses(member_client, person)

    # Four of Nadia's seven reads come with this page's: more may precede them.
    assert listed[1:] == ["01/12/2026 20:41 — CHRS Le Phare (au moins 4 consultations)"]


def test_the_last_accesses_keep_an_exceptional_read_on_its_own_line(
    member_client, person, monkeypatch
):
    reason = "Hébergement d'urgence ce soir, besoin des coordonnées."
    for minute in (1, 2):
        _record(
            monkeypatch,
            person,
            _at(20, minute),
            by=AMINATA,
            category="identite",
            reason=reason,
            details={"exceptionnel": True},
        )

    listed = _last_accesses(member_client, person)

    assert listed[1:] == [
        "01/12/2026 20:02 — CADA de la Somme (accès exceptionnel)",
        "01/12/2026 20:01 — CADA de la Somme (accès exceptionnel)",
    ]


def test_the_printed_history_says_when_it_was_printed_through_the_date_filter(
    member_client, person
):
    """The filter writes « 1er » on the first of a month, which the now tag does not."""
    printed = _history(member_client, person, impression="1")

    assert f"Imprimé le {date_filter(timezone.localtime(), 'j F Y à')} " in printed


@pytest.mark.parametrize("printing", [False, True], ids=["page", "printed"])
def test_the_history_names_no_category_its_reader_may_not_read(
    member_client, person, monkeypatch, printing
):
    """A social worker of a CCAS does not read the health section: the history shows that
    the file was read and changed, not that its health was."""
    _record(monkeypatch, person, _at(10, 0), category="sante")
    _record(monkeypatch, person, _at(10, 1), category="logement")
    _record(monkeypatch, person, _at(10, 2), AuditAction.SECTION_UPDATED, category="sante")
    _record(monkeypatch, person, _at(10, 3), category="sante")

    page = _history(member_client, person, **({"impression": "1"} if printing else {}))

    assert "Santé" not in page
    assert _actions(page)[-3:] == [
        "Consultation",
        "Modification",
        "Consultation — Logement — 2 fois entre 10:00 et 10:01",
    ]
