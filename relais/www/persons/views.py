import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypedDict
from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for
from relais.accounts.decorators import manager_required, recent_second_factor_required
from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.audit.services import audit_record
from relais.audit.trimming import journal_kept_months
from relais.consent.access import FileAccess, Professional, file_access, visible_persons
from relais.consent.models import Consent
from relais.consent.services import NIRS_DIFFER, file_open, persons_merge
from relais.documents.models import Document
from relais.organisations.models import Organisation
from relais.persons import services
from relais.persons.categories import SPECIAL_CATEGORIES, Action, DataCategory
from relais.persons.models import (
    Employment,
    HealthRecord,
    HouseholdMember,
    Housing,
    MonthlyResource,
    Note,
    Person,
    PersonQuerySet,
    Referent,
    SocialCoverage,
)
from relais.persons.normalisation import search_tokens
from relais.procedures.models import Procedure
from relais.www.forms import PageForm, edited_state, posted_id
from relais.www.links import link
from relais.www.persons import forms
from relais.www.persons.access import (
    access_file,
    professional_or_404,
    record_list_view,
    record_view,
)
from relais.www.persons.history_lines import Line, lines_of, page_of_lines
from relais.www.templatetags.dates import date as date_format
from relais.www.templatetags.journal import category_label

PAGE_SIZE = 20
# A birth date as it is written on a paper: 12/04/1990, 12-04-1990 or 12.04.1990.
_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
_CAF = re.compile(r"^\d{7}$")

# Sections edited as one object (the person itself for IDENTITY).
SINGLE_SECTIONS: dict[str, tuple[type[Model], type[ModelForm]]] = {  # type: ignore[type-arg]
    DataCategory.IDENTITY: (Person, forms.IdentityEditForm),
    DataCategory.HOUSING: (Housing, forms.HousingForm),
    DataCategory.EMPLOYMENT: (Employment, forms.EmploymentForm),
    DataCategory.SOCIAL_COVERAGE: (SocialCoverage, forms.SocialCoverageForm),
    DataCategory.HEALTH: (HealthRecord, forms.HealthForm),
}
# The categories a file shows today; the others arrive with their modules.
FILE_SECTIONS = [
    DataCategory.IDENTITY,
    DataCategory.FAMILY,
    DataCategory.RESOURCES,
    DataCategory.HOUSING,
    DataCategory.EMPLOYMENT,
    DataCategory.SOCIAL_COVERAGE,
    DataCategory.HEALTH,
    DataCategory.NOTES,
]


def _category_or_404(slug: str) -> DataCategory:
    if slug not in FILE_SECTIONS:
        raise Http404("Rubrique inconnue.")
    return DataCategory(slug)


# Notes of a file per page, newest first; months of resources per page.
NOTES_PAGE = 50
RESOURCE_MONTHS_PAGE = 12
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# The access history: lines per page on screen, and journal rows at most on paper.
HISTORY_PAGE = 100
PRINTED_AT_MOST = 5000

# The name of each page of a file: its tab, and the title of the browser's window.
PAGE_LABELS = {category.value: str(category.label) for category in FILE_SECTIONS} | {
    "pieces": "Pièces justificatives",
    "demarches": "Démarches",
    "consentements": "Consentements",
    "historique": "Historique des accès",
    "espace": "Espace personnel",
}


def file_page_title(current: str, person_id: int) -> str:
    """A file page's title names the page and the file's number, never the person: titles
    stay in the history of shared office computers."""
    return f"{PAGE_LABELS.get(current, 'Dossier')} — dossier n° {person_id}"


@dataclass(frozen=True)
class Tab:
    label: str
    href: str
    current: bool


# Stands for the file's number in the kept tabs; the real one is put in its place.
_FILE_MARKER = 918273645


@lru_cache(maxsize=256)
def _tabs_html(shown: tuple[bool, ...], current: str) -> str:
    """The file's tabs, rendered once per combination of tabs shown and current tab: the
    same for every file a professional opens with the same rights."""
    sections, documents, procedures, consents, account = (
        shown[: len(FILE_SECTIONS)],
        *shown[len(FILE_SECTIONS) :],
    )
    pk = _FILE_MARKER
    entries = [
        (
            PAGE_LABELS[category.value],
            category.value,
            link("persons:file", pk)
            if category == DataCategory.IDENTITY
            else link("persons:section", pk, category.value),
        )
        for category, visible in zip(FILE_SECTIONS, sections, strict=True)
        if visible
    ]
    if documents:
        entries.append((PAGE_LABELS["pieces"], "pieces", link("documents:list", pk)))
    if procedures:
        entries.append((PAGE_LABELS["demarches"], "demarches", link("procedures:person", pk)))
    if consents:
        entries.append(
            (PAGE_LABELS["consentements"], "consentements", link("persons:consents", pk))
        )
    entries.append((PAGE_LABELS["historique"], "historique", link("persons:history", pk)))
    if account:
        entries.append((PAGE_LABELS["espace"], "espace", link("person_account:manage", pk)))
    tabs = [Tab(label, href, key == current) for label, key, href in entries]
    return get_template("persons/_file_tabs.html").render({"tabs": tabs})


