"""The person's file in plain words, in the active language: the sections of the "Mon
dossier" page and of the summary inside the export. Built from the JSON values of
`snapshot`, so that the page, the summary and the data file always say the same thing."""

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent, AuditEventQuerySet
from relais.documents.models import Document
from relais.persons.categories import DataCategory
from relais.portability import words
from relais.www.persons.history_lines import Line, page_of_lines
from relais.www.templatetags.dates import date as date_format

# Rows of a long list rendered at once in the summary.
ROWS_PER_PAGE = 500


class LongList:
    """A list of the summary that may be too long to hold (the notes, the history): the
    page is rendered with `marker` in its place, then the marker gives way to its rows,
    rendered ROWS_PER_PAGE at a time with `template` as they are read. The marker is an
    HTML comment, which no text of the page can write: texts are escaped."""

    def __init__(
        self,
        name: str,
        rows: Iterable[Any],
        say: Callable[[Any], Any],
        template: str,
    ) -> None:
        self.marker = format_html("<!-- {} -->", name)
        self.say = say
        self.template = template
        rows = iter(rows)
        first = next(rows, None)
        self._rows = itertools.chain([first] if first is not None else [], rows)
        self._empty = first is None

    def __bool__(self) -> bool:
        return not self._empty

    def pages(self) -> Iterator[list[Any]]:
        while page := list(itertools.islice(self._rows, ROWS_PER_PAGE)):
            yield page


@dataclass
class Section:
    category: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    items: list[list[tuple[str, str]]] = field(default_factory=list)
    # In the export's summary, the items of a section that may be long.
    long_items: LongList | None = None

    @property
    def is_empty(self) -> bool:
        return not self.rows and not self.items and not self.long_items


def day(value: str | None) -> str:
    return date_format(date.fromisoformat(value), "j F Y") if value else "—"


def moment(value: str | None) -> str:
    if not value:
        return "—"
    return date_format(datetime.fromisoformat(value), "j F Y, H:i")


def month(value: str | None) -> str:
    return date_format(date.fromisoformat(value), "F Y") if value else "—"


def euros(value: str | None) -> str:
    if value is None:
        return "—"
    return _("%(amount)s €") % {"amount": formats.number_format(Decimal(value), 2)}


def yes_no(value: bool) -> str:
    return _("Oui") if value else _("Non")


def text(value: str | None) -> str:
    return value or "—"


def in_french(value: str) -> SafeString:
    """Words written in French only, marked so for a screen reader in an English or Arabic
    page, and kept in their own direction in an Arabic one."""
    return format_html('<span lang="fr" dir="ltr">{}</span>', value)


def _identity(identity: dict[str, Any], *, nir_unreadable: bool) -> Section:
    address = ", ".join(
        part
        for part in (
            identity["address_line"],
            f"{identity['postal_code']} {identity['commune_name']}".strip(),
        )
        if part
    )
    rows = [
        (_("Prénom"), text(identity["first_names"])),
        (_("Nom de naissance"), text(identity["birth_name"])),
    ]
    if identity["usage_name"]:
        rows.append((_("Nom d'usage"), identity["usage_name"]))
    rows += [
        (_("Sexe"), words.say(words.SEXES, identity["sex"])),
        (_("Date de naissance"), day(identity["birth_date"])),
        (_("Lieu de naissance"), text(identity["birth_place"])),
        (_("Nationalité"), words.say(words.NATIONALITIES, identity["nationality"])),
        (_("Téléphone"), text(identity["phone"])),
        (_("Adresse e-mail"), text(identity["email"])),
        (_("Adresse"), text(address)),
    ]
    if identity["domiciliation"]:
        rows.append((_("Domiciliation"), identity["domiciliation"]))
    if nir_unreadable:
        rows.append(
            (
                _("Numéro de sécurité sociale"),
                _("Enregistré, mais Relais ne peut pas le lire. Il n'est pas dans ce fichier."),
            )
        )
    elif "nir" in identity:
        rows.append((_("Numéro de sécurité sociale"), text(identity["nir"])))
    else:
        rows.append(
            (
                _("Numéro de sécurité sociale"),
                _("Enregistré. Il est dans le fichier à télécharger.")
                if identity["has_nir"]
                else "—",
            )
        )
    rows += [
        (_("Numéro CAF"), text(identity["caf_number"])),
        (_("Identifiant France Travail"), text(identity["france_travail_id"])),
    ]
    return Section(DataCategory.IDENTITY, str(words.CATEGORIES[DataCategory.IDENTITY]), rows=rows)


