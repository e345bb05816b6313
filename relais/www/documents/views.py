import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for
from relais.consent.access import FileAccess, readable_categories_by_person, visible_persons
from relais.documents import services, vault
from relais.documents.models import Document, DocumentKind, DocumentVersion, category_of
from relais.persons.categories import Action, DataCategory
from relais.procedures import services as procedure_services
from relais.procedures.models import Procedure
from relais.www.documents.forms import EditForm, ReplaceForm, UploadForm
from relais.www.persons.access import (
    access_file,
    professional_or_404,
    record_list_view,
    record_view,
)
from relais.www.persons.views import file_context

DOCUMENT_CATEGORIES = (DataCategory.DOCUMENTS, DataCategory.HEALTH)


def _readable_categories(access: FileAccess) -> list[str]:
    return [c for c in access.readable_categories() if c in DOCUMENT_CATEGORIES]


def _file_with_documents(request: HttpRequest, person_id: int) -> tuple[object, FileAccess]:
    pro, access = access_file(request, person_id)
    if not _readable_categories(access):
        raise Http404("Dossier introuvable.")
    return pro, access


def _document(access: FileAccess, document_id: int, action: str) -> Document:
    document = get_object_or_404(
        Document.objects.present().select_related("person"),
        pk=document_id,
        person=access.person,
    )
    if not access.can(action, category_of(document.kind)):
        raise Http404("Pièce introuvable.")
    return document


def _editable_kinds(access: FileAccess) -> list[str]:
    """The kinds of document the professional may add: a health document only with the
    right to write in the HEALTH category."""
    return [kind for kind in DocumentKind if access.can(Action.EDIT, category_of(kind))]


def _list_context(
    request: HttpRequest, access: FileAccess, form: UploadForm | None = None
) -> dict[str, object]:
    """The documents the professional may read, each category shown journaled, with
    `form` refused or an empty one."""
    categories = _readable_categories(access)
    for category in categories:
        record_view(request, access, category)  # type: ignore[arg-type]
    documents = list(
        Document.objects.filter(person=access.person)
        .present()
        .in_categories(categories)
        .prefetch_related("versions")
        .order_by("kind", "-issued_on")
    )
    for document in documents:
        document.editable = access.can(Action.EDIT, document.category)  # type: ignore[attr-defined]
    today = timezone.localdate()
    kinds = _editable_kinds(access)
    return file_context(access, "pieces") | {
        "documents": documents,
        "form": form or UploadForm(kinds=kinds),
        "today": today,
        "soon": today + timedelta(days=30),
        "can_upload": bool(kinds),
    }


def _document_page(
    request: HttpRequest,
    access: FileAccess,
    document: Document,
    template: str,
    page: str,
    status: int = 200,
    **context: object,
) -> HttpResponse:
    """A page about one document, which it names: a read of its category, journaled."""
    record_view(request, access, document.category)
    if "version" not in context:
        context["version"] = document.versions.order_by("-number").first()
    today = timezone.localdate()
    return render(
        request,
        template,
        file_context(access, "pieces")
        | {
            "title": f"{page} — dossier n° {access.person.pk}",
            "document": document,
            "today": today,
            "soon": today + timedelta(days=30),
        }
        | context,
        status=status,
    )


def document_list(request: HttpRequest, person_id: int) -> HttpResponse:
    _, access = _file_with_documents(request, person_id)
    return render(request, "documents/list.html", _list_context(request, access))


