"""Writes about organisations, memberships and invitations."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from relais.accounts.models import User
from relais.accounts.services import has_second_factor, second_factor_reset, security_stamp_raise
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import audit_record
from relais.organisations.models import (
    SECTOR_OF_KIND,
    Invitation,
    Membership,
    Organisation,
    Profession,
    Role,
)
from relais.organisations.tasks import send_invitation_email
from relais.organisations.tokens import invitation_token, token_hash
from relais.organisations.validators import departement_of
from relais.persons.models import Referent
from relais.persons.services import referent_remove


def organisation_create(
    *,
    name: str,
    siret: str,
    kind: str,
    commune_code: str,
    commune_name: str = "",
    territory: str = "",
    by: Actor,
) -> Organisation:
    organisation = Organisation(
        name=name.strip(),
        siret=siret.replace(" ", ""),
        kind=kind,
        commune_code=commune_code.strip().upper(),
        commune_name=commune_name.strip(),
        territory=territory.strip(),
    )
    _derive(organisation)
    organisation.full_clean()
    try:
        with transaction.atomic():
            organisation.save()
            audit_record(
                action=AuditAction.ORGANISATION_CREATED,
                by=by,
                object_type="structure",
                object_id=organisation.pk,
                details={"nom": organisation.name, "siret": organisation.siret},
            )
    except IntegrityError:
        # The same SIRET saved meanwhile by another pilot: full_clean checked before it.
        raise _siret_taken() from None
    return organisation


def organisation_update(*, organisation: Organisation, by: Actor, **fields: Any) -> Organisation:
    for name, value in fields.items():
        setattr(organisation, name, value)
    _derive(organisation)
    organisation.full_clean()
    try:
        with transaction.atomic():
            organisation.save()
            # Sessions keep the acting organisation's name and kind: refresh those of its
            # members (a former member's sessions act for other organisations).
            security_stamp_raise(
                *Membership.objects.active()
                .filter(organisation=organisation)
                .values_list("user_id", flat=True)
            )
            audit_record(
                action=AuditAction.ORGANISATION_UPDATED,
                by=by,
                object_type="structure",
                object_id=organisation.pk,
                details={"champs": ", ".join(sorted(fields))},
            )
    except IntegrityError:
        raise _siret_taken() from None
    return organisation


def _siret_taken() -> ValidationError:
    # The code on the field's own error, where a form looks for it, as the unique check does.
    return ValidationError(
        {"siret": ValidationError("Une structure avec ce SIRET existe déjà.", code="unique")}
    )


def _derive(organisation: Organisation) -> None:
    organisation.sector = SECTOR_OF_KIND.get(organisation.kind, "")
    organisation.departement = departement_of(organisation.commune_code)


def _hold_team(organisation_id: int) -> None:
    """Lock the organisation's row until commit. Every change to its team takes it first,
    so that the checks which follow (already a member, an invitation pending, a manager
    left) see what a concurrent change, a double click or another manager, wrote."""
    Organisation.objects.select_for_update().filter(pk=organisation_id).values_list(
        "pk", flat=True
    ).get()


def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    profession: str,
    invited_by: User,
    by: Actor,
) -> tuple[Invitation, str]:
    """Create a single-use invitation and e-mail its link after commit.

    Returns the invitation and the raw token (only its hash is stored).
    """
    _check_role_fits_profession(role, profession)
    email = email.strip().lower()
    invitation = Invitation(
        organisation=organisation,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        profession=profession,
        nonce=secrets.token_hex(16),
        invited_by=invited_by,
        expires_at=timezone.now() + settings.RELAIS_INVITATION_VALIDITY,
    )
    token = invitation_token(invitation)
    invitation.token_hash = token_hash(token)
    invitation.full_clean()
    with transaction.atomic():
        _hold_team(organisation.pk)
        if (
            Membership.objects.active()
            .filter(organisation=organisation, user__email=email)
            .exists()
        ):
            raise ValidationError(
                {"email": "Cette personne fait déjà partie de la structure."},
                code="already_member",
            )
        if Invitation.objects.pending().filter(organisation=organisation, email=email).exists():
            raise ValidationError(
                {
                    "email": "Une invitation attend déjà d'être acceptée à cette adresse : "
                    "annulez-la d'abord pour en envoyer une autre."
                },
                code="already_invited",
            )
        invitation.save()
        audit_record(
            action=AuditAction.INVITATION_SENT,
            by=by,
            object_type="invitation",
            object_id=invitation.pk,
            details=_invited(invitation) | {"role": role, "profession": profession},
        )
        transaction.on_commit(lambda: send_invitation_email.enqueue(invitation_id=invitation.pk))
    return invitation, token


def _invited(invitation: Invitation) -> dict[str, str | int | bool | None]:
    """Whom an invitation's journal row is about: the manager reading it must tell one
    colleague's invitation from another's, as the rows about members name them."""
    return {
        "invite": f"{invitation.first_name} {invitation.last_name}",
        "adresse_invite": invitation.email,
    }


def _check_role_fits_profession(role: str, profession: str) -> None:
    """The charter gives rights by profession, not by role: a reception agent invited with
    another profession would read and write what that profession does."""
    if role == Role.RECEPTION and profession != Profession.RECEPTION_AGENT:
        raise ValidationError(
            {
                "profession": "Un agent d'accueil a la profession « Agent d'accueil » : avec une "
                "autre, il aurait les droits de celle-ci. Choisissez-la, ou un autre rôle."
            },
            code="role_profession_mismatch",
        )
    if role == Role.PROFESSIONAL and profession == Profession.RECEPTION_AGENT:
        raise ValidationError(
            {
                "role": "La profession « Agent d'accueil » va avec le rôle « Agent d'accueil » "
                "ou « Responsable de structure » : choisissez l'un d'eux."
            },
            code="role_profession_mismatch",
        )


def invitation_for_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_usable():
        return None
    return invitation


def invitation_accept(
    *, invitation: Invitation, password: str | None, existing_user: User | None, ip_address: str
) -> User:
    """Turn an invitation into a membership: for a new account (password given) or for the
    logged-in account whose e-mail it was sent to."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable():
            raise ValidationError("Cette invitation a déjà été utilisée ou a expiré.")
        _hold_team(locked.organisation_id)
        if existing_user is not None:
            if existing_user.email != locked.email:
                raise ValidationError(
                    "Cette invitation a été envoyée à une autre adresse électronique."
                )
            user = existing_user
        else:
            if User.objects.filter(email=locked.email).exists():
                raise _account_exists()
            user = User(
                email=locked.email, first_name=locked.first_name, last_name=locked.last_name
            )
            validate_password(password or "", user)
            user.set_password(password)
            user.full_clean(exclude=["password"])
            try:
                with transaction.atomic():
                    user.save()
            except IntegrityError:
                # Created meanwhile through an invitation from another organisation, which
                # the lock on this one does not hold back.
                raise _account_exists() from None
        if Membership.objects.filter(
            user=user, organisation=locked.organisation, ended_on__isnull=True
        ).exists():
            raise ValidationError(
                f"Vous faites déjà partie de la structure « {locked.organisation.name} » : "
                "cette invitation ne sert plus."
            )
        reactivated = not user.is_active
        if reactivated:
            user.is_active = True
            user.save(update_fields=["is_active"])
        Membership.objects.create(
            user=user,
            organisation=locked.organisation,
            role=locked.role,
            profession=locked.profession,
        )
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit_record(
            action=AuditAction.INVITATION_ACCEPTED,
            by=Actor(
                user_id=user.pk,
                label=user.get_full_name(),
                organisation_id=locked.organisation_id,
                organisation_label=locked.organisation.name,
                ip_address=ip_address,
                profession=locked.get_profession_display(),
            ),
            object_type="invitation",
            object_id=locked.pk,
            details={"compte_reactive": True} if reactivated else None,
        )
    return user


