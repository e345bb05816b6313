from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from relais.organisations.models import Organisation
from relais.persons.categories import DataCategory
from relais.persons.models import Person


class DocumentKind(models.TextChoices):
    CNI = "cni", "Carte nationale d'identité"
    PASSPORT = "passeport", "Passeport"
    RESIDENCE_PERMIT = "titre_sejour", "Titre de séjour"
    RECEIPT = "recepisse", "Récépissé de demande de titre de séjour"
    PROOF_OF_ADDRESS = "justificatif_domicile", "Justificatif de domicile"
    HOSTING_CERTIFICATE = "attestation_hebergement", "Attestation d'hébergement"
    TAX_NOTICE = "avis_imposition", "Avis d'imposition"
    CAF_CERTIFICATE = "attestation_caf", "Attestation CAF"
    CPAM_RIGHTS = "attestation_droits_cpam", "Attestation de droits CPAM"
    VITALE = "carte_vitale", "Carte Vitale"
    RIB = "rib", "RIB"
    PAYSLIP = "bulletin_salaire", "Bulletin de salaire"
    FRANCE_TRAVAIL = "attestation_france_travail", "Attestation France Travail"
    RENT_RECEIPT = "quittance_loyer", "Quittance de loyer"
    LEASE = "bail", "Bail"
    FAMILY_BOOK = "livret_famille", "Livret de famille"
    BIRTH_CERTIFICATE = "acte_naissance", "Acte de naissance"
    JUDGEMENT = "jugement", "Jugement"
    MEDICAL_CERTIFICATE = "certificat_medical", "Certificat médical"
    MDPH_NOTIFICATION = "notification_mdph", "Notification MDPH"
    PHOTO = "photo_identite", "Photo d'identité"
    DOMICILIATION = "attestation_domiciliation", "Attestation d'élection de domicile"
    RESOURCES = "justificatif_ressources", "Justificatif de ressources"
    PENSION = "attestation_pension", "Attestation de pension ou de retraite"
    SCHOOL_CERTIFICATE = "certificat_scolarite", "Certificat de scolarité"
    OTHER = "autre", "Autre pièce"


# Usual validity in months, used to propose an expiry date when the document has none
# printed (None: no default, e.g. a birth certificate or a judgement).
DEFAULT_VALIDITY_MONTHS: dict[str, int | None] = {
    DocumentKind.CNI: 180,
    DocumentKind.PASSPORT: 120,
    DocumentKind.RESIDENCE_PERMIT: None,
    DocumentKind.RECEIPT: 6,
    DocumentKind.PROOF_OF_ADDRESS: 3,
    DocumentKind.HOSTING_CERTIFICATE: 3,
    DocumentKind.TAX_NOTICE: 12,
    DocumentKind.CAF_CERTIFICATE: 3,
    DocumentKind.CPAM_RIGHTS: 12,
    DocumentKind.VITALE: None,
    DocumentKind.RIB: None,
    DocumentKind.PAYSLIP: 3,
    DocumentKind.FRANCE_TRAVAIL: 3,
    DocumentKind.RENT_RECEIPT: 3,
    DocumentKind.LEASE: None,
    DocumentKind.FAMILY_BOOK: None,
    DocumentKind.BIRTH_CERTIFICATE: 3,
    DocumentKind.JUDGEMENT: None,
    DocumentKind.MEDICAL_CERTIFICATE: 12,
    DocumentKind.MDPH_NOTIFICATION: None,
    DocumentKind.PHOTO: 6,
    DocumentKind.DOMICILIATION: 12,
    DocumentKind.RESOURCES: 3,
    DocumentKind.PENSION: 12,
    DocumentKind.SCHOOL_CERTIFICATE: 12,
    DocumentKind.OTHER: None,
}
HEALTH_KINDS = frozenset({DocumentKind.MEDICAL_CERTIFICATE, DocumentKind.MDPH_NOTIFICATION})


def category_of(kind: str) -> DataCategory:
    """Health documents fall under the HEALTH category of the access rule."""
    return DataCategory.HEALTH if kind in HEALTH_KINDS else DataCategory.DOCUMENTS


