"""The person's own space: their file, papers, procedures, who may see the file, who saw
it, and the download of everything.

Every page shows the logged-in person's own file (`request.person_account.person`) and
nothing else: no id of a person ever comes from the request. Each read of a category of
the file is written to the journal, with the person as actor.
"""

from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override
from django.views.decorators.http import require_http_methods, require_POST

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.audit.trimming import journal_kept_months
from relais.consent import services as consent_services
from relais.consent.models import Block, BreakGlassGrant, Consent, ConsentMethod
from relais.documents import antivirus, validation, vault
from relais.documents import services as document_services
from relais.documents.models import Document, DocumentKind, DocumentVersion
from relais.documents.validation import MAX_PHOTOS
from relais.organisations.models import Membership, Profession
from relais.persons.categories import DataCategory
from relais.persons.models import Person, Referent
from relais.persons.services import record_on_file
from relais.portability import readable, words
from relais.portability.services import export_prepare
from relais.portability.snapshot import file_data
from relais.portal.sessions import person_actor
from relais.procedures import services as procedure_services
from relais.procedures.checklist import Situation, housing_status, situation_of
from relais.procedures.measures import Completeness, completeness, state_on
from relais.procedures.models import (
    BEFORE_SUBMISSION,
    OPEN_STATUSES,
    Procedure,
    ProcedureStatus,
    ProcedureType,
    RequiredDocument,
)
from relais.www.documents.views import safe_filename, version_response
from relais.www.forms import posted_id
from relais.www.next_page import same_site_path
from relais.www.organisation_choices import known_organisations, organisation_choices, searched
from relais.www.persons.history_lines import page_of_lines
from relais.www.portal import forms
from relais.www.portal.decorators import person_required, portal_public
from relais.www.portal.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2] / "portability" / "schema" / "relais-export-1.schema.json"
)
SOON_DAYS = 30
# The purpose recorded with an agreement given from the space: the person's own words
# would be no more precise, and a form field more to fill is a reason to give up.
SELF_SERVICE_PURPOSE = "Accompagnement et aide aux démarches, accord donné par la personne"
# Lines of « Qui a regardé mon dossier » per page: few, for people who read little.
HISTORY_PAGE = 20
# An opening of the file in an emergency is news on the home page for a month, the most
# recent few; « Qui a regardé mon dossier » keeps them all as long as the journal does.
EMERGENCY_NEWS_DAYS = 30
EMERGENCY_NEWS_SHOWN = 5
# The states in which the organisme has the next move: the request or the appeal is
# being studied.
WAITING_STATUSES = frozenset(
    {ProcedureStatus.SUBMITTED, ProcedureStatus.AWAITING, ProcedureStatus.APPEAL}
)


def _person(request: HttpRequest) -> Person:
    person: Person = request.person_account.person  # type: ignore[attr-defined]
    return person


def _record_read(request: HttpRequest, person: Person, category: str) -> None:
    record_on_file(
        AuditAction.SECTION_VIEWED,
        person=person,
        by=person_actor(request),
        category=category,
        details={"espace_personnel": True},
    )


def _validity(document: Document, today: date) -> dict[str, str]:
    """How a paper's validity reads for the person: expired, soon expired, or fine."""
    expires = document.expires_on
    if expires is None:
        return {"state": "sans_date", "label": _("Pas de date de fin")}
    if expires < today:
        return {"state": "perime", "label": _("Plus valable")}
    if expires <= today + timedelta(days=SOON_DAYS):
        return {"state": "bientot", "label": _("Bientôt plus valable")}
    return {"state": "valable", "label": _("Valable")}


def _from_a_professional() -> Exists:
    """A paper of which a version came from a professional: it is theirs to remove."""
    return Exists(
        DocumentVersion.objects.filter(document=OuterRef("pk"), uploaded_by__isnull=False)
    )


def _added_by_the_person(person: Person) -> QuerySet[Document]:
    """The papers the person added themselves, and may remove; deleted ones too, for
    the service to answer a second tap."""
    return Document.objects.filter(person=person).exclude(_from_a_professional())


