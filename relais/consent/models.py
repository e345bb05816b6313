from datetime import datetime

from django.conf import settings
from django.db import connection, models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from relais.organisations.models import Organisation, OrganisationKind, Profession
from relais.persons.categories import DataCategory, Level
from relais.persons.models import Person


class ConsentDuration(models.TextChoices):
    DAY = "1j", "1 jour"
    MONTH = "1m", "1 mois"
    SIX_MONTHS = "6m", "6 mois"
    YEAR = "1a", "1 an"


class ConsentMethod(models.TextChoices):
    SIGNED = "signe", "Signé sur place"
    CODE = "code", "Confirmé par un code envoyé à la personne"
    SELF_SERVICE = "espace", "Donné depuis son espace personnel"


class ConsentQuerySet(models.QuerySet["Consent"]):
    def live(self, at: datetime | None = None) -> "ConsentQuerySet":
        moment = at or timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=moment, expires_at__gt=moment)

    def for_professional(self, *, organisation_id: int, user_id: int) -> "ConsentQuerySet":
        return self.filter(organisation_id=organisation_id).filter(
            Q(professional__isnull=True) | Q(professional_id=user_id)
        )

    def covering(self, category: str) -> "ConsentQuerySet":
        """Consents whose categories hold `category`, matched as the access rule matches
        them for lists (relais/consent/access.py `_covers`): by JSON containment on
        PostgreSQL, which its planner estimates from the column's statistics, and
        elsewhere by the quoted slug in the list's JSON text, a list of plain slugs."""
        if connection.vendor == "postgresql":
            return self.filter(categories__contains=[category])
        return self.alias(categories_text=Cast("categories", TextField())).filter(
            categories_text__contains=f'"{category}"'
        )


class Consent(models.Model):
    """The person agrees that one organisation (or one of its professionals) may use some
    categories of their file, for a purpose, for a limited time."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="consents"
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Vide : toute la structure.",
    )
    categories = models.JSONField("catégories de données")
    purpose = models.CharField("finalité", max_length=300)
    duration = models.CharField("durée", max_length=2, choices=ConsentDuration.choices)
    method = models.CharField("recueil", max_length=10, choices=ConsentMethod.choices)
    starts_at = models.DateTimeField("à partir du", default=timezone.now)
    expires_at = models.DateTimeField("jusqu'au")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Vide : donné par la personne depuis son espace.",
    )
    revoked_at = models.DateTimeField("retiré le", null=True, blank=True)
    revoked_by_label = models.CharField("retiré par", max_length=200, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = "consentement"
        indexes = [
            # Covers the live-consent sub-query of a search: the caseload of an organisation
            # is read from the index alone, whatever the size of the platform.
            models.Index(
                fields=[
                    "organisation",
                    "person",
                    "expires_at",
                    "starts_at",
                    "revoked_at",
                    "professional",
                ],
                name="consent_org_live",
            ),
            models.Index(fields=["person", "expires_at"], name="consent_person_expiry"),
        ]

    def __str__(self) -> str:
        return f"Consentement {self.pk} — {self.organisation}"

    def category_labels(self) -> list[str]:
        return [DataCategory(code).label for code in self.categories if code in DataCategory]

    def is_live(self, at: datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.revoked_at is None and self.starts_at <= moment < self.expires_at


class BlockQuerySet(models.QuerySet["Block"]):
    def active(self) -> "BlockQuerySet":
        return self.filter(lifted_at__isnull=True)

    def against(self, *, organisation_id: int, user_id: int) -> "BlockQuerySet":
        return self.filter(Q(organisation_id=organisation_id) | Q(professional_id=user_id))


class Block(models.Model):
    """The person refuses that an organisation or a professional ever sees their file,
    whatever the consents, including by break-glass."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="blocks")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by_label = models.CharField(max_length=200)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        verbose_name = "blocage"
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=True, professional__isnull=False)
                | Q(organisation__isnull=False, professional__isnull=True),
                name="block_targets_one",
            )
        ]
        indexes = [models.Index(fields=["person", "lifted_at"], name="block_person")]

    def __str__(self) -> str:
        return f"Blocage {self.pk}"


class BreakGlassQuerySet(models.QuerySet["BreakGlassGrant"]):
    def live(self, at: datetime | None = None) -> "BreakGlassQuerySet":
        return self.filter(expires_at__gt=at or timezone.now())


class BreakGlassGrant(models.Model):
    """A professional without consent opens a file, read-only, for a limited time, after
    writing why. The person sees it in their access history; the manager is told."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="break_glass")
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("motif")
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        verbose_name = "accès exceptionnel"
        verbose_name_plural = "accès exceptionnels"
        indexes = [models.Index(fields=["person", "professional", "expires_at"], name="bg_live")]

    def __str__(self) -> str:
        return f"Accès exceptionnel {self.pk}"


class CharterVersion(models.Model):
    """A version of the charte d'usages: who may read or write which category, and the
    commitments a professional makes in accepting it. Both are kept with the version, so
    that an acceptance still says what was accepted once the wording has changed."""

    number = models.PositiveIntegerField("version", unique=True)
    published_at = models.DateTimeField("publiée le", default=timezone.now)
    published_by_label = models.CharField("publiée par", max_length=200)
    summary = models.TextField("ce qui change", blank=True)
    # Plain text, one paragraph per commitment: shown escaped, never as HTML.
    commitments = models.TextField("engagements")

    class Meta:
        verbose_name = "version de la charte"
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Charte d'usages, version {self.number}"


class CharterRule(models.Model):
    version = models.ForeignKey(CharterVersion, on_delete=models.PROTECT, related_name="rules")
    organisation_kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    profession = models.CharField(max_length=30, choices=Profession.choices)
    category = models.CharField(max_length=20, choices=DataCategory.choices)
    level = models.CharField(max_length=5, choices=Level.choices)

    class Meta:
        verbose_name = "règle de la charte"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "organisation_kind", "profession", "category"],
                name="one_rule_per_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_kind}/{self.profession}/{self.category}: {self.level}"


class CharterAcceptance(models.Model):
    """A version accepted as it applies to one profession in one kind of organisation: the
    rights the charter page showed. Acting with another profession or in another kind of
    organisation asks for the charter again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="charter_acceptances"
    )
    version = models.ForeignKey(CharterVersion, on_delete=models.PROTECT, related_name="+")
    organisation_kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    profession = models.CharField(max_length=30, choices=Profession.choices)
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "acceptation de la charte"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version", "organisation_kind", "profession"],
                name="accept_rights_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} a accepté la version {self.version_id}"