def file_tabs(access: FileAccess, current: str) -> SafeString:
    """The tabs of this file the professional may open."""
    shown = (
        *(access.can(Action.VIEW, category) for category in FILE_SECTIONS),
        access.can(Action.VIEW, DataCategory.DOCUMENTS)
        or access.can(Action.VIEW, DataCategory.HEALTH),
        access.can(Action.VIEW, DataCategory.PROCEDURES),
        not access.break_glass,
        # The person's own space is opened and restored by whoever may edit the identity.
        access.can(Action.EDIT, DataCategory.IDENTITY),
    )
    html = _tabs_html(shown, current).replace(str(_FILE_MARKER), str(access.person.pk))
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped there)


def file_context(access: FileAccess, current: str) -> dict[str, object]:
    return {
        "person": access.person,
        "access": access,
        "tabs": file_tabs(access, current),
        "current": current,
        "can_edit": access.can(Action.EDIT, current) if current in DataCategory.values else False,
        "special": current in SPECIAL_CATEGORIES,
        "title": file_page_title(current, access.person.pk),
    }


def _found(pro: Professional, query: str) -> PersonQuerySet:
    """The persons the words searched find among this professional's files, not yet read;
    ValidationError when the words give nothing to look for."""
    persons = visible_persons(pro)
    date_match, caf_match = _DATE.match(query), _CAF.match(query)
    if date_match:
        day, month, year = (int(date_match[group]) for group in (1, 3, 4))
        try:
            return persons.filter(birth_date=datetime(year, month, day).date())  # noqa: DTZ001
        except ValueError:
            raise ValidationError("Cette date n'existe pas : écrivez-la JJ/MM/AAAA.") from None
    if caf_match:
        return persons.filter(caf_number=query)
    tokens = search_tokens(query)
    if not tokens:
        raise ValidationError("Saisissez au moins une lettre du nom ou du prénom.")
    if not any(character.isalpha() for character in query):
        # No name is made of digits: a date or a number mistyped would find no one.
        raise ValidationError(
            "Écrivez la date de naissance JJ/MM/AAAA, le n° allocataire CAF en 7 chiffres, "
            "ou au moins une lettre du nom ou du prénom."
        )
    return persons.matching_tokens(tokens)


# The searches a session keeps, oldest first, each under a random key: the results are a
# page the browser can come back to (a GET, its URL naming the key and the page), while the
# words searched stay on the server and end with the session.
SEARCHES = "recherches_personnes"
SEARCHES_KEPT = 5


def _kept_search(request: HttpRequest, key: str) -> dict[str, Any] | None:
    return next((kept for kept in request.session.get(SEARCHES, []) if kept["cle"] == key), None)


def _keep_search(request: HttpRequest, query: str, page: int) -> str:
    """Keep the search as the session's latest, with the page shown last; its key, the
    one it had if the same words were searched before."""
    searches = request.session.get(SEARCHES, [])
    same = next((kept for kept in searches if kept["q"] == query), None)
    key = same["cle"] if same else secrets.token_urlsafe(12)
    others = [kept for kept in searches if kept is not same]
    request.session[SEARCHES] = [*others, {"cle": key, "q": query, "page": page}][-SEARCHES_KEPT:]
    return key


def _results_url(key: str, page: int) -> str:
    """The address of a page of results: the search's key and the page, never its words."""
    query = {"recherche": key} | ({"page": str(page)} if page > 1 else {})
    return f"{reverse('persons:list')}?{urlencode(query)}"


def _search_posted(request: HttpRequest, pro: Professional) -> HttpResponse:
    """A search typed in: kept in the session, then shown by a redirect to its results."""
    form = forms.SearchForm(request.POST)
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        try:
            _found(pro, query)
        except ValidationError as error:
            form.add_error("q", error)
        else:
            page = form.cleaned_data["page"] or 1
            return redirect(_results_url(_keep_search(request, query, page), page))
    context = {"title": "Personnes accompagnées", "form": form}
    return render(request, "persons/list.html", context, status=400)


