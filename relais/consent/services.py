"""Writes on consents, blocks, break-glass grants, and the operations that open or merge
files (they record consent in the same transaction)."""

import calendar
import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import Event, audit_record, audit_record_many
from relais.consent.access import FileAccess, Professional, file_access
from relais.consent.models import (
    Block,
    BreakGlassGrant,
    Consent,
    ConsentDuration,
    ConsentMethod,
)
from relais.documents.models import Document
from relais.notifications.sms import SmsError, send_sms
from relais.organisations.models import Membership, Role
from relais.persons.categories import DataCategory
from relais.persons.models import Person, PersonStatus
from relais.persons.services import (
    contact_record,
    nirs_differ,
    person_absorb,
    person_create,
    record_on_file,
    referent_add,
)
from relais.persons.validators import mobile_number
from relais.portal.models import PersonAccount
from relais.portal.services import person_account_close_merged
from relais.procedures.models import Procedure

logger = logging.getLogger(__name__)

BREAK_GLASS_MIN_REASON = 20
# Only characters of the GSM alphabet, one SMS long; no name, reason or number: who and why
# are read in the person's space, behind her login, or asked of who accompanies her.
BREAK_GLASS_SMS = (
    "Relais : une structure a ouvert votre dossier en urgence, sans votre accord. "
    "Pour savoir qui et pourquoi : votre espace Relais, ou votre accompagnant(e)."
)
CODE_SESSION_KEY = "relais_consent_code"


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def consent_expiry(starts_at: datetime, duration: str) -> datetime:
    if duration == ConsentDuration.DAY:
        return starts_at + timedelta(days=1)
    months = {ConsentDuration.MONTH: 1, ConsentDuration.SIX_MONTHS: 6, ConsentDuration.YEAR: 12}
    if duration not in months:
        raise ValidationError(
            {"duration": "Choisissez une durée : 1 jour, 1 mois, 6 mois ou 1 an."}
        )
    # Months of the French calendar the person reads: counted in local time, not in UTC,
    # where a consent given just after midnight still falls on the day before.
    return _add_months(timezone.localtime(starts_at), months[ConsentDuration(duration)])


def _clean_categories(categories: list[str]) -> list[str]:
    """Known categories only; identity always comes with any consent, since no other data
    can be shared without knowing whose it is."""
    asked = set(categories)
    if not asked or not asked <= set(DataCategory.values):
        raise ValidationError(
            {"categories": "Cochez au moins une catégorie de données parmi celles proposées."}
        )
    asked.add(DataCategory.IDENTITY)
    return [c for c in DataCategory.values if c in asked]


def consent_grant(
    *,
    person: Person,
    organisation_id: int,
    professional_id: int | None,
    categories: list[str],
    purpose: str,
    duration: str,
    method: str,
    recorded_by_id: int | None,
    by: Actor,
) -> Consent:
    if method not in ConsentMethod.values:
        raise ValidationError({"method": "Indiquez comment le consentement a été recueilli."})
    starts_at = timezone.now()
    consent = Consent(
        person=person,
        organisation_id=organisation_id,
        professional_id=professional_id,
        categories=_clean_categories(categories),
        purpose=purpose.strip(),
        duration=duration,
        method=method,
        starts_at=starts_at,
        expires_at=consent_expiry(starts_at, duration),
        recorded_by_id=recorded_by_id,
    )
    consent.full_clean()
    with transaction.atomic():
        # The same agreement recorded twice the same day is a form sent twice. The person's
        # row, locked, keeps two such forms from both passing.
        Person.objects.select_for_update().only("pk").get(pk=person.pk)
        if _recorded_today(consent):
            raise ConsentRecordedToday
        consent.save()
        contact_record(person.pk)
        record_on_file(
            AuditAction.CONSENT_GRANTED,
            person=person,
            by=by,
            object_type="consentement",
            object_id=consent.pk,
            details={
                "structure_id": organisation_id,
                "categories": ", ".join(consent.categories),
                "duree": duration,
                "recueil": method,
            },
        )
    return consent


class ConsentRecordedToday(ValidationError):
    """The same consent was recorded today already: a form sent twice."""

    def __init__(self) -> None:
        super().__init__(
            "Ce consentement est déjà enregistré aujourd'hui, pour cette structure et ces "
            "catégories : il figure dans la liste des consentements."
        )