def _documents(person: Person) -> list[Document]:
    documents = list(
        Document.objects.filter(person=person)
        .present()
        .annotate(removable=~_from_a_professional())
        .order_by("expires_on", "kind", "pk")
    )
    today = timezone.localdate()
    for document in documents:
        document.word = words.say(words.DOCUMENT_KINDS, document.kind)  # type: ignore[attr-defined]
        document.validity = _validity(document, today)  # type: ignore[attr-defined]
    return documents


class Paper(NamedTuple):
    """A paper to bring, in the person's words: one paper, or a choice of papers one of
    which is enough."""

    text: str
    choices: list[str]


def _joined(pattern: str, **values: str) -> str:
    """`pattern` filled with the paper's words in the person's language and the
    catalogue's, in French only: every part escaped."""
    escaped = {name: conditional_escape(value) for name, value in values.items()}
    return mark_safe(conditional_escape(pattern) % escaped)  # noqa: S308 (every part escaped)


def _described(item: RequiredDocument) -> str | None:
    """An « autre papier » line is named by its condition alone: « Le timbre fiscal »."""
    if item.kind == DocumentKind.OTHER and item.condition:
        return readable.in_french(capfirst(item.condition))
    return None


def _paper(item: RequiredDocument, day: date) -> str:
    """« Photo d'identité : de moins de 6 mois », « Passeport (plus valable) »."""
    kind = words.say(words.DOCUMENT_KINDS, item.kind)
    paper = _described(item) or kind
    if item.condition and paper is kind:
        paper = _joined(
            _("%(kind)s : %(condition)s"), kind=kind, condition=readable.in_french(item.condition)
        )
    if state_on(item, day) == "expired":
        paper = _joined(_("%(kind)s (plus valable)"), kind=paper)
    return paper


def _papers_missing(result: Completeness) -> list[Paper]:
    """What is missing, in the person's language: each paper, and each choice of papers
    one of which is enough, once. The procedures' own sentences
    (`missing_in_plain_words`) are for the professional, in French; these say the same
    from the same measure."""
    lacking = [*result.missing, *result.expired]
    grouped = {
        item.pk: unit
        for unit in result.alternatives
        if all(member in lacking for member in unit)
        for item in unit
    }
    papers: list[Paper] = []
    said: set[int] = set()
    for item in sorted(lacking, key=lambda line: line.pk):
        if item.pk in said:
            continue
        unit = grouped.get(item.pk)
        if unit is not None:
            said.update(member.pk for member in unit)
            choices = [_paper(member, result.day) for member in unit]
            papers.append(Paper(_("Un seul de ces papiers suffit :"), choices))
        elif item in result.expired:
            kind = _described(item) or words.say(words.DOCUMENT_KINDS, item.kind)
            sentence = _("%(kind)s n'est plus valable : il en faut un nouveau.")
            papers.append(Paper(_joined(sentence, kind=kind), []))
        else:
            papers.append(Paper(_paper(item, result.day), []))
    return papers


def _papers_to_see(result: Completeness) -> list[str]:
    """The papers asked only in a situation nobody said is the person's, not brought:
    « Si vous en avez un : Passeport »."""
    return [
        _described(item)
        or _joined(
            _("%(condition)s : %(kind)s"),
            condition=readable.in_french(capfirst(item.condition)),
            kind=words.say(words.DOCUMENT_KINDS, item.kind),
        )
        for item in result.conditional
        if state_on(item, result.day) != "valid"
    ]


def _next_step(procedure: Procedure) -> str:
    """The first step not done yet, while the person has something to do: until the
    procedure is submitted. After that, the organisme has the next move."""
    if procedure.status not in BEFORE_SUBMISSION:
        return ""
    done = {step.step_index for step in procedure.steps_done.all()}
    for index, step in enumerate(procedure.steps or []):
        if index not in done:
            return str(step)
    return ""


