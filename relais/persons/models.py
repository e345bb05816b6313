from datetime import date
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from relais.organisations.models import Organisation
from relais.organisations.validators import validate_commune_code
from relais.persons.validators import DateWindow, validate_not_zero, validate_phone
from relais.prepared import columns, fetch

_POSTAL_CODE = RegexValidator(r"^[0-9]{5}$", "Le code postal compte 5 chiffres.")
_NOT_NEGATIVE = MinValueValidator(Decimal("0"), "Le montant ne peut pas être négatif.")
# Far above what a person accompanied receives or pays in a month: beyond, the amount is a
# misplaced decimal point or a yearly sum.
_RESOURCE_AT_MOST = MaxValueValidator(
    Decimal("100000"),
    "Vérifiez le montant : au-delà de 100 000 € par mois, c'est une erreur de saisie.",
)
_HOUSING_COST_AT_MOST = MaxValueValidator(
    Decimal("10000"),
    "Vérifiez le montant : au-delà de 10 000 € par mois, c'est une erreur de saisie.",
)
# The date a situation began: no one alive has been in it since before 1900.
_SINCE = DateWindow(
    earliest=date(1900, 1, 1),
    years_ahead=0,
    too_early="Vérifiez l'année : cette date doit être postérieure à 1900.",
    too_late="Cette date ne peut pas être dans le futur.",
)
# Amounts are in euros and serve current claims; a month's resources may be known in
# advance (a pension about to start), not years ahead.
_RESOURCE_MONTH = DateWindow(
    earliest=date(2000, 1, 1),
    years_ahead=2,
    too_early="Vérifiez le mois : il ne peut pas être antérieur à janvier 2000.",
    too_late="Vérifiez le mois : il ne peut pas dépasser de plus de 2 ans le mois en cours.",
)
# Health-cover rights are opened for a year or a few: 10 years ahead leaves room for all.
_RIGHTS_UNTIL = DateWindow(
    earliest=date(2000, 1, 1),
    years_ahead=10,
    too_early="Vérifiez l'année : cette date doit être postérieure à 2000.",
    too_late="Vérifiez l'année : des droits ne sont pas ouverts plus de 10 ans à l'avance.",
)
# As long as a follow-up note: room for what the accompaniment needs, not for a record.
_REMARKS_LENGTH = 5000
_CAF_NUMBER = RegexValidator(r"^[0-9]{7}$", "Le numéro allocataire CAF compte 7 chiffres.")
_FT_ID = RegexValidator(
    r"^[0-9A-Z]{7,11}$", "L'identifiant France Travail compte 7 à 11 chiffres ou lettres."
)


class PersonStatus(models.TextChoices):
    ACTIVE = "actif", "Dossier actif"
    ARCHIVED = "archive", "Archive à accès restreint"
    ANONYMISED = "anonymise", "Anonymisé"


class Sex(models.TextChoices):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"


class Nationality(models.TextChoices):
    FRENCH = "francaise", "Française"
    EU = "ue", "Ressortissant(e) de l'Union européenne, de l'EEE ou suisse"
    NON_EU = "hors_ue", "Autre nationalité"


