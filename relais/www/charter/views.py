from collections import Counter

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from relais.accounts.actors import actor_for, platform_actor
from relais.accounts.decorators import charter_exempt, pilot_required
from relais.consent.charter import (
    COMMITMENTS_MAX_LENGTH,
    charter_accept,
    charter_publish,
    charter_refuse,
    commitments_cleaned,
    commitments_errors,
    current_matrix,
    current_version,
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


@pilot_required
@require_http_methods(["GET", "POST"])
def charter_edit(request: HttpRequest) -> HttpResponse:
    """The pilot edits the matrix for one kind of organisation and the commitments, and
    publishes a version. A refused publication answers 400 and shows again the levels, the
    commitments and the summary typed."""
    matrix = current_matrix()
    in_force = current_version()
    commitments = in_force.commitments
    kind = (request.POST if request.method == "POST" else request.GET).get("type", "")
    typed: dict[str, str] = {}
    # Each refusal with the id of the field it is about, for the summary to lead there.
    errors: list[tuple[str, str]] = []
    status = 200
    if request.method == "POST":
        if kind not in OrganisationKind.values:
            errors.append(("Type de structure inconnu : choisissez-en un dans la liste.", "type"))
        levels = dict(matrix)
        missing: Counter[str] = Counter()
        for profession in Profession:
            for category in DataCategory.values:
                name = f"{profession.value}__{category}"
                value = request.POST.get(name, "")
                if value in Level.values:
                    levels[(kind, profession.value, category)] = value
                    typed[name] = value
                else:
                    missing[profession.label] += 1
        if missing:
            message = (
                "Niveau d'accès manquant ou inconnu pour : "
                + ", ".join(
                    f"{label} ({count} catégorie{pluralize(count)})"
                    for label, count in missing.items()
                )
                + "."
            )
            errors.append((message, GRID_ID))
        if not missing:
            errors.extend((error, GRID_ID) for error in _rights_without_identity(kind, levels))
        commitments = commitments_cleaned(request.POST.get("commitments", ""))
        errors.extend((error, "commitments") for error in commitments_errors(commitments))
        summary = request.POST.get("summary", "").strip()
        if not summary:
            errors.append(("Décrivez en une phrase ce qui change dans cette version.", "summary"))
        elif "\x00" in summary:
            errors.append(
                ("Le résumé contient un caractère invisible interdit : récrivez-le.", "summary")
            )
        elif len(summary) > SUMMARY_MAX_LENGTH:
            errors.append(
                (
                    f"Le résumé dépasse {SUMMARY_MAX_LENGTH} caractères : raccourcissez-le.",
                    "summary",
                )
            )
        edited_from = posted_id(request.POST.get("version", ""))
        if edited_from is None:
            errors.append(("La version modifiée manque : rechargez la page.", GRID_ID))
        elif (
            edited_from == in_force.number
            and not missing
            and levels == matrix
            and commitments == in_force.commitments
        ):
            # Every professional would be asked to accept it again for nothing.
            errors.append(
                (
                    "La grille ne change aucun droit et le texte des engagements est celui de "
                    f"la version {edited_from} : rien n'est publié, et les professionnels "
                    "n'ont pas à l'accepter de nouveau.",
                    GRID_ID,
                )
            )
        if not errors:
            try:
                version = charter_publish(
                    levels=levels,
                    summary=summary,
                    by=platform_actor(request),
                    commitments=commitments,
                    edited_from=edited_from,
                )
            except ValidationError as error:
                errors.extend((message, GRID_ID) for message in error.messages)
                # The page shows the version published meanwhile, not the typed levels and
                # commitments: published again as typed, they would overwrite it unseen.
                typed = {}
                commitments = in_force.commitments
            else:
                messages.success(
                    request,
                    f"La version {version.number} est publiée : chaque professionnel "
                    "l'acceptera à sa prochaine action.",
                )
                return redirect(f"{request.path}?type={kind}")
        status = 400
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
        "commitments": commitments,
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