def _what_happens_now(procedure: Procedure, result: Completeness) -> list[str]:
    """While the organisme studies the request or the appeal, what happens next, in
    place of a step to do."""
    if procedure.status not in WAITING_STATUSES:
        return []
    if procedure.status == ProcedureStatus.APPEAL:
        sentences = [_("L'organisme étudie votre contestation.")]
    else:
        sentences = [_("L'organisme étudie votre demande.")]
    sentences.append(_("Vous n'avez rien à faire pour le moment."))
    days = procedure.procedure_type.processing_days
    if days and procedure.status != ProcedureStatus.APPEAL:
        sentences.append(
            ngettext(
                "En général, la réponse arrive en %(days)d jour.",
                "En général, la réponse arrive en %(days)d jours.",
                days,
            )
            % {"days": days}
        )
    if not result.is_complete:
        sentences.append(
            _(
                "La demande est partie sans tous les papiers. L'organisme peut vous demander "
                "ceux qui manquent."
            )
        )
    return sentences


def _situation(person: Person, procedures: list[Procedure]) -> Situation:
    """The person reads all of their file: what it says of them settles the conditions of
    their procedures' checklists (prefetched)."""
    return situation_of(
        person.nationality,
        lambda: housing_status(person.pk),
        readable=DataCategory.values,
        conditions=[item.condition for each in procedures for item in each.checklist.all()],
    )


def _procedures(person: Person) -> list[Procedure]:
    procedures = list(
        Procedure.objects.for_person(person.pk)
        .select_related("procedure_type", "organisation")
        .prefetch_related("steps_done", "checklist__document")
        .order_by("-requested_on", "-pk")
    )
    situation = _situation(person, procedures)
    for procedure in procedures:
        # The checklist is prefetched: `completeness` reads it from the cache, even empty.
        result = completeness(procedure, situation=situation)
        is_open = procedure.status in OPEN_STATUSES
        procedure.word = words.say(words.PROCEDURE_STATUSES, procedure.status)  # type: ignore[attr-defined]
        procedure.is_open = is_open  # type: ignore[attr-defined]
        procedure.next_step = _next_step(procedure)  # type: ignore[attr-defined]
        procedure.what_happens_now = _what_happens_now(procedure, result)  # type: ignore[attr-defined]
        to_gather = procedure.status in BEFORE_SUBMISSION
        procedure.missing = _papers_missing(result) if to_gather else []  # type: ignore[attr-defined]
        procedure.to_see = _papers_to_see(result) if to_gather else []  # type: ignore[attr-defined]
        # Nothing asked is not "every paper is there": the line is left out.
        procedure.complete = result.total > 0 and result.is_complete  # type: ignore[attr-defined]
    return procedures


def _emergency_openings(person: Person) -> list[BreakGlassGrant]:
    """The file's recent openings without the person's consent, newest first, with who
    opened it: the organisation, and the profession the professional had in it that day.
    An opening moves with its file into the file it is merged into, as the history does."""
    profession_then = (
        Membership.objects.filter(
            user_id=OuterRef("professional_id"),
            organisation_id=OuterRef("organisation_id"),
            started_on__lte=OuterRef("opened_on"),
        )
        .order_by("-started_on")
        .values("profession")[:1]
    )
    since = timezone.now() - timedelta(days=EMERGENCY_NEWS_DAYS)
    openings = list(
        BreakGlassGrant.objects.filter(person=person, opened_at__gte=since)
        .select_related("organisation")
        .annotate(opened_on=TruncDate("opened_at"))
        .annotate(profession_code=Subquery(profession_then))
        .order_by("-opened_at", "-pk")[:EMERGENCY_NEWS_SHOWN]
    )
    for opening in openings:
        code = opening.profession_code  # type: ignore[attr-defined]
        opening.profession = Profession(code).label if code in Profession.values else ""  # type: ignore[attr-defined]
    return openings


