from collections import Counter
from dataclasses import dataclass, field, replace

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for, platform_actor
from relais.accounts.decorators import charter_exempt, pilot_required
from relais.consent.charter import (
    COMMITMENTS_MAX_LENGTH,
    PUBLISHED_MEANWHILE,
    charter_accept,
    charter_publish,
    charter_refuse,
    commitments_cleaned,
    commitments_errors,
    current_matrix,
    current_version,
    forget_current_version,
    levels_for,
    rights_accepted,
    version_changes,
)
from relais.consent.middleware import ACCEPTED_VERSION, accepted_mark
from relais.consent.models import CharterVersion
from relais.organisations.models import Membership, OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from relais.www.forms import posted_id
from relais.www.next_page import same_site_path

# The length the summary field of the page allows.
SUMMARY_MAX_LENGTH = 300
# The id of the editor's grid of rights, where a refusal about the rights leads.
GRID_ID = "grille"
# What the confirmation page's two buttons send: publish what it showed, or edit it again.
STEP_PUBLISH = "publier"
STEP_BACK = "modifier"
REFUSED_MESSAGE = (
    "Vous n'avez pas accepté la charte d'usages : vous êtes déconnecté(e). Sans l'accepter, "
    "vous ne pouvez ouvrir aucun dossier{where}. Parlez-en au responsable de votre structure ; "
    "vous pourrez accepter la charte à votre prochaine connexion."
)


@charter_exempt
@require_http_methods(["GET", "POST"])
def charter(request: HttpRequest) -> HttpResponse:
    """The charter as it applies to the professional in each of their organisations, and
    its acceptance: of the version and the rights the page showed, refused if either
    changed while it was read."""
    version = current_version()
    membership = getattr(request, "membership", None)
    if membership is None:
        return _charter_page(request, version, [])
    memberships = _memberships(request)
    if request.method == "POST":
        error = _changed_while_read(request, version, memberships)
        if error:
            return _charter_page(request, version, memberships, error=error, status=400)
        charter_accept(user_id=request.user.pk, version=version, by=actor_for(request))
        request.session[ACCEPTED_VERSION] = accepted_mark(version, membership)
        messages.success(
            request, f"Vous avez accepté la charte d'usages (version {version.number})."
        )
        return redirect(same_site_path(request, request.POST.get("next", "")) or "www:home")
    return _charter_page(request, version, memberships)


@charter_exempt
@require_POST
def charter_refusal(request: HttpRequest) -> HttpResponse:
    """« Je n'accepte pas »: the professional is logged out rather than sent back to the
    charter on every page, and told why and whom to talk to. Refused, with the page shown
    again, if the version or the rights changed while it was read: the refusal names what
    was read."""
    if getattr(request, "membership", None) is None:
        return redirect("consent:charter")
    version = current_version()
    memberships = _memberships(request)
    error = _changed_while_read(request, version, memberships)
    if error:
        return _charter_page(request, version, memberships, error=error, status=400)
    if not charter_refuse(user_id=request.user.pk, version=version, by=actor_for(request)):
        return redirect("consent:charter")
    where = _closed_where(memberships, rights_accepted(request.user.pk, version))
    logout(request)
    messages.warning(request, REFUSED_MESSAGE.format(where=where))
    return redirect("accounts:login")


def _closed_where(memberships: list[Membership], accepted: set[tuple[str, str]]) -> str:
    """Where a refusal closes the files, when the professional accepted the charter as it
    applies in some of their organisations: there, they still work once logged in again."""
    closed = [m for m in memberships if (m.organisation.kind, m.profession) not in accepted]
    if len(closed) == len(memberships):
        return ""
    return " pour " + ", ".join(m.organisation.name for m in closed)