def _family(household: Iterable[dict[str, Any]]) -> Section:
    items = [
        [
            (_("Lien"), words.say(words.RELATIONS, member["relation"])),
            (_("Nom"), f"{member['first_names']} {member['last_name']}".strip()),
            (_("Date de naissance"), day(member["birth_date"])),
            (_("À ma charge"), yes_no(member["is_dependent"])),
        ]
        for member in household
    ]
    return Section(DataCategory.FAMILY, str(words.CATEGORIES[DataCategory.FAMILY]), items=items)


def _resources(resources: Iterable[dict[str, Any]], household: Iterable[dict[str, Any]]) -> Section:
    names = {member["id"]: member["first_names"] for member in household}
    items = [
        [
            (_("Mois"), month(resource["month"])),
            (_("Pour qui"), names.get(resource["member_id"], _("Moi"))),
            (_("Quoi"), words.say(words.RESOURCE_KINDS, resource["kind"])),
            (_("Montant"), euros(resource["amount"])),
        ]
        for resource in resources
    ]
    return Section(
        DataCategory.RESOURCES, str(words.CATEGORIES[DataCategory.RESOURCES]), items=items
    )


def _housing(housing: dict[str, Any] | None) -> Section:
    rows = []
    if housing:
        rows = [
            (_("Situation"), words.say(words.HOUSING_STATUSES, housing["status"])),
            (_("Loyer par mois"), euros(housing["monthly_rent"])),
            (_("Charges par mois"), euros(housing["monthly_charges"])),
            (_("Depuis le"), day(housing["since"])),
        ]
    return Section(DataCategory.HOUSING, str(words.CATEGORIES[DataCategory.HOUSING]), rows=rows)


def _employment(employment: dict[str, Any] | None) -> Section:
    rows = []
    if employment:
        rows = [
            (_("Situation"), words.say(words.EMPLOYMENT_STATUSES, employment["status"])),
            (_("Inscrit(e) à France Travail"), yes_no(employment["registered_france_travail"])),
            (_("Depuis le"), day(employment["since"])),
        ]
    return Section(
        DataCategory.EMPLOYMENT, str(words.CATEGORIES[DataCategory.EMPLOYMENT]), rows=rows
    )


def _coverage(coverage: dict[str, Any] | None) -> Section:
    rows = []
    if coverage:
        rows = [
            (_("Assurance maladie"), words.say(words.HEALTH_REGIMES, coverage["regime"])),
            (
                _("Complémentaire santé"),
                words.say(words.COMPLEMENTARIES, coverage["complementary"]),
            ),
            (_("Aide médicale de l'État (AME)"), yes_no(coverage["ame"])),
            (_("Droits ouverts jusqu'au"), day(coverage["rights_until"])),
        ]
    return Section(
        DataCategory.SOCIAL_COVERAGE,
        str(words.CATEGORIES[DataCategory.SOCIAL_COVERAGE]),
        rows=rows,
    )