@require_POST
def upload(request: HttpRequest, person_id: int) -> HttpResponse:
    pro, access = _file_with_documents(request, person_id)
    kinds = _editable_kinds(access)
    if not kinds:
        raise Http404("Dossier introuvable.")
    form = UploadForm(request.POST, request.FILES, kinds=kinds)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.document_upload(
                person=access.person,
                kind=data["kind"],
                title=data["title"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                files=data["files"],
                uploaded_by_id=pro.user_id,  # type: ignore[attr-defined]
                by=actor_for(request),
            )
        except services.REFUSALS as refusal:
            form.add_error("files", str(refusal))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _join_procedures(request, access)
            messages.success(request, "La pièce est enregistrée, chiffrée, dans le dossier.")
            return redirect("documents:list", person_id=person_id)
    return render(request, "documents/list.html", _list_context(request, access, form), status=400)


def _join_procedures(request: HttpRequest, access: FileAccess) -> None:
    """A paper added, or one whose type or dates are corrected, joins the person's
    procedures that ask for it and have none, as one the person adds does, when the
    professional may change those procedures."""
    if access.can(Action.EDIT, DataCategory.PROCEDURES):
        procedure_services.checklist_fill(person=access.person, by=actor_for(request))


def safe_filename(document: Document, extension: str) -> str:
    day = document.issued_on or timezone.localdate(document.created_at)
    return _safe(f"{document.kind}-{day}", extension)


def _safe(base: str, extension: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in ascii_only) + f".{extension}"


def download(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    return _current(request, person_id, document_id, shown=False)


def show(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    """The current version in the browser's own viewer rather than downloaded: on an office
    computer shared by a team, a download leaves a clear copy in a folder anyone opens."""
    return _current(request, person_id, document_id, shown=True)


def _current(
    request: HttpRequest, person_id: int, document_id: int, *, shown: bool
) -> HttpResponse:
    _, access = _file_with_documents(request, person_id)
    document = _document(access, document_id, Action.VIEW)
    version = document.versions.order_by("-number").first()
    if version is None or version.purged_at is not None:
        raise Http404("Pièce introuvable.")
    filename = safe_filename(document, version.extension)
    return _deliver(request, access, version, filename, shown=shown)


def versions(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    """Every version of a document, the current one first, each to download."""
    _, access = _file_with_documents(request, person_id)
    document = _document(access, document_id, Action.VIEW)
    listed = list(
        document.versions.select_related("uploaded_by", "organisation").order_by("-number")
    )
    return _document_page(
        request,
        access,
        document,
        "documents/versions.html",
        "Historique d'une pièce",
        versions=listed,
        version=listed[0] if listed else None,
    )


def version_download(
    request: HttpRequest, person_id: int, document_id: int, number: int
) -> HttpResponse:
    _, access = _file_with_documents(request, person_id)
    document = _document(access, document_id, Action.VIEW)
    version = document.versions.filter(number=number, purged_at__isnull=True).first()
    if version is None:
        raise Http404("Version introuvable.")
    day = version.issued_on or timezone.localdate(version.uploaded_at)
    filename = _safe(f"{document.kind}-{day}-version-{version.number}", version.extension)
    return _deliver(request, access, version, filename)


def _deliver(
    request: HttpRequest,
    access: FileAccess,
    version: DocumentVersion,
    filename: str,
    *,
    shown: bool = False,
) -> HttpResponse:
    """A version of a document, checked whole before a byte goes, downloaded or `shown` in
    the browser, and journaled (with the reason of the exceptional access the file is read
    under, if it is)."""
    try:
        services.version_verify(version)
    except vault.BlobCorrupted:
        return render(
            request,
            "documents/damaged.html",
            file_context(access, "pieces") | {"document": version.document},
            status=500,
        )
    grant = access.break_glass
    services.document_download_record(
        version=version, by=actor_for(request), reason=grant.reason if grant else "", shown=shown
    )
    return version_response(version, filename, shown=shown)


def version_response(
    version: DocumentVersion, filename: str, *, shown: bool = False
) -> StreamingHttpResponse:
    """A verified version, decrypted as it streams, saved as a file or `shown` in the
    browser; never kept by a browser or a proxy, as the computer may be shared."""
    response = StreamingHttpResponse(
        services.version_chunks(version), content_type=version.content_type
    )
    response["Content-Length"] = str(version.size)
    disposition = "inline" if shown else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def replace(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    """A new version of a document, with the dates of the new paper."""
    pro, access = _file_with_documents(request, person_id)
    document = _document(access, document_id, Action.EDIT)
    posted = request.method == "POST"
    form = ReplaceForm(request.POST, request.FILES) if posted else ReplaceForm()
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            services.document_replace(
                document=document,
                files=data["files"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                uploaded_by_id=pro.user_id,  # type: ignore[attr-defined]
                by=actor_for(request),
            )
        except services.REFUSALS as refusal:
            form.add_error("files", str(refusal))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _join_procedures(request, access)
            messages.success(
                request, "La nouvelle version est enregistrée ; l'ancienne reste dans l'historique."
            )
            return redirect("documents:list", person_id=person_id)
    return _document_page(
        request,
        access,
        document,
        "documents/replace.html",
        "Remplacer une pièce",
        status=400 if posted else 200,
        form=form,
    )


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    """Correct a document's type or dates."""
    _, access = _file_with_documents(request, person_id)
    document = _document(access, document_id, Action.EDIT)
    kinds = _editable_kinds(access)
    posted = request.method == "POST"
    form = EditForm(
        request.POST if posted else None,
        initial={
            "kind": document.kind,
            "issued_on": document.issued_on,
            "expires_on": document.expires_on,
        },
        kinds=kinds,
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.document_update(
                document=document,
                kind=data["kind"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                by=actor_for(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if changed:
                _join_procedures(request, access)
                messages.success(request, "La pièce est modifiée.")
            else:
                messages.info(request, "Rien n'a changé : la pièce garde son type et ses dates.")
            return redirect("documents:list", person_id=person_id)
    return _document_page(
        request,
        access,
        document,
        "documents/edit.html",
        "Modifier une pièce",
        status=400 if posted else 200,
        form=form,
    )


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    """Delete a document in two steps: a page names it and the person's open procedures
    that use it, and its « Supprimer » deletes it."""
    _, access = _file_with_documents(request, person_id)
    document = _document(access, document_id, Action.EDIT)
    if request.method == "POST" and request.POST.get("confirme") == "oui":
        try:
            services.document_delete(document=document, by=actor_for(request))
        except ValidationError as error:
            return _delete_confirmation(request, access, document, " ".join(error.messages))
        messages.success(request, "La pièce est retirée du dossier.")
        return redirect("documents:list", person_id=person_id)
    return _delete_confirmation(request, access, document)


def _delete_confirmation(
    request: HttpRequest, access: FileAccess, document: Document, refusal: str = ""
) -> HttpResponse:
    """The document, and the open procedures whose checklist uses it where the
    professional may read the person's procedures (a read, journaled): None otherwise."""
    procedures = None
    if access.can(Action.VIEW, DataCategory.PROCEDURES):
        record_view(request, access, DataCategory.PROCEDURES)
        procedures = list(
            Procedure.objects.for_person(access.person.pk)
            .open()
            .filter(checklist__document=document)
            .select_related("procedure_type", "organisation")
            .distinct()
            .order_by("requested_on", "pk")
        )
    return _document_page(
        request,
        access,
        document,
        "documents/delete_confirm.html",
        "Supprimer une pièce",
        status=400 if refusal else 200,
        procedures=procedures,
        refusal=refusal,
        purge_days=settings.RELAIS_DOCUMENT_PURGE_DAYS,
    )


def expiring(request: HttpRequest) -> HttpResponse:
    """Pièces expirées ou expirant sous 30 jours, for the persons the professional follows."""
    pro = professional_or_404(request)
    mine = list(
        visible_persons(pro)
        .filter(referents__professional_id=pro.user_id, referents__until__isnull=True)
        .values_list("pk", flat=True)[:2000]
    )
    readable = readable_categories_by_person(pro, mine)
    documents = [
        document
        for document in Document.objects.expiring(within_days=30)
        .filter(person_id__in=mine)
        .select_related("person")
        .order_by("expires_on")[:500]
        if document.category in readable.get(document.person_id, set())
    ]
    record_list_view(
        request,
        pro,
        [(document.person, document.category) for document in documents],
        "pieces_a_renouveler",
    )
    return render(
        request,
        "documents/expiring.html",
        {"title": "Pièces à renouveler", "documents": documents, "today": timezone.localdate()},
    )