def _recorded_today(consent: Consent) -> bool:
    today = timezone.localdate(consent.starts_at)
    return any(
        sorted(other.categories) == sorted(consent.categories)
        and timezone.localdate(other.starts_at) == today
        for other in Consent.objects.filter(
            person=consent.person,
            organisation_id=consent.organisation_id,
            professional_id=consent.professional_id,
            duration=consent.duration,
            revoked_at__isnull=True,
            starts_at__gte=consent.starts_at - timedelta(days=1),
        )
    )


def consent_revoke(*, consent: Consent, by: Actor) -> None:
    with transaction.atomic():
        # Read again under lock: a withdrawal sent twice (a double tap) is recorded once.
        if not Consent.objects.select_for_update().filter(pk=consent.pk, revoked_at=None).exists():
            raise ValidationError("Ce consentement est déjà retiré.")
        consent.revoked_at = timezone.now()
        consent.revoked_by_label = by.label
        consent.save(update_fields=["revoked_at", "revoked_by_label"])
        record_on_file(
            AuditAction.CONSENT_REVOKED,
            person=consent.person,
            by=by,
            object_type="consentement",
            object_id=consent.pk,
        )


def _code_digest(code: str, person_id: int) -> str:
    return hashlib.sha256(f"{person_id}:{code}".encode()).hexdigest()


