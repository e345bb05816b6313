"""« Qui a regardé mon dossier » groups, as the professionals' history does, the reads one
professional of one organisation made of the file in a row, the same day: one line says how
many times, between which times, and which parts of the file, in the person's words. A
change, an opening in an emergency and a read under it keep a line of their own; the
person's own visits stay out; the pages never cut nor repeat a line."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.portal.sessions import PERSON_ACTOR_LABEL
from relais.www.persons import history_lines
from relais.www.portal import views as portal_views
from tests.persons.factories import PersonFactory
from tests.portal.factories import PersonAccountFactory
from tests.portal.helpers import log_in_person

pytestmark = pytest.mark.django_db

HISTORY = reverse("portal:history")
PARIS = ZoneInfo("Europe/Paris")
NADIA = Actor(
    user_id=901,
    label="Nadia Haddad",
    organisation_id=801,
    organisation_label="CHRS Le Phare",
    profession="Moniteur(trice)-éducateur(trice)",
)
AMINATA = Actor(
    user_id=902,
    label="Aminata Diallo",
    organisation_id=803,
    organisation_label="CADA de la Somme",
    profession="Infirmier(ère)",
)
THE_PERSON = Actor(label=PERSON_ACTOR_LABEL)
EMERGENCY = "Hospitalisation en urgence, le logement doit être protégé."


@pytest.fixture
def account():
    return PersonAccountFactory(person=PersonFactory(first_names="Maëlle"))


@pytest.fixture
def person_client(account):
    return log_in_person(Client(), account)


def _at(hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 1, hour, minute, tzinfo=PARIS)


def _record(monkeypatch, person, moment, action=AuditAction.SECTION_VIEWED, **fields):
    fields.setdefault("by", NADIA)
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: moment.astimezone(datetime.UTC))
        audit_record(action=action, person_id=person.pk, **fields)


def _lines(client, language: str = "fr", **query) -> list[str]:
    """The lines of the history the person sees, each as its text."""
    if language != "fr":
        client.post(reverse("portal:language"), {"language": language})
    response = client.get(HISTORY, query)
    assert response.status_code == 200
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
        for item in re.findall(
            r'<li class="relais-event relais-item">(.*?)</li>',
            html.unescape(response.content.decode()),
            re.DOTALL,
        )
    ]


@pytest.fixture
def half_an_hour(account, monkeypatch):
    """Nadia reads the file fifteen times, changes the housing, reads it fifteen times
    more, while the person looks at her own file; then Aminata opens it in an emergency
    and reads the identity."""
    person = account.person
    parts = ["identite", "logement", "demarches"]
    for minute in range(15):
        _record(monkeypatch, person, _at(14, minute), category=parts[minute % 3])
    _record(monkeypatch, person, _at(14, 15), AuditAction.SECTION_UPDATED, category="logement")
    for minute in range(16, 31):
        _record(monkeypatch, person, _at(14, minute), category=parts[minute % 3])
        if minute == 20:
            _record(
                monkeypatch,
                person,
                _at(14, minute),
                by=THE_PERSON,
                category="logement",
                details={"espace_personnel": True},
            )
    _record(
        monkeypatch,
        person,
        _at(14, 31),
        AuditAction.BREAK_GLASS_OPENED,
        by=AMINATA,
        reason=EMERGENCY,
    )
    _record(
        monkeypatch,
        person,
        _at(14, 32),
        by=AMINATA,
        category="identite",
        reason=EMERGENCY,
        details={"exceptionnel": True},
    )


def test_reads_in_a_row_are_one_line_and_the_rest_stands_on_its_own(person_client, half_an_hour):
    assert _lines(person_client) == [
        "1er décembre 2026, 14 h 32 Structure CADA de la Somme Métier Infirmier(ère) "
        f"Ce qui a été fait A regardé : Qui je suis Urgence : pourquoi {EMERGENCY}",
        "1er décembre 2026, 14 h 31 Structure CADA de la Somme Métier Infirmier(ère) "
        "Ce qui a été fait A ouvert mon dossier sans mon accord (urgence) "
        f"Urgence : pourquoi {EMERGENCY}",
        "1er décembre 2026 Structure CHRS Le Phare Métier Moniteur(trice)-éducateur(trice) "
        "Ce qui a été fait A regardé mon dossier 15 fois, entre 14 h 16 et 14 h 30. "
        "Ce qui a été regardé Mon logement, Mes démarches, Qui je suis",
        "1er décembre 2026, 14 h 15 Structure CHRS Le Phare "
        "Métier Moniteur(trice)-éducateur(trice) Ce qui a été fait A modifié : Mon logement",
        "1er décembre 2026 Structure CHRS Le Phare Métier Moniteur(trice)-éducateur(trice) "
        "Ce qui a été fait A regardé mon dossier 15 fois, entre 14 h 00 et 14 h 14. "
        "Ce qui a été regardé Qui je suis, Mon logement, Mes démarches",
    ]


def test_reads_in_a_row_read_in_english(person_client, half_an_hour):
    lines = _lines(person_client, "en")

    assert len(lines) == 5
    assert lines[0] == (
        "1 December 2026, 14:32 Organisation CADA de la Somme Job Infirmier(ère) "
        f"What was done Looked at: Who I am Emergency: why {EMERGENCY}"
    )
    assert lines[2] == (
        "1 December 2026 Organisation CHRS Le Phare Job Moniteur(trice)-éducateur(trice) "
        "What was done Looked at my file 15 times, between 14:16 and 14:30. "
        "What was looked at My home, My procedures, Who I am"
    )
    assert lines[4].endswith(
        "Looked at my file 15 times, between 14:00 and 14:14. "
        "What was looked at Who I am, My home, My procedures"
    )


def test_reads_in_a_row_read_in_arabic_with_the_plural_of_their_number(person_client, half_an_hour):
    lines = _lines(person_client, "ar")

    assert len(lines) == 5
    assert "اطّلع على ملفي 15 مرة، بين الساعة 14:16 والساعة 14:30." in lines[2]


def test_reads_within_one_minute_say_at_what_time(account, person_client, monkeypatch):
    for _ in range(3):
        _record(monkeypatch, account.person, _at(9, 5), category="logement")

    assert _lines(person_client) == [
        "1er décembre 2026 Structure CHRS Le Phare Métier Moniteur(trice)-éducateur(trice) "
        "Ce qui a été fait A regardé mon dossier 3 fois, à 9 h 05. "
        "Ce qui a été regardé Mon logement"
    ]
    assert _lines(person_client, "en")[0].endswith(
        "Looked at my file 3 times, at 9:05. What was looked at My home"
    )


# Pages: a line is never cut, nor shown twice.


def _pattern_rows(monkeypatch, person, pattern: str) -> None:
    """One row per letter, oldest first, a minute apart: « n » a read by Nadia, « a » one by
    Aminata, « M » a change by Nadia."""
    moment = _at(8, 0)
    for letter in pattern:
        by = AMINATA if letter == "a" else NADIA
        action = AuditAction.SECTION_UPDATED if letter == "M" else AuditAction.SECTION_VIEWED
        _record(monkeypatch, person, moment, action, by=by, category="logement")
        moment += datetime.timedelta(minutes=1)


def _pages(client) -> list[tuple[list[str], str]]:
    """Every page of the history, following the link to the older ones: its lines, and its
    whole text."""
    pages, query = [], {}
    while True:
        page = html.unescape(client.get(HISTORY, query).content.decode())
        pages.append((_lines(client, **query), page))
        older = re.search(r'href="\?avant=(\d+)"', page)
        if older is None:
            return pages
        query = {"avant": older.group(1)}


def _done(line: str) -> str:
    return line.split(" Ce qui a été fait ", 1)[1].split(" Ce qui a été regardé ", 1)[0]


def test_a_page_never_cuts_a_line_nor_repeats_one(account, person_client, monkeypatch):
    # Few rows read at a time: the oldest line is longer than one read.
    monkeypatch.setattr(history_lines, "ROWS_READ_AT_ONCE", 4)
    monkeypatch.setattr(portal_views, "HISTORY_PAGE", 2)
    _pattern_rows(monkeypatch, account.person, "nnnnn" + "a" + "nnnn" + "M" + "nnn")

    pages = _pages(person_client)

    said = [[_done(line) for line in lines] for lines, _ in pages]
    assert said == [
        ["A regardé mon dossier 3 fois, entre 8 h 11 et 8 h 13.", "A modifié : Mon logement"],
        ["A regardé mon dossier 4 fois, entre 8 h 06 et 8 h 09.", "A regardé : Mon logement"],
        ["A regardé mon dossier 5 fois, entre 8 h 00 et 8 h 04."],
    ]
    assert ["Revenir aux plus récents" in page for _, page in pages] == [False, True, True]


def test_the_page_costs_the_same_queries_with_few_or_many_reads_in_a_row(
    account, person_client, monkeypatch
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert person_client.get(HISTORY).status_code == 200
        return len(captured)

    person_client.get(HISTORY)  # the session settles on the first page
    _pattern_rows(monkeypatch, account.person, "na")
    few = queries()
    # Nadia's 300 reads in a row, the newest line, then 29 lines of one read each.
    _pattern_rows(monkeypatch, account.person, "na" * 14 + "n" * 300)

    assert queries() == few
    lines = _lines(person_client)
    assert len(lines) == 20
    assert "A regardé mon dossier 300 fois" in lines[0]


def test_an_act_on_a_paper_names_the_paper_in_the_persons_words(
    account, person_client, monkeypatch
):
    person = account.person
    for minute, action, details in (
        (0, AuditAction.DOCUMENT_DELETED, {"type": "carte_vitale"}),
        (3, AuditAction.DOCUMENT_SHOWN, {"type": "rib", "version": 1}),
        (5, AuditAction.DOCUMENT_UPDATED, {"type": "avis_imposition", "type_avant": "rib"}),
        # A row written before the journal named the paper's type.
        (10, AuditAction.DOCUMENT_REPLACED, {"version": 2}),
    ):
        _record(monkeypatch, person, _at(9, minute), action, category="documents", details=details)

    done = [line.split("Ce qui a été fait ")[1] for line in _lines(person_client)]
    english = _lines(person_client, "en")

    assert done == [
        "A remplacé un papier : Mes papiers",
        "A corrigé un papier : Avis d'impôt",
        "A regardé un papier : RIB (coordonnées de banque)",
        "A supprimé un papier : Carte Vitale",
    ]
    assert english[1].endswith("What was done Corrected a document: Tax notice")
    assert english[2].endswith("What was done Looked at a document: RIB (bank details)")