def _prefix_range(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, written as a range so that a plain B-tree index
    serves it on SQLite and PostgreSQL alike (LIKE does not use one under SQLite)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


class PersonQuerySet(models.QuerySet["Person"]):
    def active(self) -> "PersonQuerySet":
        return self.filter(status=PersonStatus.ACTIVE)

    def lock_if_active(self, pk: int) -> bool:
        """Lock the file's row within the caller's transaction; whether it is still active:
        a merge or the retention task may have archived it since the page read it."""
        return self.active().select_for_update().filter(pk=pk).exists()

    def matching_tokens(self, tokens: list[str]) -> "PersonQuerySet":
        """Every token starts a word of the birth name, the usage name or the first names:
        « Dupré-Lefèvre » is found by « lefevre », « Jean-Pierre » by « pierre ». Call it
        on a caseload (`visible_persons`): a later word is found by a scan of those rows."""
        queryset = self
        for token in tokens:
            matches = Q()
            for field in ("birth_name_key", "usage_name_key", "first_names_key"):
                matches |= _prefix_range(field, token) | Q(**{f"{field}__contains": f" {token}"})
            queryset = queryset.filter(matches)
        return queryset


class Person(models.Model):
    """The owner of the file. IDENTITY category: civil identity, contacts, identifiers."""

    first_names = models.CharField("prénom(s)", max_length=150)
    birth_name = models.CharField("nom de naissance", max_length=150)
    usage_name = models.CharField("nom d'usage", max_length=150, blank=True)
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField("date de naissance", db_index=True)
    birth_place = models.CharField("lieu de naissance", max_length=150, blank=True)
    nationality = models.CharField(
        "nationalité", max_length=12, choices=Nationality.choices, blank=True
    )
    phone = models.CharField("téléphone", max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField("adresse électronique", blank=True)
    address_line = models.CharField("adresse", max_length=250, blank=True)
    postal_code = models.CharField(
        "code postal", max_length=5, blank=True, validators=[_POSTAL_CODE]
    )
    commune_code = models.CharField(
        "code commune INSEE", max_length=5, blank=True, validators=[validate_commune_code]
    )
    commune_name = models.CharField("commune", max_length=150, blank=True)
    domiciliation = models.CharField(
        "domiciliation administrative",
        max_length=200,
        blank=True,
        help_text="Organisme qui domicilie la personne sans domicile stable.",
    )
    nir_encrypted = models.BinaryField("NIR chiffré", null=True, blank=True, editable=False)
    nir_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    caf_number = models.CharField(
        "n° allocataire CAF", max_length=7, blank=True, db_index=True, validators=[_CAF_NUMBER]
    )
    france_travail_id = models.CharField(
        "identifiant France Travail", max_length=11, blank=True, validators=[_FT_ID]
    )
    # Normalised keys (see normalisation.py) for accent- and case-insensitive search.
    birth_name_key = models.CharField(max_length=150, db_index=True, editable=False)
    usage_name_key = models.CharField(max_length=150, db_index=True, editable=False)
    first_names_key = models.CharField(max_length=150, db_index=True, editable=False)

    refuses_break_glass = models.BooleanField(
        "refuse les accès exceptionnels", default=False, editable=False
    )
    status = models.CharField(
        "statut", max_length=10, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)
    created_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    last_contact_at = models.DateTimeField("dernier contact", default=timezone.now)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "personne accompagnée"
        verbose_name_plural = "personnes accompagnées"
        constraints = [
            # One active file per NIR: a second one is the same person, merged, not created.
            models.UniqueConstraint(
                fields=["nir_digest"],
                condition=models.Q(status=PersonStatus.ACTIVE) & ~models.Q(nir_digest=""),
                name="person_nir_one_active_file",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.usage_name or self.birth_name
        return f"{name.upper()} {self.first_names}"

    @property
    def journal_label(self) -> str:
        """How the journal names the person: enough to recognise, nothing more."""
        if self.status == PersonStatus.ANONYMISED:
            return f"Dossier anonymisé (n° {self.pk})"
        return f"{self.display_name} (n° {self.pk})"

    @property
    def has_nir(self) -> bool:
        return bool(self.nir_digest)

    @property
    def postal_address(self) -> str:
        """The address as far as it is known: a town alone, without its street, is often all
        a person staying with others or in a shelter can give."""
        town = " ".join(part for part in (self.postal_code, self.commune_name) if part)
        return ", ".join(part for part in (self.address_line, town) if part)


class Relation(models.TextChoices):
    SPOUSE = "conjoint", "Conjoint(e), concubin(e), partenaire de PACS"
    CHILD = "enfant", "Enfant"
    PARENT = "parent", "Parent"
    SIBLING = "fratrie", "Frère ou sœur"
    OTHER = "autre", "Autre personne du foyer"


class HouseholdMember(models.Model):
    """FAMILY category: the people who live with the person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="household")
    relation = models.CharField("lien", max_length=10, choices=Relation.choices)
    first_names = models.CharField("prénom(s)", max_length=150)
    last_name = models.CharField("nom", max_length=150, blank=True)
    birth_date = models.DateField("date de naissance")
    is_dependent = models.BooleanField("à charge", default=False)

    class Meta:
        verbose_name = "membre du foyer"
        ordering = ["birth_date"]

    def __str__(self) -> str:
        return f"{self.first_names} ({self.get_relation_display()})"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class ResourceKind(models.TextChoices):
    SALARY = "salaire", "Salaire"
    ARE = "are", "Allocation chômage (ARE)"
    RSA = "rsa", "RSA"
    PRIME_ACTIVITE = "prime_activite", "Prime d'activité"
    AAH = "aah", "AAH"
    RETIREMENT = "retraite", "Pension de retraite"
    INVALIDITY = "invalidite", "Pension d'invalidité"
    FAMILY_ALLOWANCES = "allocations_familiales", "Allocations familiales"
    HOUSING_AID = "aide_logement", "Aide au logement"
    ALIMONY = "pension_alimentaire", "Pension alimentaire"
    GRANT = "bourse", "Bourse"
    OTHER = "autre", "Autre ressource"


class MonthlyResource(models.Model):
    """RESOURCES category: one amount, of one kind, for one member, for one month."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="resources")
    # A member's resources are removed with them by their service, which checks the right
    # to edit the resources and journals each one; deleting the whole file still takes both.
    member = models.ForeignKey(
        HouseholdMember,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="resources",
        help_text="Vide : la personne elle-même.",
    )
    month = models.DateField(
        "mois", help_text="Le premier jour du mois.", validators=[_RESOURCE_MONTH]
    )
    kind = models.CharField("nature", max_length=25, choices=ResourceKind.choices)
    amount = models.DecimalField(
        "montant (€)",
        max_digits=9,
        decimal_places=2,
        validators=[_NOT_NEGATIVE, validate_not_zero, _RESOURCE_AT_MOST],
    )

    class Meta:
        verbose_name = "ressource mensuelle"
        ordering = ["-month", "kind"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="resource_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.month:%m/%Y} : {self.amount} €"


class HousingStatus(models.TextChoices):
    PRIVATE_TENANT = "locataire_prive", "Locataire du parc privé"
    SOCIAL_TENANT = "locataire_social", "Locataire du parc social"
    HOSTED = "heberge_tiers", "Hébergé(e) chez un tiers"
    EMERGENCY = "hebergement_urgence", "Hébergement d'urgence ou CHRS"
    HOSTEL = "foyer", "Foyer, résidence sociale, pension de famille"
    OWNER = "proprietaire", "Propriétaire"
    HOMELESS = "sans_domicile", "Sans domicile"
    OTHER = "autre", "Autre situation"


class Housing(models.Model):
    """HOUSING category."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="housing")
    status = models.CharField("situation", max_length=25, choices=HousingStatus.choices)
    monthly_rent = models.DecimalField(
        "loyer mensuel hors charges (€)",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[_NOT_NEGATIVE, _HOUSING_COST_AT_MOST],
    )
    monthly_charges = models.DecimalField(
        "charges mensuelles (€)",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[_NOT_NEGATIVE, _HOUSING_COST_AT_MOST],
    )
    commune_code = models.CharField(
        "code commune INSEE du logement",
        max_length=5,
        blank=True,
        validators=[validate_commune_code],
    )
    since = models.DateField("depuis le", null=True, blank=True, validators=[_SINCE])

    class Meta:
        verbose_name = "logement"

    def __str__(self) -> str:
        return self.get_status_display()


class EmploymentStatus(models.TextChoices):
    PERMANENT = "cdi", "Salarié(e) en CDI"
    FIXED_TERM = "cdd", "Salarié(e) en CDD ou intérim"
    JOBSEEKER = "demandeur_emploi", "Demandeur(se) d'emploi"
    SELF_EMPLOYED = "independant", "Travailleur(se) indépendant(e)"
    TRAINING = "formation", "En formation"
    STUDENT = "etudiant", "Étudiant(e)"
    RETIRED = "retraite", "Retraité(e)"
    INACTIVE = "sans_activite", "Sans activité"


class Employment(models.Model):
    """EMPLOYMENT category."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="employment")
    status = models.CharField("situation", max_length=20, choices=EmploymentStatus.choices)
    registered_france_travail = models.BooleanField("inscrit(e) à France Travail", default=False)
    since = models.DateField("depuis le", null=True, blank=True, validators=[_SINCE])

    class Meta:
        verbose_name = "emploi"

    def __str__(self) -> str:
        return self.get_status_display()


class HealthRegime(models.TextChoices):
    GENERAL = "general", "Régime général"
    AGRICULTURAL = "agricole", "Régime agricole (MSA)"
    OTHER = "autre", "Autre régime"
    NONE = "aucun", "Aucune couverture ouverte"


class Complementary(models.TextChoices):
    CSS_FREE = "css", "Complémentaire santé solidaire sans participation"
    CSS_PAID = "css_participation", "Complémentaire santé solidaire avec participation"
    MUTUELLE = "mutuelle", "Mutuelle ou assurance complémentaire"
    NONE = "aucune", "Aucune complémentaire"


class SocialCoverage(models.Model):
    """SOCIAL_COVERAGE category."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="social_coverage")
    regime = models.CharField("régime", max_length=10, choices=HealthRegime.choices)
    complementary = models.CharField(
        "complémentaire santé", max_length=20, choices=Complementary.choices
    )
    ame = models.BooleanField("aide médicale de l'État (AME)", default=False)
    rights_until = models.DateField(
        "droits ouverts jusqu'au", null=True, blank=True, validators=[_RIGHTS_UNTIL]
    )

    class Meta:
        verbose_name = "couverture sociale"

    def __str__(self) -> str:
        return self.get_regime_display()

    def clean(self) -> None:
        """The AME is for whoever cannot be affiliated to a régime d'assurance maladie, and
        the Complémentaire santé solidaire for whoever is: recorded with a régime or with
        the CSS, the AME contradicts it. A coverage saved so before this was refused shows
        the refusal, which says why, when it is next edited, and is saved once one of the
        two is corrected."""
        if not self.ame:
            return
        contradictions = []
        if self.regime and self.regime != HealthRegime.NONE:
            contradictions.append(
                "L'aide médicale de l'État (AME) est réservée aux personnes qui ne peuvent "
                "pas être affiliées à un régime d'assurance maladie : elle ne va pas avec "
                f"« {self.get_regime_display()} ». Décochez l'AME, ou choisissez "
                f"« {HealthRegime.NONE.label} » si la personne n'a pas de régime."
            )
        if self.complementary in (Complementary.CSS_FREE, Complementary.CSS_PAID):
            contradictions.append(
                "La Complémentaire santé solidaire est réservée aux personnes affiliées à un "
                "régime d'assurance maladie, et l'aide médicale de l'État (AME) à celles qui "
                "ne peuvent pas l'être : décochez l'AME ou choisissez une autre complémentaire."
            )
        if contradictions:
            raise ValidationError({"ame": contradictions}, code="ame_contradiction")


class DisabilityRate(models.TextChoices):
    UNDER_50 = "moins_50", "Moins de 50 %"
    FROM_50 = "50_79", "De 50 à 79 %"
    FROM_80 = "80_plus", "80 % ou plus"


class HealthRecord(models.Model):
    """HEALTH category: special category data (art. 9 GDPR), only what the accompaniment
    needs."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="health")
    disability_rate = models.CharField(
        "taux d'incapacité reconnu", max_length=10, choices=DisabilityRate.choices, blank=True
    )
    rqth = models.BooleanField(
        "reconnaissance de la qualité de travailleur handicapé", default=False
    )
    mdph_pending = models.BooleanField("demande MDPH en cours", default=False)
    long_term_condition = models.BooleanField("affection de longue durée (ALD)", default=False)
    remarks = models.TextField(
        "observations utiles à l'accompagnement",
        blank=True,
        max_length=_REMARKS_LENGTH,
        validators=[MaxLengthValidator(_REMARKS_LENGTH)],
        help_text="Seulement ce qui est nécessaire aux démarches : pas de diagnostic.",
    )

    class Meta:
        verbose_name = "santé"

    def __str__(self) -> str:
        return f"Santé de la personne {self.person_id}"


class NoteVisibility(models.TextChoices):
    AUTHOR = "auteur", "Moi seulement"
    ORGANISATION = "structure", "Ma structure"
    SHARED = "partagee", "Partagée avec les structures autorisées par la personne"


class NoteQuerySet(models.QuerySet["Note"]):
    def readable_by(self, *, user_id: int, organisation_id: int) -> "NoteQuerySet":
        return self.filter(
            Q(visibility=NoteVisibility.SHARED)
            | Q(visibility=NoteVisibility.ORGANISATION, organisation_id=organisation_id)
            | Q(visibility=NoteVisibility.AUTHOR, author_id=user_id)
        )


class Note(models.Model):
    """NOTES category: dated, authored, objective."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("écrite le", default=timezone.now)
    text = models.TextField("note")
    visibility = models.CharField("visible par", max_length=10, choices=NoteVisibility.choices)
    sensitive_confirmed = models.BooleanField(
        "objectivité et nécessité confirmées", default=False, editable=False
    )

    objects = NoteQuerySet.as_manager()

    class Meta:
        verbose_name = "note de suivi"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["person", "-created_at"], name="note_person_recent")]

    def __str__(self) -> str:
        return f"Note du {self.created_at:%d/%m/%Y}"


class ReferentQuerySet(models.QuerySet["Referent"]):
    def current(self) -> "ReferentQuerySet":
        return self.filter(until__isnull=True)

    def current_of(self, person_id: int) -> list["Referent"]:
        """The file's current referents with their name and organisation, for the file's
        front page: one prepared statement, as that page is the most served one."""
        from django.contrib.auth import get_user_model

        referents = fetch(
            self.model,
            _current_referents_sql(),
            [person_id],
            extra=["professional_first_name", "professional_last_name", "organisation_name"],
        )
        user_model = get_user_model()
        for referent in referents:
            referent.professional = user_model.from_db(
                self.db,
                ["id", "first_name", "last_name"],
                [
                    referent.professional_id,
                    referent.professional_first_name,  # type: ignore[attr-defined]
                    referent.professional_last_name,  # type: ignore[attr-defined]
                ],
            )
            referent.organisation = Organisation.from_db(
                self.db,
                ["id", "name"],
                [referent.organisation_id, referent.organisation_name],  # type: ignore[attr-defined]
            )
        return referents


@cache
def _current_referents_sql() -> str:
    from django.contrib.auth import get_user_model

    quote = connection.ops.quote_name
    return (
        f"SELECT {columns(Referent, 'r')}, u.first_name, u.last_name, o.name"  # noqa: S608 (identifiers only)
        f" FROM {quote(Referent._meta.db_table)} r"
        f" JOIN {quote(get_user_model()._meta.db_table)} u ON u.id = r.professional_id"
        f" JOIN {quote(Organisation._meta.db_table)} o ON o.id = r.organisation_id"
        " WHERE r.person_id = %s AND r.until IS NULL ORDER BY r.id"
    )


class Referent(models.Model):
    """The professional(s) who follow the person, per organisation."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="referents")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followed"
    )
    since = models.DateField("depuis le", default=timezone.localdate)
    until = models.DateField("jusqu'au", null=True, blank=True)

    objects = ReferentQuerySet.as_manager()

    class Meta:
        verbose_name = "référent"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "professional"],
                condition=Q(until__isnull=True),
                name="one_current_referent_link",
            )
        ]
        indexes = [models.Index(fields=["professional", "until"], name="referent_professional")]

    def __str__(self) -> str:
        return f"Référent {self.professional_id} de {self.person_id}"