def consent_code_send(*, person: Person, session: SessionBase, by: Actor) -> None:
    """Send a one-time code to the person's phone; they read it back to the professional."""
    if not person.phone:
        raise ValidationError("Aucun numéro de téléphone n'est enregistré pour cette personne.")
    to = mobile_number(person.phone)
    if to is None:
        raise ValidationError(
            "Le numéro enregistré n'est pas celui d'un portable : le code ne peut pas partir "
            "par SMS. Recueillez l'accord signé sur place."
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    expires = timezone.now() + settings.RELAIS_CONSENT_CODE_VALIDITY
    session[CODE_SESSION_KEY] = {
        "person": person.pk,
        "digest": _code_digest(code, person.pk),
        "expires": expires.timestamp(),
        "attempts": 0,
    }
    try:
        send_sms(
            to=to,
            body=f"Relais : votre code d'accord est {code}. Donnez-le seulement au "
            "professionnel qui vous accompagne.",
        )
    except (SmsError, OSError) as error:
        session.pop(CODE_SESSION_KEY, None)
        logger.warning("Envoi d'un code d'accord impossible : %s", type(error).__name__)
        raise ValidationError(
            "Le SMS n'a pas pu partir. Réessayez dans quelques minutes, ou recueillez l'accord "
            "signé sur place."
        ) from error
    record_on_file(
        AuditAction.CONSENT_CODE_SENT,
        person=person,
        by=by,
    )


def consent_code_check(*, person: Person, session: SessionBase, code: str) -> bool:
    pending: dict[str, Any] | None = session.get(CODE_SESSION_KEY)
    if not pending or pending["person"] != person.pk:
        return False
    if pending["expires"] < timezone.now().timestamp() or pending["attempts"] >= 5:
        session.pop(CODE_SESSION_KEY, None)
        return False
    if secrets.compare_digest(pending["digest"], _code_digest(code.strip(), person.pk)):
        session.pop(CODE_SESSION_KEY, None)
        return True
    pending["attempts"] += 1
    session[CODE_SESSION_KEY] = pending
    return False


def file_open(
    *,
    identity: dict[str, Any],
    nir: str,
    pro: Professional,
    categories: list[str],
    purpose: str,
    duration: str,
    method: str,
    by: Actor,
) -> Person:
    """Create a file in the professional's organisation: the person's consent to it and
    the professional as referent are recorded in the same transaction."""
    with transaction.atomic():
        person = person_create(
            identity=identity, nir=nir, organisation_id=pro.organisation_id, by=by
        )
        consent_grant(
            person=person,
            organisation_id=pro.organisation_id,
            professional_id=None,
            categories=categories,
            purpose=purpose,
            duration=duration,
            method=method,
            recorded_by_id=pro.user_id,
            by=by,
        )
        referent_add(
            person=person,
            organisation_id=pro.organisation_id,
            professional_id=pro.user_id,
            by=by,
        )
    return person


class AlreadyBlocked(ValidationError):
    """The same block is in force already: a form sent twice."""


def block_add(
    *, person: Person, organisation_id: int | None, professional_id: int | None, by: Actor
) -> Block:
    block = Block(
        person=person,
        organisation_id=organisation_id,
        professional_id=professional_id,
        created_by_label=by.label,
    )
    block.full_clean()
    with transaction.atomic():
        # The same block twice (a form sent twice) would leave one standing once the other
        # is lifted. The person's row, locked, keeps two such forms from both passing.
        Person.objects.select_for_update().only("pk").get(pk=person.pk)
        same = (
            Q(organisation_id=organisation_id)
            if organisation_id
            else Q(professional_id=professional_id)
        )
        if Block.objects.active().filter(same, person=person).exists():
            raise AlreadyBlocked(
                "Cette structure est déjà bloquée."
                if organisation_id
                else "Ce professionnel est déjà bloqué."
            )
        block.save()
        record_on_file(
            AuditAction.BLOCK_ADDED,
            person=person,
            by=by,
            object_type="structure" if organisation_id else "utilisateur",
            object_id=organisation_id or professional_id or "",
        )
    return block


def blocked_colleagues(*, professional_ids: Iterable[int], organisation_id: int | None) -> set[int]:
    """Of these blocked professionals, those who work for `organisation_id`: their block
    is not lifted by a colleague on their own word, only by the person's own act."""
    ids = [pk for pk in professional_ids if pk]
    if not ids or organisation_id is None:
        return set()
    return set(
        Membership.objects.active()
        .filter(organisation_id=organisation_id, user_id__in=ids)
        .values_list("user_id", flat=True)
    )


def block_lift(*, block: Block, by: Actor, confirmed_by_code: bool = False) -> None:
    """Lift a block, the person present or in their own space. A block against a
    professional lifted from that professional's organisation needs the code sent to the
    person's phone (`confirmed_by_code`)."""
    if not confirmed_by_code and blocked_colleagues(
        professional_ids=[block.professional_id or 0], organisation_id=by.organisation_id
    ):
        raise ValidationError(
            "Ce blocage vise un professionnel de votre structure : la personne le lève depuis "
            "son espace, ou en vous lisant le code envoyé sur son portable."
        )
    with transaction.atomic():
        if not Block.objects.active().select_for_update().filter(pk=block.pk).exists():
            raise ValidationError("Ce blocage est déjà levé.")
        block.lifted_at = timezone.now()
        block.save(update_fields=["lifted_at"])
        record_on_file(
            AuditAction.BLOCK_LIFTED,
            person=block.person,
            by=by,
            object_type="blocage",
            object_id=block.pk,
            details={"par_code": True} if confirmed_by_code else None,
        )


def break_glass_preference_set(*, person: Person, refuses: bool, by: Actor) -> None:
    """Record the person's choice on break-glass; refused once the file has been merged or
    archived since the page read it: the choice would stay on a file nobody opens."""
    with transaction.atomic():
        if not Person.objects.active().filter(pk=person.pk).update(refuses_break_glass=refuses):
            raise ValidationError(
                "Ce dossier n'est plus actif : il a été fusionné ou archivé entre-temps. "
                "Le choix n'est pas enregistré."
            )
        person.refuses_break_glass = refuses
        record_on_file(
            AuditAction.BREAK_GLASS_PREFERENCE,
            person=person,
            by=by,
            details={"refuse": refuses},
        )


def _notify_managers(*, organisation_id: int, organisation_name: str, opened_at: datetime) -> None:
    emails = list(
        Membership.objects.active()
        .filter(organisation_id=organisation_id, role=Role.MANAGER, user__is_active=True)
        .values_list("user__email", flat=True)
    )
    if not emails:
        return
    # No name, no reason, no file number: the manager reads them in the journal, behind
    # the login, which the link opens on the exceptional accesses. Sent once the access
    # is committed: a mail server that fails is logged, and the professional still gets
    # the file they opened, not an error page.
    journal = reverse("journal:list") + "?" + urlencode({"action": AuditAction.BREAK_GLASS_OPENED})
    moment = timezone.localtime(opened_at)
    try:
        send_mail(
            subject="Relais : un accès exceptionnel a été ouvert dans votre structure",
            message=(
                f"Bonjour,\n\nUn professionnel de votre structure « {organisation_name} » a "
                f"ouvert un dossier par accès exceptionnel le {moment:%d/%m/%Y à %H:%M}.\n\n"
                "Le professionnel, le motif et le dossier concerné figurent dans le journal des "
                "accès de votre structure, réservé à ses responsables. Pour les lire, "
                "connectez-vous à Relais :\n"
                f"{settings.RELAIS_PUBLIC_URL}{journal}\n"
            ),
            from_email=None,
            recipient_list=emails,
        )
    except OSError as error:
        logger.warning(
            "Avis d'accès exceptionnel aux responsables impossible : %s", type(error).__name__
        )


def _tell_person(person: Person) -> None:
    """Tell the person by SMS that her file was opened without her consent, as she is told
    of a change to her space: on the phone of her space, else the mobile of her file. Sent
    right after the commit, like the managers' e-mail; a failure is logged without the
    number, and the professional still gets the file."""
    space_phone = (
        PersonAccount.objects.active()
        .filter(person=person, phone__isnull=False)
        .values_list("phone", flat=True)
        .first()
    )
    to = space_phone or mobile_number(person.phone)
    if to is None:
        return
    try:
        send_sms(to=to, body=BREAK_GLASS_SMS)
    except (SmsError, OSError) as error:
        logger.warning(
            "Avis d'accès exceptionnel à la personne impossible : %s", type(error).__name__
        )


def break_glass_open(
    *, person: Person, pro: Professional, reason: str, by: Actor
) -> BreakGlassGrant:
    """Open a file read-only for a limited time, without consent, for a written reason."""
    reason = reason.strip()
    if len(reason) < BREAK_GLASS_MIN_REASON:
        raise ValidationError(
            {"reason": f"Expliquez le motif en {BREAK_GLASS_MIN_REASON} caractères au moins."}
        )
    blocked = (
        Block.objects.active()
        .against(organisation_id=pro.organisation_id, user_id=pro.user_id)
        .filter(person=person)
        .exists()
    )
    if person.refuses_break_glass or blocked or person.status != PersonStatus.ACTIVE:
        # On the file, for the person's history, but by its number only: the journal of the
        # professional's organisation, which its manager reads, must tell no more than the
        # form did (the same words whether a file matched or not).
        audit_record(
            action=AuditAction.BREAK_GLASS_REFUSED, by=by, person_id=person.pk, reason=reason
        )
        raise ValidationError(
            "La personne a refusé les accès exceptionnels à son dossier : seul son accord "
            "permet de l'ouvrir."
        )
    now = timezone.now()
    with transaction.atomic():
        # The same form sent twice opens one access, not two, and tells the managers once;
        # a new reason opens a new access. The person's row, locked, keeps two such forms
        # from both passing.
        Person.objects.select_for_update().only("pk").get(pk=person.pk)
        live = (
            BreakGlassGrant.objects.live(now)
            .filter(
                person=person,
                professional_id=pro.user_id,
                organisation_id=pro.organisation_id,
                reason=reason,
            )
            .first()
        )
        if live is not None:
            return live
        grant = BreakGlassGrant.objects.create(
            person=person,
            professional_id=pro.user_id,
            organisation_id=pro.organisation_id,
            reason=reason,
            opened_at=now,
            expires_at=now + settings.RELAIS_BREAK_GLASS_DURATION,
        )
        record_on_file(
            AuditAction.BREAK_GLASS_OPENED,
            person=person,
            by=by,
            reason=reason,
            object_type="acces_exceptionnel",
            object_id=grant.pk,
            details={"jusqua": grant.expires_at.isoformat()},
        )
        transaction.on_commit(
            lambda: _notify_managers(
                organisation_id=pro.organisation_id,
                organisation_name=by.organisation_label,
                opened_at=now,
            )
        )
        transaction.on_commit(lambda: _tell_person(person))
    return grant


def break_glass_unmatched(*, reason: str, by: Actor) -> None:
    """Journal a request for exceptional access that matched no single file as a refused
    one: the organisation's journal then reads the same whether the person has a file
    that refused it or no file at all (a row on a file names the actor's profession: so
    does this one)."""
    audit_record(
        action=AuditAction.BREAK_GLASS_REFUSED,
        by=by,
        reason=reason.strip(),
        details={"profession": by.profession} if by.profession else None,
    )


def section_viewed(*, access: FileAccess, category: str, by: Actor) -> None:
    """One journal row per category shown on a page."""
    grant = access.break_glass
    record_on_file(
        AuditAction.SECTION_VIEWED,
        person=access.person,
        by=by,
        category=category,
        reason=grant.reason if grant else "",
        details={"exceptionnel": grant is not None},
    )


def lists_viewed(
    *, pro: Professional, shown: Iterable[tuple[Person, str]], listing: str, by: Actor
) -> None:
    """A list across files (« Mes démarches », « Pièces à renouveler ») shows a category of
    each file it names: one journal row per file and category shown, as a file's page writes
    them, each under the exceptional access the file is read by, if it is; all in one
    transaction."""
    rows = {(person.pk, category): person for person, category in shown}
    if not rows:
        return
    # A file is read under an exceptional access only where the rule says so (no consent
    # to the organisation, no refusal): asked of the rule for the few files with a grant.
    granted = set(
        BreakGlassGrant.objects.live()
        .filter(
            person_id__in={person_id for person_id, _ in rows},
            professional_id=pro.user_id,
            organisation_id=pro.organisation_id,
        )
        .values_list("person_id", flat=True)
    )
    grants = {person_id: file_access(pro, person_id).break_glass for person_id in granted}
    events = []
    for (person_id, category), person in rows.items():
        grant = grants.get(person_id)
        events.append(
            Event(
                AuditAction.SECTION_VIEWED,
                person_id=person_id,
                person_label=person.journal_label,
                category=category,
                reason=grant.reason if grant else "",
                details={"exceptionnel": grant is not None, "liste": listing},
            )
        )
    audit_record_many(events, by=by)


NIRS_DIFFER = (
    "Ces deux dossiers ont chacun un numéro de sécurité sociale, et ce n'est pas le même : "
    "ce sont deux personnes différentes. Ils ne peuvent pas être fusionnés."
)


def persons_merge(*, keep: Person, absorb: Person, by: Actor) -> None:
    """Merge a duplicate into the file kept: everything moves, once (see person_absorb),
    the duplicate is archived and points to the file kept. The duplicate's own space is
    closed, not moved (see person_account_close_merged). SectionsDisagree if the two
    files say different things in a section of one object, a ValidationError if they hold
    two different NIRs (two persons): nothing is merged."""
    if keep.pk == absorb.pk:
        raise ValidationError("Choisissez deux dossiers différents.")
    with transaction.atomic():
        # Read again under lock: an edit saved since the page was read is kept.
        keep, absorb = (
            Person.objects.select_for_update().get(pk=keep.pk),
            Person.objects.select_for_update().get(pk=absorb.pk),
        )
        if keep.status != PersonStatus.ACTIVE or absorb.status != PersonStatus.ACTIVE:
            raise ValidationError("Un des deux dossiers n'est plus actif : rien n'est fusionné.")
        if nirs_differ(keep, absorb):
            raise ValidationError(NIRS_DIFFER)
        for model in (Consent, Block, BreakGlassGrant, Document, Procedure):
            model.objects.filter(person=absorb).update(person=keep)
        # Archived first: the NIR the file kept may take from it is one active file's only.
        absorb.status = PersonStatus.ARCHIVED
        absorb.archived_at = timezone.now()
        absorb.merged_into = keep
        absorb.save(update_fields=["status", "archived_at", "merged_into"])
        moved = person_absorb(keep=keep, absorb=absorb)
        person_account_close_merged(absorbed=absorb, by=by)
        record_on_file(
            AuditAction.PERSONS_MERGED,
            person=keep,
            by=by,
            object_type="personne",
            object_id=absorb.pk,
            details=moved,
        )