def _search_results(request: HttpRequest, pro: Professional, key: str) -> HttpResponse:
    """A page of a kept search's results, read again through the access rule. Each page
    shown is journaled as a search, also when the browser's Back shows it again: the
    files are read anew, and what they show may have changed since."""
    kept = _kept_search(request, key)
    if kept is None:
        messages.info(
            request,
            "Cette recherche n'est plus disponible : elle prend fin avec votre session. "
            "Recommencez-la.",
        )
        return redirect("persons:list")
    form = forms.SearchForm(initial={"q": kept["q"]})
    pages = PageForm(request.GET)
    context: dict[str, object] = {
        "title": "Résultats de la recherche",
        "form": form,
        "searching": True,
        "pages": pages,
    }
    if not pages.is_valid():
        return render(request, "persons/list.html", context, status=400)
    page = pages.cleaned_data["page"] or 1
    rows = list(
        _found(pro, kept["q"]).order_by("birth_name_key", "first_names_key", "pk")[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    audit_record(
        action=AuditAction.PERSON_SEARCH,
        by=actor_for(request),
        details={"resultats": min(len(rows), PAGE_SIZE)},
    )
    if kept["page"] != page or request.session[SEARCHES][-1] is not kept:
        _keep_search(request, kept["q"], page)  # the file pages lead back to this page
    context |= {
        "results": rows[:PAGE_SIZE],
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "query": urlencode({"recherche": key}),
    }
    return render(request, "persons/list.html", context)


@require_http_methods(["GET", "POST"])
def person_list(request: HttpRequest) -> HttpResponse:
    """Mes personnes accompagnées, a page at a time, and the search over the
    organisation's files, whose results take their place. The search is a POST: a name
    never travels in a URL, hence never in a log. Its results are a GET, which the
    browser's Back returns to without sending the form again."""
    pro = professional_or_404(request)
    if request.method == "POST":
        return _search_posted(request, pro)
    if "recherche" in request.GET:
        return _search_results(request, pro, request.GET["recherche"])
    form = forms.SearchForm()
    context: dict[str, object] = {"title": "Personnes accompagnées", "form": form}
    pages = PageForm(request.GET)
    page, mine = 1, []
    if pages.is_valid():
        page = pages.cleaned_data["page"] or 1
        mine = list(
            visible_persons(pro)
            .filter(referents__professional_id=pro.user_id, referents__until__isnull=True)
            .order_by("birth_name_key", "first_names_key", "pk")[
                (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
            ]
        )
    context |= {
        "pages": pages,
        "mine": mine[:PAGE_SIZE],
        "page": page,
        "has_next": len(mine) > PAGE_SIZE,
    }
    return render(request, "persons/list.html", context)


@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    pro = professional_or_404(request)
    form = forms.CreateFileForm(request.POST or None)
    duplicates: list[Person] = []
    hidden_duplicate = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        candidates = list(
            services.duplicates_of(
                birth_name=data["birth_name"],
                usage_name=data["usage_name"],
                first_names=data["first_names"],
                birth_date=data["birth_date"],
                nir=data["nir"],
                name_variants=True,
            )
        )
        visible_ids = set(
            visible_persons(pro)
            .filter(pk__in=[p.pk for p in candidates])
            .values_list("pk", flat=True)
        )
        duplicates = [p for p in candidates if p.pk in visible_ids]
        hidden = [p for p in candidates if p.pk not in visible_ids]
        hidden_duplicate = bool(hidden)
        if (duplicates or hidden) and not data["confirm_new"]:
            form.add_error(
                None,
                "Un dossier existe peut-être déjà pour cette personne : vérifiez avant d'en créer "
                "un nouveau.",
            )
            services.duplicates_signalled([p.pk for p in hidden], by=actor_for(request))
        else:
            identity = {name: data[name] for name in forms.IdentityForm.Meta.fields}
            try:
                person = file_open(
                    identity=identity,
                    nir=data["nir"],
                    pro=pro,
                    categories=data["categories"],
                    purpose=data["purpose"],
                    duration=data["duration"],
                    method=data["method"],
                    by=actor_for(request),
                )
            except services.NirTaken as taken:
                form.add_error("nir", _nir_taken(request, pro, taken.other_id))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Le dossier est créé. Vous en êtes le référent.")
                return redirect("persons:file", person_id=person.pk)
    context = {
        "title": "Nouveau dossier",
        "form": form,
        "duplicates": duplicates,
        "hidden_duplicate": hidden_duplicate,
    }
    return render(request, "persons/create.html", context, status=400 if form.is_bound else 200)


class RecentAccess(TypedDict):
    """One line of a file's « Derniers accès »."""

    moment: str
    organisation: str
    exceptional: bool
    # « 4 consultations » for reads in a row, « au moins 5 consultations » when older reads,
    # not read here, may belong to them; empty for one read.
    consultations: str


# The reads « Derniers accès » reads: a line may group several.
RECENT_READS = 5
_NEVER = datetime.min.replace(tzinfo=UTC)


def recent_accesses(person: Person) -> list[RecentAccess]:
    """The file's last reads, those made in a row, the same day, by one professional of one
    organisation on one line, as in the file's history. Their moments are written out here,
    the current time zone looked up once: through the template engine, which looks it up
    again for each date, a date costs about 20 µs instead of 4, on the most served page."""
    zone = timezone.get_current_timezone()
    reads = AuditEvent.objects.recent_reads(person, RECENT_READS)
    lines: list[RecentAccess] = []
    last_key: tuple[object, ...] | None = None
    count, newest, oldest = 0, _NEVER, _NEVER
    for read in reads:
        moment = read.created_at.astimezone(zone)
        key = None if read.reason else (read.actor_label, read.organisation_label, moment.date())
        if key is not None and key == last_key:
            count, oldest = count + 1, moment
            continue
        if count > 1:
            _in_a_row(lines[-1], count, newest, oldest, whole=True)
        count, newest, oldest, last_key = 1, moment, moment, key
        lines.append(
            {
                "moment": date_format(moment, "d/m/Y H:i"),
                # The person reads their own file from their space, for no organisation.
                "organisation": read.organisation_label or read.actor_label,
                "exceptional": bool(read.reason),
                "consultations": "",
            }
        )
    if count > 1:
        # The last line may have begun before its oldest read when the page read as many
        # reads as it asks for.
        _in_a_row(lines[-1], count, newest, oldest, whole=len(reads) < RECENT_READS)
    return lines


def _in_a_row(
    line: RecentAccess, count: int, newest: datetime, oldest: datetime, *, whole: bool
) -> None:
    """« 01/12/2026 20:39 à 20:42 (4 consultations) », or « 01/12/2026 20:42 (au moins 5
    consultations) » when more may have come before the oldest one read."""
    if whole:
        line["moment"] = f"{date_format(oldest, 'd/m/Y H:i')} à {date_format(newest, 'H:i')}"
        line["consultations"] = f"{count} consultations"
    else:
        line["consultations"] = f"au moins {count} consultations"


def file(request: HttpRequest, person_id: int) -> HttpResponse:
    """The file's front page: identity (one VIEW row), referents, consents, last accesses."""
    pro, access = access_file(request, person_id, DataCategory.IDENTITY)
    record_view(request, access, DataCategory.IDENTITY)
    person = access.person
    referents = Referent.objects.current_of(person.pk)
    context = file_context(access, DataCategory.IDENTITY) | {
        "nir_masked": services.nir_masked(person),
        "referents": referents,
        "consents": access.live_consents,
        "recent_accesses": recent_accesses(person),
        "is_referent": any(r.professional_id == pro.user_id for r in referents),
    }
    return render(request, "persons/file.html", context)


@require_POST
@recent_second_factor_required
def nir_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    _, access = access_file(request, person_id, DataCategory.IDENTITY)
    grant = access.break_glass
    value = services.nir_reveal(
        person=access.person,
        by=actor_for(request),
        details={"exceptionnel": grant is not None},
        reason=grant.reason if grant else "",
    )
    context = file_context(access, DataCategory.IDENTITY) | {"nir": value}
    return render(request, "persons/nir.html", context)


@require_http_methods(["GET", "POST"])
def nir_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    """Record the NIR of a file created without it (the carte Vitale was not at hand), or
    correct it. The number is never shown here: revealing it is its own, journaled act."""
    pro, access = access_file(request, person_id, DataCategory.IDENTITY, Action.EDIT)
    form = forms.NirForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.nir_set(
                person=access.person, nir=form.cleaned_data["nir"], by=actor_for(request)
            )
        except services.NirTaken as taken:
            form.add_error("nir", _nir_taken(request, pro, taken.other_id))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Le numéro de sécurité sociale est enregistré, chiffré.")
            return redirect("persons:file", person_id=person_id)
    record_view(request, access, DataCategory.IDENTITY)
    context = file_context(access, DataCategory.IDENTITY) | {
        "form": form,
        "title": "Numéro de sécurité sociale : "
        + file_page_title(DataCategory.IDENTITY, person_id),
        "has_nir": access.person.has_nir,
    }
    return render(request, "persons/nir_edit.html", context, status=400 if form.is_bound else 200)


def _nir_taken(request: HttpRequest, pro: Professional, other_id: int) -> str:
    """What to do when the NIR is another file's: merge it, if the professional may see
    it; else the person has a file elsewhere, which only their consent opens (and which
    the journal of that file then says was signalled)."""
    if visible_persons(pro).filter(pk=other_id).exists():
        return (
            f"Ce numéro de sécurité sociale est celui du dossier n° {other_id} : s'il s'agit "
            "de la même personne, demandez à votre responsable de fusionner les deux dossiers."
        )
    services.duplicates_signalled([other_id], by=actor_for(request))
    return (
        "Ce numéro de sécurité sociale est déjà celui d'un dossier suivi par une autre "
        "structure. Vérifiez-le avec la personne : s'il est juste, elle a déjà un dossier sur "
        "Relais ; avec son accord donné à votre structure, votre responsable pourra fusionner "
        "les deux dossiers."
    )


def notes_page(
    person: Person, pro: Professional, before: int | None
) -> tuple[list[Note], int | None]:
    """The notes the professional may read, newest first, a page at a time: those written
    before the note `before` (one they may read, else the page starts at the newest), and
    the note the next page starts before, if there is one."""
    notes = Note.objects.filter(person=person).readable_by(
        user_id=pro.user_id, organisation_id=pro.organisation_id
    )
    anchor = (
        notes.filter(pk=before).values_list("created_at", flat=True).first()
        if before is not None
        else None
    )
    if anchor is not None:
        notes = notes.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    page = list(
        notes.select_related("author", "organisation").order_by("-created_at", "-pk")[
            : NOTES_PAGE + 1
        ]
    )
    older = page[NOTES_PAGE - 1].pk if len(page) > NOTES_PAGE else None
    return page[:NOTES_PAGE], older


def _month(value: str | None) -> date | None:
    """A month as a link carries it (« 2025-03 »); None for anything else."""
    found = _MONTH.match(value or "")
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), 1)
    except ValueError:
        return None


def resources_page(
    person: Person, before: date | None
) -> tuple[list[MonthlyResource], date | None]:
    """The household's resources of up to twelve months, newest first, those before the
    month `before` if given, and the month the next page starts before, if there is one."""
    resources = person.resources.all()
    if before is not None:
        resources = resources.filter(month__lt=before)
    months = list(
        resources.order_by("-month")
        .values_list("month", flat=True)
        .distinct()[: RESOURCE_MONTHS_PAGE + 1]
    )
    if not months:
        return [], None
    oldest_shown = months[:RESOURCE_MONTHS_PAGE][-1]
    shown = resources.filter(month__gte=oldest_shown).select_related("member")
    older = oldest_shown if len(months) > RESOURCE_MONTHS_PAGE else None
    return list(shown.order_by("-month", "kind", "pk")), older


def _section_items(access: FileAccess, category: str) -> object:
    person = access.person
    if category == DataCategory.FAMILY:
        return person.household.all()
    model = SINGLE_SECTIONS[category][0]
    if model is Person:
        return person
    return model.objects.filter(person=person).first()  # type: ignore[attr-defined]


def _rows(instance: Model | None, form_class: type[ModelForm]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """(label, shown value) for each field of a one-object section, written as the rest of
    the platform writes them: a choice by its label, « 01/09/2022 », « 450,50 € », « Oui »."""
    if instance is None:
        return []
    rows = []
    for name in form_class._meta.fields or []:
        label = capfirst(str(instance._meta.get_field(name).verbose_name))
        display = getattr(instance, f"get_{name}_display", None)
        value = display() if display else getattr(instance, name)
        if isinstance(value, Decimal):
            # The amount says it is in euros: its label need not say it again.
            label = label.removesuffix(" (€)")
        rows.append((label, _shown(value)))
    return rows


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, date):
        return date_format(value, "d/m/Y")
    if isinstance(value, Decimal):
        return f"{number_format(value, 2)} €"
    return str(value)


def section(request: HttpRequest, person_id: int, category: str) -> HttpResponse:
    chosen = _category_or_404(category)
    if chosen == DataCategory.IDENTITY:
        return redirect("persons:file", person_id=person_id)
    pro, access = access_file(request, person_id, chosen)
    if chosen in SINGLE_SECTIONS:
        record_view(request, access, chosen)
        items = _section_items(access, chosen)
        context = file_context(access, chosen) | {
            "items": items,
            "rows": _rows(items, SINGLE_SECTIONS[chosen][1]),  # type: ignore[arg-type]
            "section_label": chosen.label,
        }
        return render(request, "persons/section_single.html", context)
    return _list_section(request, pro, access, chosen)


def _list_section(
    request: HttpRequest,
    pro: Professional,
    access: FileAccess,
    chosen: DataCategory,
    *,
    form: forms.DsfrBaseForm | None = None,
) -> HttpResponse:
    """A section listed item by item (household, resources, notes) with its form to add
    one: empty, or `form` as posted, refused (status 400), so that nothing typed is lost.
    Either way the page shows the section, and the journal says so."""
    # The resources name the household's members only to whoever may read the household.
    names_members = chosen == DataCategory.RESOURCES and access.can(
        Action.VIEW, DataCategory.FAMILY
    )
    shows_household = False
    older: dict[str, object] = {}
    if chosen == DataCategory.NOTES:
        before = posted_id(request.GET.get("avant")) if form is None else None
        items, note = notes_page(access.person, pro, before)
        older["older_notes"] = note
    elif chosen == DataCategory.RESOURCES:
        before_month = _month(request.GET.get("avant")) if form is None else None
        items, month = resources_page(access.person, before_month)
        older["older_month"] = f"{month:%Y-%m}" if month else None
        shows_household = names_members and _names_a_member(access, items)
    else:
        items = _section_items(access, chosen)
    # The journal says the household was seen when the page names one of its members,
    # before the section the page is about, which the file's history then shows first.
    if shows_household:
        record_view(request, access, DataCategory.FAMILY)
    record_view(request, access, chosen)
    if form is None:
        form = _add_form(chosen, access.person, names_members=names_members)
    context = (
        file_context(access, chosen)
        | {"items": items, "names_members": names_members, _ADD_FORMS[chosen]: form}
        | older
    )
    status = 400 if form.is_bound else 200
    return render(request, f"persons/section_{chosen.value}.html", context, status=status)


def _names_a_member(access: FileAccess, resources: list[MonthlyResource]) -> bool:
    """Whether the resources page names someone of the household: a resource it lists is
    theirs, or its form to add one, shown to whoever may edit the resources, offers them."""
    return any(resource.member_id is not None for resource in resources) or (
        access.can(Action.EDIT, DataCategory.RESOURCES) and access.person.household.exists()
    )


# The form each listed section offers to add an item, by its name in the template.
_ADD_FORMS = {
    DataCategory.FAMILY: "member_form",
    DataCategory.RESOURCES: "resource_form",
    DataCategory.NOTES: "note_form",
}


def _add_form(
    chosen: DataCategory,
    person: Person,
    data: QueryDict | None = None,
    *,
    names_members: bool,
) -> forms.DsfrBaseForm:
    if chosen == DataCategory.FAMILY:
        return forms.HouseholdMemberForm(data)
    if chosen == DataCategory.RESOURCES:
        return forms.ResourceForm(data, person=person, names_members=names_members)
    return forms.NoteForm(data)


@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, person_id: int, category: str) -> HttpResponse:
    chosen = _category_or_404(category)
    if chosen not in SINGLE_SECTIONS:
        raise Http404("Rubrique inconnue.")
    _, access = access_file(request, person_id, chosen, Action.EDIT)
    model, form_class = SINGLE_SECTIONS[chosen]
    person = access.person
    instance = (
        person
        if model is Person
        else model.objects.filter(person=person).first() or model(person=person)  # type: ignore[attr-defined]
    )
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_save(
                person=person,
                category=chosen,
                instance=form.save(commit=False),
                fields=form_class._meta.fields,
                by=actor_for(request),
            )
        except services.SavedMeanwhile as meanwhile:
            form = _posted_over(form_class, model.objects.get(person=person), request.POST)  # type: ignore[attr-defined]
            form.add_error(None, meanwhile)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"La rubrique « {chosen.label} » est enregistrée.")
            if chosen == DataCategory.IDENTITY:
                return redirect("persons:file", person_id=person.pk)
            return redirect("persons:section", person_id=person.pk, category=chosen.value)
    record_view(request, access, chosen)
    context = file_context(access, chosen) | {
        "form": form,
        "title": f"Modifier : {file_page_title(chosen, person.pk)}",
        "section_label": PAGE_LABELS[chosen.value],
    }
    return render(
        request, "persons/section_edit.html", context, status=400 if form.is_bound else 200
    )


