"""The person's own account: how a person accompanied logs in to their space.

Made for people who often have no e-mail address, share a phone, or read with difficulty:
the printed "carte Relais" (an identifier and single-use codes) always works; a phone
number brings codes by SMS; a password is optional.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from relais.persons.models import Person, PersonStatus


class PersonAccountQuerySet(models.QuerySet["PersonAccount"]):
    def active(self) -> "PersonAccountQuerySet":
        return self.filter(is_active=True)

    def login_allowed(self) -> "PersonAccountQuerySet":
        """Open accounts of files still active: an archived file (merged into another,
        or past its retention) is no longer reachable from the person's space."""
        return self.active().filter(person__status=PersonStatus.ACTIVE)


class PersonAccount(models.Model):
    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, related_name="account", verbose_name="personne"
    )
    card_identifier = models.CharField(
        "identifiant de la carte Relais",
        max_length=12,
        unique=True,
        help_text="Imprimé sur la carte Relais, par exemple RL-7K4M-93QX.",
    )
    phone = models.CharField(
        "téléphone portable", max_length=16, unique=True, null=True, blank=True
    )
    email = models.EmailField("adresse électronique", unique=True, null=True, blank=True)
    password = models.CharField("mot de passe (empreinte)", max_length=128, blank=True)
    is_active = models.BooleanField("ouvert", default=True)
    # Raised when access is restored or the identifiers change at the office, when the
    # space is closed or reopened, and when the person sets their password: every session
    # opened before ends (but the one that set the password).
    security_stamp = models.PositiveIntegerField(default=0, editable=False)
    opened_at = models.DateTimeField("ouvert le", default=timezone.now)
    opened_by_label = models.CharField("ouvert par", max_length=200, blank=True)
    closed_at = models.DateTimeField("fermé le", null=True, blank=True)
    last_login_at = models.DateTimeField("dernière connexion", null=True, blank=True)

    objects = PersonAccountQuerySet.as_manager()

    class Meta:
        verbose_name = "espace personnel"
        verbose_name_plural = "espaces personnels"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True) | (Q(phone__isnull=True) & Q(email__isnull=True)),
                name="portal_closed_account_has_no_contact",
            )
        ]

    def __str__(self) -> str:
        return self.card_identifier

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class CodePurpose(models.TextChoices):
    LOGIN = "connexion", "Connexion"
    INVITATION = "invitation", "Invitation à ouvrir l'espace"


class CodeChannel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Courriel"


class LoginCodeQuerySet(models.QuerySet["LoginCode"]):
    def usable(self, purpose: str) -> "LoginCodeQuerySet":
        return self.filter(purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())

    def sent(self) -> "LoginCodeQuerySet":
        """Codes drawn and sent; a record reserved for a code still to send has no digest."""
        return self.exclude(digest="")


class LoginCode(models.Model):
    """A six-digit code sent to the account's phone or e-mail. Only its keyed digest is
    stored: a copy of the database without the secret key does not give the codes. The
    digest is empty between the request for a code and its sending (relais.portal.codes)."""

    account = models.ForeignKey(PersonAccount, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField("usage", max_length=10, choices=CodePurpose.choices)
    channel = models.CharField("envoyé par", max_length=5, choices=CodeChannel.choices)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField("essais", default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = LoginCodeQuerySet.as_manager()

    class Meta:
        verbose_name = "code de connexion"
        verbose_name_plural = "codes de connexion"
        indexes = [models.Index(fields=["account", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.created_at:%d/%m/%Y %H:%M})"


class RecoveryCode(models.Model):
    """One of the single-use codes printed on the carte Relais (keyed digest only)."""

    account = models.ForeignKey(
        PersonAccount, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "code de la carte Relais"
        verbose_name_plural = "codes de la carte Relais"

    def __str__(self) -> str:
        return f"Code de carte ({'utilisé' if self.used_at else 'disponible'})"