def _account_exists() -> ValidationError:
    return ValidationError(
        "Un compte existe déjà pour cette adresse : connectez-vous d'abord, "
        "puis ouvrez à nouveau le lien de l'invitation."
    )


def invitation_revoke(*, invitation: Invitation, by: Actor) -> None:
    """Cancel a pending invitation. Its row is locked and read again first: accepted
    since the page was shown (or at the same moment), it is refused, never marked both
    accepted and cancelled."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.revoked_at is not None:
            raise ValidationError("Cette invitation est déjà annulée.")
        if not locked.is_usable():
            raise ValidationError("Cette invitation a déjà été acceptée ou a expiré.")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditAction.INVITATION_REVOKED,
            by=by,
            object_type="invitation",
            object_id=locked.pk,
            details=_invited(locked),
        )
    invitation.revoked_at = locked.revoked_at


def referent_links_of(membership: Membership) -> QuerySet[Referent]:
    """The member's current referent links for the membership's organisation: one per
    file they follow for it."""
    return Referent.objects.current().filter(
        organisation_id=membership.organisation_id, professional_id=membership.user_id
    )


def membership_deactivate(*, membership: Membership, by: Actor) -> int:
    """End a membership today. The member's sessions acting for this organisation end at
    their next request; an account left with no active membership is deactivated. The
    files they followed for the organisation no longer name them as referent: returns how
    many."""
    if membership.user_id == by.user_id:
        raise ValidationError("Vous ne pouvez pas vous désactiver vous-même.")
    with transaction.atomic():
        _hold_team(membership.organisation_id)
        membership.refresh_from_db(fields=["ended_on"])
        if membership.ended_on is not None:
            raise ValidationError("Ce membre est déjà désactivé.")
        if (
            membership.role == Role.MANAGER
            and not Membership.objects.active()
            .filter(organisation_id=membership.organisation_id, role=Role.MANAGER)
            .exclude(pk=membership.pk)
            .exists()
        ):
            raise ValidationError("La structure doit garder au moins un responsable.")
        membership.ended_on = timezone.localdate()
        membership.save(update_fields=["ended_on"])
        security_stamp_raise(membership.user_id)
        user = membership.user
        if not user.is_superuser and not Membership.objects.active().filter(user=user).exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
        audit_record(
            action=AuditAction.MEMBER_DEACTIVATED,
            by=by,
            object_type="utilisateur",
            object_id=user.pk,
            details={"membre": user.get_full_name()},
        )
        followed = list(referent_links_of(membership).select_related("person"))
        for link in followed:
            referent_remove(person=link.person, professional_id=user.pk, by=by)
    return len(followed)


def membership_update(*, membership: Membership, role: str, profession: str, by: Actor) -> bool:
    """Change a member's role and profession, which set their rights under the charter.
    Their sessions act with the new ones from their next request. False when both were
    already these: nothing written then."""
    _check_role_fits_profession(role, profession)
    with transaction.atomic():
        _hold_team(membership.organisation_id)
        current = Membership.objects.select_related("user").get(pk=membership.pk)
        if not current.is_active_on(timezone.localdate()):
            raise ValidationError(
                "Ce membre a été désactivé : son rôle et sa profession ne se modifient plus."
            )
        before = {"role": current.role, "profession": current.profession}
        if before == {"role": role, "profession": profession}:
            return False
        if (
            current.role == Role.MANAGER
            and role != Role.MANAGER
            and not Membership.objects.active()
            .filter(organisation_id=current.organisation_id, role=Role.MANAGER)
            .exclude(pk=current.pk)
            .exists()
        ):
            raise ValidationError(
                {
                    "role": "La structure doit garder au moins un responsable : nommez-en "
                    "d'abord un autre, puis changez ce rôle."
                },
                code="last_manager",
            )
        current.role, current.profession = role, profession
        current.full_clean()
        current.save(update_fields=["role", "profession"])
        # The sessions keep the acting membership: they read it again at their next request.
        security_stamp_raise(current.user_id)
        audit_record(
            action=AuditAction.MEMBER_UPDATED,
            by=by,
            object_type="utilisateur",
            object_id=current.user_id,
            details={
                "membre": current.user.get_full_name(),
                "role_avant": before["role"],
                "role": role,
                "profession_avant": before["profession"],
                "profession": profession,
            },
        )
    membership.role, membership.profession = role, profession
    return True


SECOND_FACTOR_ALREADY_RESET = (
    "Le second facteur de {name} est déjà réinitialisé : rien n'a été refait. "
    "{name} en activera un nouveau à sa prochaine connexion."
)


def membership_second_factor_reset(*, membership: Membership, by: Actor) -> None:
    """A manager removes every second factor of a member of their organisation. Refused
    when none is left to remove: reset already (the same confirmation sent again), or never
    activated; either way the member activates one at their next login."""
    member = membership.user
    with transaction.atomic():
        # Two resets sent at once: the second waits for the first, then finds none left.
        User.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).get()
        if not has_second_factor(member):
            raise ValidationError(
                SECOND_FACTOR_ALREADY_RESET.format(name=member.get_full_name()),
                code="already_reset",
            )
        second_factor_reset(member=member, organisation_id=membership.organisation_id, by=by)


def organisation_switch(*, membership: Membership, previous: Membership | None, by: Actor) -> None:
    audit_record(
        action=AuditAction.ORGANISATION_SWITCHED,
        by=by,
        object_type="structure",
        object_id=membership.organisation_id,
        details={
            "vers": membership.organisation.name,
            "depuis": previous.organisation.name if previous else None,
        },
    )
