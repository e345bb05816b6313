from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from relais.organisations.validators import validate_commune_code, validate_siret


class Sector(models.TextChoices):
    ADMINISTRATION = "administration", "Administration"
    ESSMS_HOUSING = "essms_hebergement", "ESSMS avec hébergement"
    ESSMS_OPEN = "essms_milieu_ouvert", "ESSMS en milieu ouvert"
    MEDIATION = "mediation", "Médiation et accompagnement de proximité"


class OrganisationKind(models.TextChoices):
    CCAS = "ccas", "CCAS / CIAS"
    CAF = "caf", "CAF"
    CPAM = "cpam", "CPAM"
    CARSAT = "carsat", "CARSAT"
    UTPAS_MDS = "utpas_mds", "UTPAS / Maison départementale des solidarités"
    MDPH = "mdph", "Maison de l'autonomie / MDPH"
    FRANCE_TRAVAIL = "france_travail", "France Travail"
    SAMSAH = "samsah", "SAMSAH"
    SAVS = "savs", "SAVS"
    CHRS = "chrs", "CHRS"
    CPH = "cph", "CPH"
    CADA = "cada", "CADA"
    LHSS = "lhss", "LHSS"
    LAM = "lam", "LAM"
    CSAPA = "csapa", "CSAPA"
    PENSION_DE_FAMILLE = (
        "pension_de_famille",
        "Pension de famille / maison relais / résidence accueil",
    )
    SIAO = "siao", "SIAO"
    SERVICE_TUTELAIRE = "service_tutelaire", "Service tutélaire (MJPM)"
    CENTRE_SOCIAL = "centre_social", "Centre social"
    MEDIATION_NUMERIQUE = "mediation_numerique", "Lieu de médiation numérique"
    ASSOCIATION = "association", "Association"
    OTHER = "autre", "Autre"


SECTOR_OF_KIND: dict[str, Sector] = {
    OrganisationKind.CCAS: Sector.ADMINISTRATION,
    OrganisationKind.CAF: Sector.ADMINISTRATION,
    OrganisationKind.CPAM: Sector.ADMINISTRATION,
    OrganisationKind.CARSAT: Sector.ADMINISTRATION,
    OrganisationKind.UTPAS_MDS: Sector.ADMINISTRATION,
    OrganisationKind.MDPH: Sector.ADMINISTRATION,
    OrganisationKind.FRANCE_TRAVAIL: Sector.ADMINISTRATION,
    OrganisationKind.CHRS: Sector.ESSMS_HOUSING,
    OrganisationKind.CPH: Sector.ESSMS_HOUSING,
    OrganisationKind.CADA: Sector.ESSMS_HOUSING,
    OrganisationKind.LHSS: Sector.ESSMS_HOUSING,
    OrganisationKind.LAM: Sector.ESSMS_HOUSING,
    OrganisationKind.PENSION_DE_FAMILLE: Sector.ESSMS_HOUSING,
    OrganisationKind.SAMSAH: Sector.ESSMS_OPEN,
    OrganisationKind.SAVS: Sector.ESSMS_OPEN,
    OrganisationKind.CSAPA: Sector.ESSMS_OPEN,
    OrganisationKind.SIAO: Sector.ESSMS_OPEN,
    OrganisationKind.SERVICE_TUTELAIRE: Sector.ESSMS_OPEN,
    OrganisationKind.CENTRE_SOCIAL: Sector.MEDIATION,
    OrganisationKind.MEDIATION_NUMERIQUE: Sector.MEDIATION,
    OrganisationKind.ASSOCIATION: Sector.MEDIATION,
    OrganisationKind.OTHER: Sector.MEDIATION,
}


class Organisation(models.Model):
    name = models.CharField("nom", max_length=200)
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    kind = models.CharField("type de structure", max_length=30, choices=OrganisationKind.choices)
    sector = models.CharField("secteur", max_length=30, choices=Sector.choices, editable=False)
    commune_code = models.CharField(
        "code commune INSEE", max_length=5, validators=[validate_commune_code]
    )
    commune_name = models.CharField("commune", max_length=100, blank=True)
    departement = models.CharField("département", max_length=3, editable=False)
    territory = models.CharField("territoire", max_length=100, blank=True)
    created_at = models.DateTimeField("créée le", default=timezone.now)

    class Meta:
        verbose_name = "structure"
        ordering = ["name"]
        # The pilot's list, read in this order a page at a time.
        indexes = [models.Index(fields=["departement", "name"], name="organisation_dept_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sector__in=Sector.values), name="organisation_sector_known"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PROFESSIONAL = "professionnel", "Professionnel(le)"
    MANAGER = "responsable", "Responsable de structure"
    RECEPTION = "accueil", "Agent d'accueil"


class Profession(models.TextChoices):
    ASS = "ass", "Assistant(e) de service social"
    CESF = "cesf", "Conseiller(ère) en économie sociale et familiale"
    ES = "es", "Éducateur(rice) spécialisé(e)"
    ME = "me", "Moniteur(rice)-éducateur(rice)"
    TISF = "tisf", "Technicien(ne) de l'intervention sociale et familiale"
    AES = "aes", "Accompagnant(e) éducatif(ve) et social(e)"
    ETS = "ets", "Éducateur(rice) technique spécialisé(e)"
    CIP = "cip", "Conseiller(ère) en insertion professionnelle"
    DIGITAL_ADVISER = "conseiller_numerique", "Conseiller(ère) numérique"
    DIGITAL_MEDIATOR = "mediateur_numerique", "Médiateur(rice) numérique"
    RECEPTION_AGENT = "agent_accueil", "Agent d'accueil"
    MJPM = "mjpm", "Mandataire judiciaire à la protection des majeurs"
    NURSE = "infirmier", "Infirmier(ère)"
    OTHER = "autre", "Autre"


# Looked up on every page a professional opens: a dict, where `get_profession_display()`
# flattens the choices again on each call.
_PROFESSION_LABELS = dict(Profession.choices)


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self, on: date | None = None) -> "MembershipQuerySet":
        today = on or timezone.localdate()
        return self.filter(started_on__lte=today).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=today)
        )


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name="utilisateur",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name="structure",
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    profession = models.CharField("profession", max_length=30, choices=Profession.choices)
    started_on = models.DateField("depuis le", default=timezone.localdate)
    ended_on = models.DateField("jusqu'au", null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = "rattachement"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                condition=Q(ended_on__isnull=True),
                name="one_open_membership_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organisation} ({self.get_role_display()})"

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def profession_label(self) -> str:
        return _PROFESSION_LABELS.get(self.profession, self.profession)

    def is_active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> "InvitationQuerySet":
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField("adresse électronique")
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    profession = models.CharField("profession", max_length=30, choices=Profession.choices)
    # Only the SHA-256 of the link's token is kept: a copy of the database opens nothing.
    token_hash = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=32, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation"

    def __str__(self) -> str:
        return f"Invitation {self.pk} — {self.organisation}"

    def is_usable(self, now: Any = None) -> bool:
        moment = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > moment