def _health(health: dict[str, Any] | None) -> Section:
    rows = []
    if health:
        rows = [
            (
                _("Taux de handicap reconnu"),
                words.say(words.DISABILITY_RATES, health["disability_rate"]),
            ),
            (_("Travailleur handicapé reconnu (RQTH)"), yes_no(health["rqth"])),
            (_("Demande à la MDPH en cours"), yes_no(health["mdph_pending"])),
            (_("Maladie de longue durée (ALD)"), yes_no(health["long_term_condition"])),
            (
                _("Ce qui est utile pour mes démarches"),
                in_french(health["remarks"]) if health["remarks"] else "—",
            ),
        ]
    return Section(DataCategory.HEALTH, str(words.CATEGORIES[DataCategory.HEALTH]), rows=rows)


def _note(note: dict[str, Any]) -> list[tuple[str, str]]:
    """A note: its date, its author, then its text, last, written by a professional, in
    French."""
    return [
        (_("Date"), moment(note["written_at"])),
        (_("Qui"), " — ".join(filter(None, [note["author"], note["organisation"]["name"]]))),
        (_("Note"), in_french(note["text"])),
    ]


def _situation(data: Mapping[str, Any], *, nir_unreadable: bool) -> list[Section]:
    """The sections of the file proper before its notes. Its lists may be iterators,
    each read once."""
    household = list(data["household"])
    return [
        _identity(data["identity"], nir_unreadable=nir_unreadable),
        _family(household),
        _resources(data["resources"], household),
        _housing(data["housing"]),
        _employment(data["employment"]),
        _coverage(data["social_coverage"]),
        _health(data["health"]),
    ]


def file_sections(data: dict[str, Any], *, nir_unreadable: bool = False) -> list[Section]:
    """The sections of the file proper, in the order a person thinks of them. `data`
    holds the keys of a snapshot; the identity may carry `has_nir` instead of `nir`.
    `nir_unreadable`: a number is recorded, but could not be decrypted."""
    notes = [_note(note) for note in data["notes"]]
    return [
        *_situation(data, nir_unreadable=nir_unreadable),
        Section(DataCategory.NOTES, str(words.CATEGORIES[DataCategory.NOTES]), items=notes),
    ]


def category_words(categories: list[str]) -> list[str]:
    return [words.say(words.CATEGORIES, code) for code in categories]


def consent_state(consent: dict[str, Any]) -> str:
    if consent["revoked_at"]:
        return _("Retiré le %(day)s") % {"day": moment(consent["revoked_at"])}
    if consent["live"]:
        return _("En cours jusqu'au %(day)s") % {"day": moment(consent["expires_at"])}
    return _("Terminé le %(day)s") % {"day": moment(consent["expires_at"])}


def missing_note(document: Document) -> str:
    """The note left in the export in place of a document whose file could not be added."""
    paper = words.say(words.DOCUMENT_KINDS, document.kind)
    if document.title:
        paper = f"{paper} — {document.title}"
    return _(
        "%(paper)s : ce papier n'a pas pu être ajouté.\n"
        "Relais n'a pas pu le lire au moment du téléchargement.\n"
        "Parlez-en à la personne qui vous accompagne.\n"
    ) % {"paper": paper}


class HistoryLine(NamedTuple):
    """A line of the history as the person reads it, in « Qui a regardé mon dossier » and
    in the export's summary."""

    event: AuditEvent  # the line's newest row: from where, who, which job, why
    at: str  # the time of a line of one row; reads in a row say their times in `done`
    done: str
    part: str  # the part of the file touched by a line of one row
    seen: list[str]  # the parts of the file read in a row
    emergency: bool


def history_line(line: Line) -> HistoryLine:
    event = line.event
    # Reads under break-glass carry the emergency's reason; a change of the person's
    # space carries the office's reason.
    emergency = (
        event.action == AuditAction.BREAK_GLASS_OPENED or event.details.get("exceptionnel") is True
    )
    if line.count > 1:
        return HistoryLine(
            event,
            at="",
            done=words.history_reads(line.count, line.first_at, line.last_at),
            part="",
            seen=[words.say(words.CATEGORIES, code) for code in line.read_categories],
            emergency=emergency,
        )
    return HistoryLine(
        event,
        at=words.clock(event.created_at),
        done=words.say(words.HISTORY_ACTIONS, event.action),
        part=words.history_category(
            event.action, event.category, paper=str(event.details.get("type", ""))
        ),
        seen=[],
        emergency=emergency,
    )