def _posted_over(form_class: type[ModelForm], saved: Model, data: QueryDict) -> ModelForm:  # type: ignore[type-arg]
    """The form as posted, over the section someone else saved meanwhile: posted again,
    it replaces what they saved, as after any change made while the page was open."""
    posted = data.copy()
    posted["state"] = edited_state(saved, form_class._meta.fields or [])
    return form_class(posted, instance=saved)


def _back_to(category: DataCategory, person_id: int) -> HttpResponse:
    return redirect(reverse("persons:section", args=[person_id, category.value]))


@require_POST
def member_add(request: HttpRequest, person_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, DataCategory.FAMILY, Action.EDIT)
    form = forms.HouseholdMemberForm(request.POST)
    if form.is_valid():
        try:
            services.household_member_add(
                person=access.person, member=form.save(commit=False), by=actor_for(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Le membre du foyer est ajouté.")
            return _back_to(DataCategory.FAMILY, person_id)
    return _list_section(request, pro, access, DataCategory.FAMILY, form=form)


@require_POST
def member_remove(request: HttpRequest, person_id: int, item_id: int) -> HttpResponse:
    _, access = access_file(request, person_id, DataCategory.FAMILY, Action.EDIT)
    member = get_object_or_404(HouseholdMember, pk=item_id, person=access.person)
    may_remove_resources = access.can(Action.EDIT, DataCategory.RESOURCES)
    if may_remove_resources and request.POST.get("confirme") != "oui":
        resources = list(member.resources.order_by("-month", "kind", "pk"))
        if resources:
            return _confirm_member_removal(request, access, member, resources)
    try:
        removed = services.household_member_remove(
            person=access.person,
            member=member,
            may_remove_resources=may_remove_resources,
            by=actor_for(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Le membre du foyer est retiré" + _with_resources(removed))
    return _back_to(DataCategory.FAMILY, person_id)


def _confirm_member_removal(
    request: HttpRequest,
    access: FileAccess,
    member: HouseholdMember,
    resources: list[MonthlyResource],
) -> HttpResponse:
    """Before a member goes with the resources recorded in their name, a page that lists
    them and asks again: once removed, nothing brings them back."""
    record_view(request, access, DataCategory.FAMILY)
    record_view(request, access, DataCategory.RESOURCES)
    context = file_context(access, DataCategory.FAMILY) | {
        "member": member,
        "resources": resources,
        "title": "Retirer un membre du foyer : "
        + file_page_title(DataCategory.FAMILY, access.person.pk),
    }
    return render(request, "persons/member_remove_confirm.html", context)


def _with_resources(count: int) -> str:
    if count == 0:
        return "."
    if count == 1:
        return ", ainsi que la ressource inscrite à son nom."
    return f", ainsi que les {count} ressources inscrites à son nom."


@require_POST
def resource_add(request: HttpRequest, person_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, DataCategory.RESOURCES, Action.EDIT)
    form = forms.ResourceForm(
        request.POST,
        person=access.person,
        names_members=access.can(Action.VIEW, DataCategory.FAMILY),
    )
    if form.is_valid():
        try:
            services.resource_add(
                person=access.person, resource=form.save(commit=False), by=actor_for(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "La ressource est ajoutée.")
            return _back_to(DataCategory.RESOURCES, person_id)
    return _list_section(request, pro, access, DataCategory.RESOURCES, form=form)


@require_POST
def resource_remove(request: HttpRequest, person_id: int, item_id: int) -> HttpResponse:
    _, access = access_file(request, person_id, DataCategory.RESOURCES, Action.EDIT)
    resource = get_object_or_404(MonthlyResource, pk=item_id, person=access.person)
    try:
        services.resource_remove(person=access.person, resource=resource, by=actor_for(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "La ressource est retirée.")
    return _back_to(DataCategory.RESOURCES, person_id)


@require_POST
def note_add(request: HttpRequest, person_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, DataCategory.NOTES, Action.EDIT)
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(
                person=access.person,
                author_id=pro.user_id,
                organisation_id=pro.organisation_id,
                text=form.cleaned_data["text"],
                visibility=form.cleaned_data["visibility"],
                confirmed=form.confirmed(),
                by=actor_for(request),
            )
        except services.NoteNeedsConfirmation as pending:
            form.ask_confirmation(pending.terms)
        else:
            messages.success(request, "La note est enregistrée.")
            return _back_to(DataCategory.NOTES, person_id)
    return _list_section(request, pro, access, DataCategory.NOTES, form=form)


@require_POST
def referents(request: HttpRequest, person_id: int) -> HttpResponse:
    pro, access = access_file(request, person_id, DataCategory.IDENTITY)
    # An exceptional access reads, and only reads: it neither takes nor gives up a file.
    if access.break_glass is not None:
        raise Http404("Dossier introuvable.")
    if request.POST.get("action") == "retirer":
        services.referent_remove(
            person=access.person, professional_id=pro.user_id, by=actor_for(request)
        )
        messages.success(request, "Vous n'êtes plus référent(e) de ce dossier.")
    else:
        services.referent_add(
            person=access.person,
            organisation_id=pro.organisation_id,
            professional_id=pro.user_id,
            by=actor_for(request),
        )
        messages.success(request, "Vous êtes référent(e) de ce dossier.")
    return redirect("persons:file", person_id=person_id)


def history(request: HttpRequest, person_id: int) -> HttpResponse:
    """Who opened the file, when, from which organisation and why: printable for the
    person, who has the right to know."""
    _, access = access_file(request, person_id, DataCategory.IDENTITY)
    record_view(request, access, DataCategory.IDENTITY)
    history = AuditEvent.objects.for_file(access.person).access_history()
    printing = bool(request.GET.get("impression"))
    before = None if printing else posted_id(request.GET.get("avant"))
    if printing:
        # On paper, the most recent accesses, so many rows at most, read in one go.
        page = history.page_before(None, PRINTED_AT_MOST)
        lines, older = lines_of(page.events), page.older
        audit_record(
            action=AuditAction.ACCESS_HISTORY_PRINTED,
            by=actor_for(request),
            person_id=access.person.pk,
            person_label=access.person.journal_label,
        )
    else:
        lines, older = page_of_lines(history, before, HISTORY_PAGE)
    # The history names only the categories its reader may read: that someone read or
    # changed the health section says what the charter keeps from the others.
    readable = {category.value for category in access.readable_categories()}
    context = file_context(access, "historique") | {
        "lines": [(line, _categories_named(line, readable)) for line in lines],
        "readable": readable,
        "older": older,
        "not_the_newest": before is not None,
        "printing": printing,
        "printed_at": timezone.now(),
        "printed_at_most": PRINTED_AT_MOST,
        "kept_months": journal_kept_months(),
    }
    return render(request, "persons/history.html", context)


def _categories_named(line: Line, readable: set[str]) -> str:
    """The categories a line of consultations read, of those its reader may read."""
    return ", ".join(
        category_label(category) for category in line.read_categories if category in readable
    )


@manager_required
@require_http_methods(["GET", "POST"])
@recent_second_factor_required
def merge(request: HttpRequest) -> HttpResponse:
    """A manager merges a duplicate file into another, in two steps: the two numbers, then
    the two files side by side, where they confirm that both are one person's. They must
    be allowed to write the identity of both."""
    pro = professional_or_404(request)
    if "paire" in request.POST:
        return _merge_confirmed(request, pro)
    form = forms.MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        keep, absorb = (_mergeable(pro, form, field) for field in ("keep", "absorb"))
        if keep is not None and absorb is not None:
            return _merge_confirmation(request, pro, keep, absorb)
    return _merge_numbers(request, form)


def _mergeable(pro: Professional, form: forms.MergeForm, field: str) -> FileAccess | None:
    """The file a number of the form names, if the manager may write its identity; else
    None, and the form says so on the number, in the same words whether the file does not
    exist or is outside the manager's access."""
    number = form.cleaned_data[field]
    try:
        access = file_access(pro, number)
    except Http404:
        access = None
    if access is None or not access.can(Action.EDIT, DataCategory.IDENTITY):
        form.add_error(
            field,
            f"Aucun dossier n° {number} dont vous pouvez modifier l'identité : vérifiez le numéro.",
        )
        return None
    return access


def _merge_numbers(request: HttpRequest, form: forms.MergeForm) -> HttpResponse:
    return render(
        request,
        "persons/merge.html",
        {"title": "Fusionner deux dossiers", "form": form},
        status=400 if form.is_bound else 200,
    )


def _merge_pair(pro: Professional, keep_id: int, absorb_id: int) -> tuple[FileAccess, FileAccess]:
    """The two files of a merge, each read through the rule; 404 unless the manager may
    write the identity of both."""
    keep, absorb = file_access(pro, keep_id), file_access(pro, absorb_id)
    if not (
        keep.can(Action.EDIT, DataCategory.IDENTITY)
        and absorb.can(Action.EDIT, DataCategory.IDENTITY)
    ):
        raise Http404("Dossier introuvable.")
    return keep, absorb


@dataclass(frozen=True)
class MergedFile:
    """One of the two files of a merge as its confirmation shows it: its identity, and how
    many of what moves with it the manager may read (None: none of that category)."""

    person: Person
    created_by: str
    consents: int
    procedures: int | None
    documents: int | None
    notes: int | None
    # The categories the page shows of the file, for the journal.
    shown: tuple[str, ...]


def _merged_file(pro: Professional, access: FileAccess) -> MergedFile:
    person = access.person
    readable = set(access.readable_categories())
    papers = [c for c in (DataCategory.DOCUMENTS, DataCategory.HEALTH) if c in readable]
    procedures = notes = None
    if DataCategory.PROCEDURES in readable:
        procedures = Procedure.objects.filter(person=person).count()
    if DataCategory.NOTES in readable:
        notes = (
            Note.objects.filter(person=person)
            .readable_by(user_id=pro.user_id, organisation_id=pro.organisation_id)
            .count()
        )
    documents = None
    if papers:
        documents = Document.objects.filter(person=person).present().in_categories(papers).count()
    created_by = Organisation.objects.filter(pk=person.created_by_organisation_id).values_list(
        "name", flat=True
    )
    return MergedFile(
        person=person,
        created_by=created_by.first() or "",
        consents=Consent.objects.filter(person=person).count(),
        procedures=procedures,
        documents=documents,
        notes=notes,
        shown=(
            DataCategory.IDENTITY,
            *([DataCategory.PROCEDURES] if procedures is not None else []),
            *papers,
            *([DataCategory.NOTES] if notes is not None else []),
        ),
    )


# What of the identity two files of one person say alike, as the confirmation names it.
_ALIKE = {"first_names": "les prénoms", "names": "les noms", "birth_date": "les dates de naissance"}


def _differences(keep: Person, absorb: Person) -> list[str]:
    """What, of their identity, the two files do not say alike (keys of _ALIKE): their
    first names or names, compared as the search compares them (accents, case and hyphens
    aside; a usage name may match a birth name), and their birth dates."""
    names = [{p.birth_name_key, p.usage_name_key} - {""} for p in (keep, absorb)]
    differ = {
        "first_names": keep.first_names_key != absorb.first_names_key,
        "names": not names[0] & names[1],
        "birth_date": keep.birth_date != absorb.birth_date,
    }
    return [key for key in _ALIKE if differ[key]]


def _differences_said(differences: list[str]) -> str:
    """« Les prénoms et les dates de naissance ne sont pas les mêmes dans les deux
    dossiers. »"""
    if not differences:
        return ""
    words = [_ALIKE[key] for key in differences]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} et {words[-1]}"
    return f"{capfirst(listed)} ne sont pas les mêmes dans les deux dossiers."


# How long the two files shown may wait for the manager's confirmation.
MERGE_CONFIRMATION_SECONDS = 30 * 60
_MERGE_SALT = "relais.persons.merge"


def _identity_shown(keep: Person, absorb: Person) -> str:
    """A digest of the identities the confirmation page shows: confirmed, they must still
    be the files' (and no personal data goes into the page's hidden field)."""
    shown = [
        [p.pk, p.first_names, p.birth_name, p.usage_name, p.birth_date.isoformat(), p.has_nir]
        for p in (keep, absorb)
    ]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()


def _signed_pair(pro: Professional, keep: Person, absorb: Person) -> str:
    return signing.dumps(
        [keep.pk, absorb.pk, pro.user_id, pro.organisation_id, _identity_shown(keep, absorb)],
        salt=_MERGE_SALT,
    )


def _pair_confirmed(pro: Professional, token: str) -> tuple[int, int, str] | None:
    """The numbers of the two files the confirmation page showed this manager, and the
    digest of their identities then; None for a token this page did not give them, or one
    too old."""
    try:
        keep, absorb, user, organisation, shown = signing.loads(
            token, salt=_MERGE_SALT, max_age=MERGE_CONFIRMATION_SECONDS
        )
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if (user, organisation) != (pro.user_id, pro.organisation_id):
        return None
    return int(keep), int(absorb), str(shown)


def _merge_confirmation(
    request: HttpRequest,
    pro: Professional,
    keep: FileAccess,
    absorb: FileAccess,
    form: forms.MergeConfirmForm | None = None,
    *,
    refusal: str = "",
) -> HttpResponse:
    """The two files side by side, and the box to confirm they are one person's, unless
    their NIRs say they are two. Showing them is a read of both, journaled."""
    files = (_merged_file(pro, keep), _merged_file(pro, absorb))
    record_list_view(
        request, pro, [(f.person, category) for f in files for category in f.shown], "fusion"
    )
    two_persons = services.nirs_differ(keep.person, absorb.person)
    differences = _differences(keep.person, absorb.person)
    context = {
        "title": "Confirmer la fusion de deux dossiers",
        "keep": files[0],
        "absorb": files[1],
        "differences": differences,
        "differences_said": _differences_said(differences),
        "two_persons": NIRS_DIFFER if two_persons else "",
        "refusal": refusal,
        "form": form or forms.MergeConfirmForm(),
        "pair": _signed_pair(pro, keep.person, absorb.person),
    }
    refused = two_persons or refusal or (form is not None and form.errors)
    return render(request, "persons/merge_confirm.html", context, status=400 if refused else 200)


def _merge_confirmed(request: HttpRequest, pro: Professional) -> HttpResponse:
    """Merge the very pair of files the confirmation page showed, as it showed them."""
    pair = _pair_confirmed(pro, request.POST.get("paire", ""))
    if pair is None:
        messages.error(
            request,
            "La page de confirmation est restée ouverte trop longtemps, ou ne vient pas de "
            "Relais : saisissez de nouveau les deux numéros. Rien n'est fusionné.",
        )
        return redirect("persons:merge")
    keep_id, absorb_id, shown = pair
    keep, absorb = _merge_pair(pro, keep_id, absorb_id)
    if _identity_shown(keep.person, absorb.person) != shown:
        return _merge_confirmation(
            request,
            pro,
            keep,
            absorb,
            refusal="L'identité d'un des deux dossiers a changé depuis l'affichage de cette "
            "page : vérifiez-la de nouveau avant de confirmer. Rien n'est fusionné.",
        )
    form = forms.MergeConfirmForm(request.POST)
    if not form.is_valid():
        return _merge_confirmation(request, pro, keep, absorb, form)
    try:
        persons_merge(keep=keep.person, absorb=absorb.person, by=actor_for(request))
    except services.SectionsDisagree as disagreeing:
        # Named only where the manager may read both files: which sections a person
        # has, health above all, is itself what the charter keeps from others.
        readable = {
            category
            for category in disagreeing.fields
            if keep.can(Action.VIEW, category) and absorb.can(Action.VIEW, category)
        }
        refusal = disagreeing.said_to(readable=readable)
    except ValidationError as error:
        refusal = " ".join(error.messages)
    else:
        messages.success(request, "Les deux dossiers sont fusionnés.")
        return redirect("persons:file", person_id=keep.person.pk)
    return _merge_confirmation(request, pro, keep, absorb, refusal=refusal)