def _memberships(request: HttpRequest) -> list[Membership]:
    return list(
        Membership.objects.active()
        .filter(user_id=request.user.pk)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def _rights(memberships: list[Membership]) -> list[str]:
    """The (kind, profession) pairs of `memberships`, as the page sends them back."""
    return sorted({f"{m.organisation.kind}/{m.profession}" for m in memberships})


def _changed_while_read(
    request: HttpRequest, version: CharterVersion, memberships: list[Membership]
) -> str:
    if request.POST.get("version") != str(version.number):
        return f"La charte a changé pendant votre lecture : relisez la version {version.number}."
    if sorted(request.POST.getlist("droits")) != _rights(memberships):
        return "Vos rattachements ont changé pendant votre lecture : relisez vos droits."
    return ""


def _charter_page(
    request: HttpRequest,
    version: CharterVersion,
    memberships: list[Membership],
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    sections = []
    for membership in memberships:
        levels = levels_for(membership.organisation.kind, membership.profession, version)
        rows = [(category.label, Level(levels[category]).label) for category in DataCategory]
        sections.append((membership.organisation.name, membership.profession_label, rows))
    accepted = rights_accepted(request.user.pk, version) if memberships else set()
    context = {
        "title": "Charte d'usages",
        "version": version,
        "sections": sections,
        "rights": _rights(memberships),
        "accepted": bool(memberships)
        and all((m.organisation.kind, m.profession) in accepted for m in memberships),
        "closed_where": _closed_where(memberships, accepted),
        "error": error,
        "next": (request.POST if request.method == "POST" else request.GET).get("next", ""),
    }
    return render(request, "charter/charter.html", context, status=status)


def _rights_without_identity(kind: str, levels: dict[tuple[str, str, str], str]) -> list[str]:
    """A profession whose identity the grid closes while it opens another category: every
    page of a file and every list names the person, so no file opens to them and those
    rights would do nothing. The access rule reads such a grid safely; the pilot who wrote
    it meant something else."""
    unused = [
        profession.label
        for profession in Profession
        if levels[(kind, profession.value, DataCategory.IDENTITY)] == Level.NONE
        and any(
            levels[(kind, profession.value, category)] != Level.NONE for category in DataCategory
        )
    ]
    if not unused:
        return []
    return [
        "Sans l'identité, aucun dossier ne s'ouvre : les autres droits seraient sans effet pour "
        f"{', '.join(unused)}. Ouvrez l'identité en lecture, ou fermez aussi les autres "
        "catégories."
    ]


@dataclass
class _Edit:
    """The editor's form as posted: the kind of organisation, the whole matrix with that
    kind's levels as typed, the commitments and the summary, the version they were typed
    over, and each refusal with the id of the field it is about."""

    kind: str
    levels: dict[tuple[str, str, str], str]
    typed: dict[str, str]
    commitments: str
    summary: str
    edited_from: int | None
    errors: list[tuple[str, str]] = field(default_factory=list)


def _posted_edit(
    post: QueryDict, in_force: CharterVersion, matrix: dict[tuple[str, str, str], str]
) -> _Edit:
    """The editor's form read and checked whole, as the editor sends it and as the
    confirmation page sends it back in hidden fields: both are checked alike."""
    kind = post.get("type", "")
    edit = _Edit(
        kind=kind,
        levels=dict(matrix),
        typed={},
        commitments=commitments_cleaned(post.get("commitments", "")),
        summary=post.get("summary", "").strip(),
        edited_from=posted_id(post.get("version", "")),
    )
    errors = edit.errors
    if kind not in OrganisationKind.values:
        errors.append(("Type de structure inconnu : choisissez-en un dans la liste.", "type"))
    missing: Counter[str] = Counter()
    for profession in Profession:
        for category in DataCategory.values:
            name = f"{profession.value}__{category}"
            value = post.get(name, "")
            if value in Level.values:
                edit.levels[(kind, profession.value, category)] = value
                edit.typed[name] = value
            else:
                missing[profession.label] += 1
    if missing:
        message = (
            "Niveau d'accès manquant ou inconnu pour : "
            + ", ".join(
                f"{label} ({count} catégorie{pluralize(count)})" for label, count in missing.items()
            )
            + "."
        )
        errors.append((message, GRID_ID))
    else:
        errors.extend((error, GRID_ID) for error in _rights_without_identity(kind, edit.levels))
    errors.extend((error, "commitments") for error in commitments_errors(edit.commitments))
    if not edit.summary:
        errors.append(("Décrivez en une phrase ce qui change dans cette version.", "summary"))
    elif "\x00" in edit.summary:
        errors.append(
            ("Le résumé contient un caractère invisible interdit : récrivez-le.", "summary")
        )
    elif len(edit.summary) > SUMMARY_MAX_LENGTH:
        errors.append(
            (f"Le résumé dépasse {SUMMARY_MAX_LENGTH} caractères : raccourcissez-le.", "summary")
        )
    if edit.edited_from is None:
        errors.append(("La version modifiée manque : rechargez la page.", GRID_ID))
    elif (
        edit.edited_from == in_force.number
        and not missing
        and edit.levels == matrix
        and edit.commitments == in_force.commitments
    ):
        # Every professional would be asked to accept it again for nothing.
        errors.append(
            (
                "La grille ne change aucun droit et le texte des engagements est celui de "
                f"la version {edit.edited_from} : rien n'est publié, et les professionnels "
                "n'ont pas à l'accepter de nouveau.",
                GRID_ID,
            )
        )
    return edit


@pilot_required
@require_http_methods(["GET", "POST"])
def charter_edit(request: HttpRequest) -> HttpResponse:
    """The pilot edits the matrix for one kind of organisation and the commitments; a
    valid form leads to a confirmation page that says what the new version changes and
    publishes nothing. Only its « Publier » publishes, the very form it showed, checked
    again whole; « Revenir à la modification » shows the editor filled as typed. A refused
    form answers 400 and shows again the levels, the commitments and the summary typed."""
    # Compared with the version in the database, not with one this process read earlier.
    forget_current_version()
    in_force = current_version()
    matrix = current_matrix()
    if request.method == "GET":
        return _editor_page(request, in_force, matrix, kind=request.GET.get("type", ""))
    edit = _posted_edit(request.POST, in_force, matrix)
    if edit.edited_from is not None and edit.edited_from != in_force.number:
        # What the pages would say changes is measured from the version typed over.
        return _overtaken(request, edit, [PUBLISHED_MEANWHILE.format(number=in_force.number)])
    step = request.POST.get("etape", "")
    if step == STEP_BACK:
        return _editor_page(request, in_force, matrix, edit=replace(edit, errors=[]))
    if edit.errors:
        return _editor_page(request, in_force, matrix, edit=edit, status=400)
    if step != STEP_PUBLISH:
        return _confirmation_page(request, in_force, matrix, edit)
    try:
        version = charter_publish(
            levels=edit.levels,
            summary=edit.summary,
            by=platform_actor(request),
            commitments=edit.commitments,
            edited_from=edit.edited_from,
        )
    except ValidationError as error:
        return _overtaken(request, edit, error.messages)
    messages.success(
        request,
        f"La version {version.number} est publiée : chaque professionnel l'acceptera à sa "
        "prochaine action.",
    )
    return redirect(f"{request.path}?type={edit.kind}")


def _overtaken(request: HttpRequest, edit: _Edit, errors: list[str]) -> HttpResponse:
    """The editor refusing a form typed over a version that another one followed: it shows
    the levels and commitments of the version now in force, not those typed, which,
    published again as typed, would overwrite it unseen."""
    forget_current_version()
    in_force = current_version()
    edit = replace(
        edit,
        typed={},
        commitments=in_force.commitments,
        errors=[(error, GRID_ID) for error in errors],
    )
    return _editor_page(request, in_force, current_matrix(), edit=edit, status=400)


def _editor_page(
    request: HttpRequest,
    in_force: CharterVersion,
    matrix: dict[tuple[str, str, str], str],
    *,
    kind: str = "",
    edit: _Edit | None = None,
    status: int = 200,
) -> HttpResponse:
    typed = edit.typed if edit else {}
    errors = edit.errors if edit else []
    kind = edit.kind if edit else kind
    if kind not in OrganisationKind.values:
        kind = OrganisationKind.CCAS
    grid = []
    for profession in Profession:
        cells = []
        for category in DataCategory:
            name = f"{profession.value}__{category.value}"
            cells.append((category, name, typed.get(name, matrix[(kind, profession, category)])))
        grid.append((profession, cells))
    changes = version_changes(in_force, kind)
    context = {
        "title": "Modifier la charte d'usages",
        "errors": errors,
        "refused_fields": {target for _, target in errors},
        "grid_id": GRID_ID,
        "kind": kind,
        "kind_label": OrganisationKind(kind).label,
        "kinds": OrganisationKind.choices,
        "categories": list(DataCategory),
        "grid": grid,
        "levels": Level.choices,
        "summary": request.POST.get("summary", ""),
        "commitments": edit.commitments if edit else in_force.commitments,
        "commitments_max_length": COMMITMENTS_MAX_LENGTH,
        "version": in_force,
        "first_version": changes is None,
        "commitments_changed": changes is not None and changes.commitments,
        "changes": [
            (
                Profession(profession).label,
                DataCategory(category).label,
                Level(old).label,
                Level(new).label,
            )
            for profession, category, old, new in (changes.rights if changes else [])
        ],
    }
    return render(request, "charter/charter_edit.html", context, status=status)


def _confirmation_page(
    request: HttpRequest,
    in_force: CharterVersion,
    matrix: dict[tuple[str, str, str], str],
    edit: _Edit,
) -> HttpResponse:
    """What the version would change from the one in force, before anything is published;
    its form sends back, hidden, the very form that was checked."""
    rights = []
    for profession in Profession:
        cells = [
            (category.label, Level(matrix[cell]).label, Level(edit.levels[cell]).label)
            for category in DataCategory
            if edit.levels[cell := (edit.kind, profession.value, category.value)] != matrix[cell]
        ]
        if cells:
            rights.append((profession.label, cells))
    number = in_force.number + 1
    context = {
        "title": f"Publier la version {number} de la charte d'usages",
        "number": number,
        "version": in_force,
        "kind": edit.kind,
        "kind_label": OrganisationKind(edit.kind).label,
        "rights": rights,
        "commitments_changed": edit.commitments != in_force.commitments,
        "commitments": edit.commitments,
        "summary": edit.summary,
        "typed": sorted(edit.typed.items()),
        "step_publish": STEP_PUBLISH,
        "step_back": STEP_BACK,
    }
    return render(request, "charter/charter_publish_confirm.html", context)