def _history_row(line: Line) -> tuple[HistoryLine, str]:
    """A line of the summary's history, with the parts of the file read in a row."""
    said = history_line(line)
    if not said.seen:
        return said, ""
    return said, _("%(done)s : %(part)s") % {
        "done": _("Ce qui a été regardé"),
        "part": ", ".join(said.seen),
    }


def _history_lines(history: AuditEventQuerySet) -> Iterator[Line]:
    """The history, newest first, grouped as « Qui a regardé mon dossier » groups it, read
    a page of lines at a time."""
    before = None
    while True:
        lines, before = page_of_lines(history, before, ROWS_PER_PAGE)
        yield from lines
        if before is None:
            return


def summary_context(
    data: Mapping[str, Any], *, history: AuditEventQuerySet, nir_unreadable: bool
) -> dict[str, Any]:
    """Everything the summary shows, already in plain words, but the notes and the
    history, whose rows are said as they are written (see LongList). `data` holds the
    members of an export, its lists as iterators. The history is that of `history`, not
    of `data`: the data keeps every row, the summary groups the reads in a row as the
    person's space does."""
    notes = LongList("notes", data["notes"], _note, "portability/resume_items.html")
    return {
        "exported_at": moment(data["exported_at"]),
        "sections": [
            *_situation(data, nir_unreadable=nir_unreadable),
            Section(
                DataCategory.NOTES, str(words.CATEGORIES[DataCategory.NOTES]), long_items=notes
            ),
        ],
        "consents": [
            {
                "organisation": consent["organisation"]["name"],
                "professional": consent["professional"] or "",
                "categories": category_words(consent["categories"]),
                "state": consent_state(consent),
            }
            for consent in data["consents"]
        ],
        "blocks": [
            {
                "who": (block["organisation"] or {}).get("name") or block["professional"],
                "since": moment(block["created_at"]),
                "lifted": moment(block["lifted_at"]) if block["lifted_at"] else "",
            }
            for block in data["blocks"]
        ],
        "procedures": [
            {
                "title": procedure["title"],
                "organisme": procedure["organisme"],
                "status": words.say(words.PROCEDURE_STATUSES, procedure["status"]),
                "requested_on": day(procedure["requested_on"]),
            }
            for procedure in data["procedures"]
        ],
        "documents": [
            {
                "kind": words.say(words.DOCUMENT_KINDS, document["kind"]),
                "title": in_french(document["title"]) if document["title"] else "",
                "expires_on": day(document["expires_on"]),
                "file": document["file"] or "",
                "replaced": (document["version"] or 0) > 1,
            }
            for document in data["documents"]
        ],
        "history": LongList(
            "history", _history_lines(history), _history_row, "portability/resume_history.html"
        ),
    }


def summary_html(
    data: Mapping[str, Any], *, history: AuditEventQuerySet, nir_unreadable: bool, language: str
) -> Iterator[str]:
    """The summary in `language`, a piece at a time. The language is active only while a
    piece is made: between two, the stream is in other hands."""
    with translation.override(language):
        context = summary_context(data, history=history, nir_unreadable=nir_unreadable)
        page: str = render_to_string(
            "portability/resume.html",
            context | {"language": language, "rtl": translation.get_language_bidi()},
        )
    for long_list in [*(section.long_items for section in context["sections"]), context["history"]]:
        if not long_list:
            continue
        before, page = page.split(long_list.marker)
        yield before
        for rows in long_list.pages():
            with translation.override(language):
                said = render_to_string(
                    long_list.template, {"rows": [long_list.say(row) for row in rows]}
                )
            yield said
    yield page