class DocumentQuerySet(models.QuerySet["Document"]):
    def present(self) -> "DocumentQuerySet":
        return self.filter(deleted_at__isnull=True)

    def expiring(self, *, within_days: int = 30, today: date | None = None) -> "DocumentQuerySet":
        day = today or timezone.localdate()
        return self.present().filter(
            expires_on__isnull=False, expires_on__lte=day + timedelta(days=within_days)
        )

    def in_categories(self, categories: list[str]) -> "DocumentQuerySet":
        kinds_health = [kind.value for kind in HEALTH_KINDS]
        allowed = Q(pk__in=[])
        if DataCategory.DOCUMENTS in categories:
            allowed |= ~Q(kind__in=kinds_health)
        if DataCategory.HEALTH in categories:
            allowed |= Q(kind__in=kinds_health)
        return self.filter(allowed)


class Document(models.Model):
    """A supporting document of a person (pièce justificative), with its versions. Its
    dates are those of its current version, kept here for the queries that judge whether
    a paper is valid (checklists, papers to renew): the services write both together."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField("type de pièce", max_length=30, choices=DocumentKind.choices)
    title = models.CharField("précision", max_length=150, blank=True)
    issued_on = models.DateField("délivrée le", null=True, blank=True)
    expires_on = models.DateField("valable jusqu'au", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by_label = models.CharField(max_length=200, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce justificative"
        verbose_name_plural = "pièces justificatives"
        indexes = [
            models.Index(fields=["person", "deleted_at"], name="document_person"),
            models.Index(fields=["expires_on"], name="document_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gte=models.F("issued_on")),
                name="document_expires_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def category(self) -> DataCategory:
        return category_of(self.kind)

    def existed_on(self, day: date) -> bool:
        """Issued by that day, or, without an issue day, added to the file by then: a
        paper issued or brought later cannot have been handed in that day."""
        return (self.issued_on or timezone.localdate(self.created_at)) <= day

    def is_valid_on(self, day: date) -> bool:
        return (
            self.deleted_at is None
            and self.existed_on(day)
            and (self.expires_on is None or self.expires_on >= day)
        )


class ScanStatus(models.TextChoices):
    CLEAN = "sain", "Analysé : aucun virus"
    NOT_SCANNED = "non_analyse", "Aucun antivirus configuré : non analysé"


class DocumentVersionQuerySet(models.QuerySet["DocumentVersion"]):
    def blob_left(self) -> "DocumentVersionQuerySet":
        """Purged versions whose blob is still in the storage: its deletion failed, and
        the next purge tries again."""
        return self.filter(purged_at__isnull=False, blob_deleted_at__isnull=True)


class DocumentVersion(models.Model):
    """One uploaded file of a document, with the dates printed on that paper. The bytes
    live encrypted in the documents storage under a random name; the row holds what is
    needed to decrypt and check them."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("version")
    storage_name = models.CharField(max_length=100, unique=True)
    size = models.PositiveBigIntegerField("taille (octets)")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField("format", max_length=50)
    extension = models.CharField(max_length=5)
    wrapped_key = models.BinaryField()
    scan_status = models.CharField(max_length=12, choices=ScanStatus.choices)
    issued_on = models.DateField("délivrée le", null=True, blank=True)
    expires_on = models.DateField("valable jusqu'au", null=True, blank=True)
    # Empty: sent by the person, from their own space.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The structure the professional acted for.
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="structure",
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    purged_at = models.DateTimeField(null=True, blank=True)
    blob_deleted_at = models.DateTimeField("fichier effacé du stockage le", null=True, blank=True)

    objects = DocumentVersionQuerySet.as_manager()

    class Meta:
        verbose_name = "version d'une pièce"
        ordering = ["-number"]
        indexes = [
            models.Index(
                fields=["purged_at"],
                condition=Q(purged_at__isnull=False, blob_deleted_at__isnull=True),
                name="version_blob_left",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="one_version_number"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gte=models.F("issued_on")),
                name="version_expires_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} — version {self.number}"