@person_required
def home(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    expiring = [
        document
        for document in _documents(person)
        if document.validity["state"] in ("perime", "bientot")  # type: ignore[attr-defined]
    ]
    # What the person still has to do before submitting, the nearest deadline first:
    # SQLite and PostgreSQL put the procedures with none at opposite ends.
    waiting = list(
        Procedure.objects.for_person(person.pk)
        .filter(status__in=BEFORE_SUBMISSION)
        .select_related("procedure_type")
        .prefetch_related("checklist__document")
        .order_by(F("due_on").asc(nulls_last=True), "pk")[:10]
    )
    situation = _situation(person, waiting)
    for procedure in waiting:
        procedure.word = words.say(words.PROCEDURE_STATUSES, procedure.status)  # type: ignore[attr-defined]
        # Counted as « Mes démarches » says what is missing: two papers of which one is
        # enough count once, one the file says is not needed not at all.
        measure = completeness(procedure, situation=situation)
        procedure.missing_documents = measure.total - measure.satisfied  # type: ignore[attr-defined]
    _record_read(request, person, DataCategory.DOCUMENTS)
    if any(document.category == DataCategory.HEALTH for document in expiring):
        _record_read(request, person, DataCategory.HEALTH)
    _record_read(request, person, DataCategory.PROCEDURES)
    context = {
        "person": person,
        "emergencies": _emergency_openings(person),
        "expiring": expiring,
        "waiting": waiting,
    }
    return render(request, "portal/home.html", context)


@person_required
def file(request: HttpRequest) -> HttpResponse:
    """Mon dossier: everything held about the person, category by category."""
    person = _person(request)
    sections = readable.file_sections(file_data(person, nir=None))
    for section in sections:
        _record_read(request, person, section.category)
    return render(request, "portal/file.html", {"sections": sections})


@person_required
def documents(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    items = _documents(person)
    _record_read(request, person, DataCategory.DOCUMENTS)
    if any(document.category == DataCategory.HEALTH for document in items):
        _record_read(request, person, DataCategory.HEALTH)
    return render(request, "portal/documents.html", {"documents": items})


def _upload_refusal(refusal: Exception) -> str:
    """Why a paper is refused, in plain words and the person's language: the documents'
    own messages are written for professionals, in French only."""
    if isinstance(refusal, antivirus.VirusFound):
        return _("Ce fichier a un virus. Il n'est pas enregistré.")
    if isinstance(refusal, antivirus.AntivirusUnavailable):
        return _(
            "Relais ne peut pas vérifier ce fichier maintenant. Réessayez dans quelques minutes."
        )
    if isinstance(refusal, validation.JustUploaded):
        return _("Ce papier est déjà enregistré. Il est dans la liste de vos papiers.")
    if isinstance(refusal, validation.FileSpaceFull):
        return _(
            "Il n'y a plus de place pour vos papiers. Demandez à la personne qui vous "
            "accompagne d'enlever les papiers qui ne servent plus."
        )
    if isinstance(refusal, validation.TooManyPhotos):
        return _("Un papier se met en %(count)d photos au plus.") % {"count": MAX_PHOTOS}
    if isinstance(refusal, validation.TooLarge):
        return _(
            "Ce fichier est trop lourd. Prenez une photo, ou demandez de l'aide à la personne "
            "qui vous accompagne."
        )
    return _(
        "Ce fichier ne marche pas. Prenez une photo ou choisissez un PDF. Si cela ne marche "
        "toujours pas, demandez de l'aide à la personne qui vous accompagne."
    )


@person_required
@require_http_methods(["GET", "POST"])
def document_add(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = forms.DocumentAddForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires_on = data["expires_on"]
        if data["issued_on"] is None and expires_on is None:
            # The paper's usual validity, counted from the day it is brought: the day it
            # was issued stays unknown rather than said to be today to the professionals,
            # who check how recent a paper is.
            expires_on = document_services.default_expiry(data["kind"], timezone.localdate())
        try:
            document_services.document_upload(
                person=person,
                kind=data["kind"],
                title="",
                issued_on=data["issued_on"],
                expires_on=expires_on,
                files=data["files"],
                uploaded_by_id=None,
                by=person_actor(request),
            )
        except document_services.REFUSALS as refusal:
            form.add_error("files", _upload_refusal(refusal))
        except ValidationError:
            form.add_error(
                None,
                _(
                    "Votre papier n'est pas enregistré. Demandez de l'aide à la personne "
                    "qui vous accompagne."
                ),
            )
        else:
            # The paper joins the procedures that ask for it and have none.
            procedure_services.checklist_fill(person=person, by=person_actor(request))
            messages.success(request, _("Votre papier est enregistré."))
            return redirect("portal:documents")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/document_add.html", {"form": form}, status=status)


@person_required
def document_download(request: HttpRequest, document_id: int) -> HttpResponse:
    person = _person(request)
    document = get_object_or_404(Document.objects.present(), pk=document_id, person=person)
    version = document.versions.filter(purged_at__isnull=True).order_by("-number").first()
    if version is None:
        raise Http404(_("Papier introuvable."))
    try:
        document_services.version_verify(version)
    except vault.BlobCorrupted:
        return render(request, "portal/document_damaged.html", status=500)
    document_services.document_download_record(version=version, by=person_actor(request))
    return version_response(version, safe_filename(document, version.extension))


@person_required
@require_http_methods(["GET", "POST"])
def document_remove(request: HttpRequest, document_id: int) -> HttpResponse:
    """Enlever un papier: a page names the paper, and its « Oui, enlever » removes it.
    Only a paper the person added themselves: the others are the professionals' to
    remove."""
    person = _person(request)
    document = get_object_or_404(_added_by_the_person(person), pk=document_id)
    if request.method == "POST":
        try:
            document_services.document_delete(document=document, by=person_actor(request))
        except ValidationError:
            messages.info(request, _("Ce papier est déjà enlevé."))
        else:
            messages.success(request, _("C'est fait : le papier est enlevé."))
        return redirect("portal:documents")
    if document.deleted_at is not None:
        raise Http404(_("Papier introuvable."))
    _record_read(request, person, document.category)
    document.word = words.say(words.DOCUMENT_KINDS, document.kind)  # type: ignore[attr-defined]
    return render(request, "portal/document_remove.html", {"document": document})


@person_required
def procedures(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    items = _procedures(person)
    _record_read(request, person, DataCategory.PROCEDURES)
    return render(request, "portal/procedures.html", {"procedures": items})


@person_required
def procedure_guide(request: HttpRequest, procedure_id: int) -> HttpResponse:
    """The easy-to-read guide of one of the person's procedures, the one professionals
    print: catalogue content, in French, with the papers named as the person's space
    names them. A withdrawn entry is no longer offered, as in the catalogue."""
    person = _person(request)
    procedure = get_object_or_404(
        Procedure.objects.for_person(person.pk).select_related("procedure_type"),
        pk=procedure_id,
        procedure_type__is_active=True,
    )
    _record_read(request, person, DataCategory.PROCEDURES)
    entry = procedure.procedure_type
    context = {"entry": entry, "documents": _guide_papers(entry)}
    return render(request, "portal/procedure_guide.html", context)


def _guide_papers(entry: ProcedureType) -> list[dict[str, str]]:
    """The papers of the guide named as the person's space names them, in French as the
    rest of the guide: « Carte d'identité » where the professionals' guide says « Carte
    nationale d'identité », an « autre papier » line by its condition alone. A line's
    condition stays as the catalogue writes it."""
    papers = []
    with override("fr"):
        for line in entry.required_documents:
            kind, condition = line["kind"], line.get("condition", "")
            if kind == DocumentKind.OTHER and condition:
                papers.append({"label": capfirst(condition), "condition": ""})
            else:
                papers.append(
                    {"label": words.say(words.DOCUMENT_KINDS, kind), "condition": condition}
                )
    return papers


@person_required
def consents(request: HttpRequest) -> HttpResponse:
    """Qui peut voir mon dossier: agreements in force, blocks, break-glass choice."""
    person = _person(request)
    now = timezone.now()
    live = list(
        Consent.objects.live(now)
        .filter(person=person)
        .select_related("organisation", "professional")
        .order_by("expires_at", "pk")
    )
    for consent in live:
        consent.words = readable.category_words(consent.categories)  # type: ignore[attr-defined]
    blocks = list(
        Block.objects.active()
        .filter(person=person)
        .select_related("organisation", "professional")
        .order_by("created_at")
    )
    context = {
        "person": person,
        "consents": live,
        "blocks": blocks,
        "break_glass_hours": int(settings.RELAIS_BREAK_GLASS_DURATION.total_seconds() // 3600),
    }
    return render(request, "portal/consents.html", context)


@person_required
@require_http_methods(["GET", "POST"])
def consent_grant(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    search, query = searched(request)
    choices, found = organisation_choices(person, query, request.POST.get("organisation"))
    granting = request.method == "POST" and not search.is_bound
    blocked = set(
        Block.objects.active()
        .filter(person=person, organisation__isnull=False)
        .values_list("organisation_id", flat=True)
    )
    form = forms.ConsentGrantForm(
        request.POST if granting else None, organisations=choices, blocked=blocked
    )
    if granting and form.is_valid():
        data = form.cleaned_data
        try:
            consent_services.consent_grant(
                person=person,
                organisation_id=data["organisation"],
                professional_id=None,
                categories=data["categories"],
                purpose=SELF_SERVICE_PURPOSE,
                duration=data["duration"],
                method=ConsentMethod.SELF_SERVICE,
                recorded_by_id=None,
                by=person_actor(request),
            )
        except consent_services.ConsentRecordedToday:
            form.add_error(
                None, _("Vous avez déjà donné cet accord aujourd'hui. Il est dans la liste.")
            )
        except ValidationError:
            form.add_error(
                None,
                _(
                    "Votre accord n'est pas enregistré. Demandez de l'aide à la personne "
                    "qui vous accompagne."
                ),
            )
        else:
            messages.success(request, _("C'est fait : cette structure peut voir votre dossier."))
            return redirect("portal:consents")
    context = {
        "form": form,
        "search": search,
        "query": query,
        "found": found,
        "has_choices": bool(choices),
    }
    refused = granting or (search.is_bound and not query)
    return render(request, "portal/consent_grant.html", context, status=400 if refused else 200)


@person_required
@require_POST
def consent_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    person = _person(request)
    consent = get_object_or_404(Consent.objects.select_related("person"), pk=consent_id)
    if consent.person_id != person.pk:
        raise Http404(_("Accord introuvable."))
    try:
        consent_services.consent_revoke(consent=consent, by=person_actor(request))
    except ValidationError:
        messages.info(request, _("Cet accord était déjà retiré."))
    else:
        messages.success(
            request, _("C'est fait : cette structure ne peut plus voir votre dossier.")
        )
    return redirect("portal:consents")


def _block_targets(person: Person) -> list[tuple[str, str]]:
    """Organisations and professionals the person may block: those who follow them or
    who opened their file."""
    blocked = Block.objects.active().filter(person=person)
    blocked_organisations = set(blocked.values_list("organisation_id", flat=True))
    blocked_professionals = set(blocked.values_list("professional_id", flat=True))
    targets: dict[str, str] = {}
    for pk, name in known_organisations(person):
        if pk not in blocked_organisations:
            targets[f"structure-{pk}"] = name
    seen = (
        AuditEvent.objects.for_file(person)
        .access_history()
        .filter(actor_id__isnull=False, organisation_id__isnull=False)
        .values_list("actor_id", "actor_label", "organisation_id", "organisation_label")
        .order_by()
        .distinct()[:100]
    )
    for actor_id, actor_label, organisation_id, organisation_label in seen:
        if organisation_id not in blocked_organisations:
            targets.setdefault(f"structure-{organisation_id}", organisation_label)
        if actor_id not in blocked_professionals:
            targets[f"professionnel-{actor_id}"] = f"{actor_label} ({organisation_label})"
    for referent in (
        Referent.objects.current()
        .filter(person=person)
        .select_related("professional", "organisation")
    ):
        if referent.professional_id not in blocked_professionals:
            targets[f"professionnel-{referent.professional_id}"] = (
                f"{referent.professional.get_full_name()} ({referent.organisation.name})"
            )
    return sorted(targets.items(), key=lambda target: (target[0].startswith("p"), target[1]))


@person_required
@require_http_methods(["GET", "POST"])
def block(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = forms.BlockForm(request.POST or None, targets=_block_targets(person))
    if request.method == "POST" and form.is_valid():
        kind, _sep, pk = form.cleaned_data["target"].partition("-")
        try:
            consent_services.block_add(
                person=person,
                organisation_id=int(pk) if kind == "structure" else None,
                professional_id=int(pk) if kind == "professionnel" else None,
                by=person_actor(request),
            )
        except consent_services.AlreadyBlocked:
            form.add_error(None, _("Cette structure ou cette personne est déjà bloquée."))
        else:
            messages.success(request, _("C'est fait : cette personne ou structure est bloquée."))
            return redirect("portal:consents")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/block.html", {"form": form}, status=status)


@person_required
@require_POST
def block_lift(request: HttpRequest, block_id: int) -> HttpResponse:
    person = _person(request)
    # Lifted blocks too: a second tap on « Débloquer » is answered by the service.
    found = get_object_or_404(Block.objects.select_related("person"), pk=block_id, person=person)
    try:
        consent_services.block_lift(block=found, by=person_actor(request))
    except ValidationError:
        messages.info(request, _("Ce blocage est déjà levé."))
    else:
        messages.success(request, _("Le blocage est levé."))
    return redirect("portal:consents")


@person_required
@require_POST
def break_glass(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = forms.BreakGlassForm(request.POST)
    if not form.is_valid():
        for error in form.errors["refuse"]:
            messages.error(request, error)
        return redirect("portal:consents")
    refuses = form.cleaned_data["refuse"]
    try:
        consent_services.break_glass_preference_set(
            person=person, refuses=refuses, by=person_actor(request)
        )
    except ValidationError:
        messages.error(
            request,
            _(
                "Votre dossier vient de changer. Votre choix n'est pas enregistré. "
                "Demandez de l'aide à la personne qui vous accompagne."
            ),
        )
        return redirect("portal:consents")
    if refuses:
        messages.success(
            request, _("C'est noté : personne ne pourra ouvrir votre dossier sans votre accord.")
        )
    else:
        messages.success(
            request,
            _("C'est noté : en cas d'urgence, un professionnel pourra ouvrir votre dossier."),
        )
    return redirect("portal:consents")


@person_required
def history(request: HttpRequest) -> HttpResponse:
    """Qui a regardé mon dossier: the professionals' reads and changes, of the file and of
    the person's space, newest first. The reads one professional made in a row, the same
    day, are one line, as in the professionals' history: half an hour of work on the file
    would otherwise be a hundred lines. The person's own visits are left out: they know
    about those."""
    person = _person(request)
    before = posted_id(request.GET.get("avant"))
    shown = AuditEvent.objects.for_file(person).access_history().filter(actor_id__isnull=False)
    lines, older = page_of_lines(shown, before, HISTORY_PAGE)
    context = {
        "lines": [readable.history_line(line) for line in lines],
        "older": older,
        "not_the_newest": before is not None,
        "kept_months": journal_kept_months(),
    }
    return render(request, "portal/history.html", context)


@person_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """Télécharger mes données: the page, and on POST the ZIP, streamed."""
    if request.method == "GET":
        return render(request, "portal/export.html")
    prepared = export_prepare(_person(request), by=person_actor(request))
    response = StreamingHttpResponse(prepared.chunks(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_public
def export_schema(request: HttpRequest) -> HttpResponse:
    """The JSON Schema of the export, public: anyone may build a tool that reads it."""
    response = FileResponse(SCHEMA_FILE.open("rb"), content_type="application/schema+json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@portal_public
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    chosen = request.POST.get("language", "")
    target = same_site_path(request, request.POST.get("next", ""))
    if target is None or not target.startswith(reverse("portal:home")):
        target = reverse("portal:home")
    response = HttpResponseRedirect(target)
    if chosen in dict(settings.LANGUAGES):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    return response
