"""The catalogue of online procedures and each person's procedures.

A procedure's life is a state machine whose every move is kept in a transition log; its
dates give the time to handle a request and the time to decide; its checklist of required
documents gives a completeness rate; and each step records how it was done (with the
person, for the person, by the person alone), the autonomy measure the study asks for.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Field,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.expressions import Combinable, CombinedExpression
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear, Left
from django.db.models.lookups import Exact, GreaterThan, LessThan, LessThanOrEqual
from django.utils import timezone

from relais.documents.models import Document, DocumentKind
from relais.organisations.models import Organisation
from relais.persons.categories import DataCategory
from relais.persons.models import Nationality, Person
from relais.procedures.checklist import (
    FRENCH,
    NO_STABLE_ADDRESS,
    NOT_FRENCH,
    STABLE_HOUSING,
    WITHOUT_ADDRESS,
    freshness_words,
)

if TYPE_CHECKING:
    from relais.consent.access import Professional


class ProcedureCategory(models.TextChoices):
    PAPERS = "papiers", "Papiers"
    FAMILY = "famille", "Famille"
    SOCIAL = "social", "Aides sociales"
    WORK = "travail", "Travail"
    HOUSING = "logement", "Logement"
    TRANSPORT = "transports", "Transports"
    MONEY = "argent", "Argent et impôts"
    JUSTICE = "justice", "Justice"
    FOREIGNERS = "etranger", "Étrangers"
    HEALTH = "sante", "Santé"


class ProcedureTypeQuerySet(models.QuerySet["ProcedureType"]):
    def active(self) -> "ProcedureTypeQuerySet":
        return self.filter(is_active=True)


class ProcedureType(models.Model):
    """One entry of the catalogue, loaded from the versioned data files."""

    slug = models.SlugField("identifiant", max_length=80, unique=True)
    title = models.CharField("intitulé", max_length=150)
    organisme = models.CharField("organisme", max_length=100)
    category = models.CharField("thème", max_length=20, choices=ProcedureCategory.choices)
    summary = models.TextField("en quelques mots (facile à lire)")
    # Numbered steps, one easy-to-read sentence or two each.
    steps = models.JSONField("étapes", default=list)
    # [{"kind": DocumentKind value, "condition": "" or "si vous avez des enfants"}], and
    # when set: "group" (the pieces one of which is enough), "conditional": True (asked
    # only in the situation the condition names), "someone_else": True (the paper of
    # someone else). See RequiredDocument.
    required_documents = models.JSONField("pièces à fournir", default=list, blank=True)
    info_url = models.URLField("page d'information officielle", max_length=300)
    online_url = models.URLField("service en ligne", max_length=300, blank=True)
    processing_days = models.PositiveIntegerField("délai habituel (jours)", null=True, blank=True)
    recurrence_months = models.PositiveSmallIntegerField(
        "à refaire tous les (mois)", null=True, blank=True
    )
    # The benefit the procedure opens, named as the rights estimation names it
    # ("rsa", "ppa", "aide_logement", "css", "aah", "af"…); empty when none.
    benefit = models.CharField("prestation ouverte", max_length=40, blank=True)
    verified_on = models.DateField("vérifié le")
    version = models.PositiveIntegerField("version", default=1)
    source_file = models.CharField("fichier source", max_length=200, blank=True)
    is_active = models.BooleanField("proposée", default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProcedureTypeQuerySet.as_manager()

    class Meta:
        verbose_name = "démarche du catalogue"
        verbose_name_plural = "catalogue des démarches"
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.organisme})"


class ProcedureStatus(models.TextChoices):
    NOT_STARTED = "a_faire", "À faire"
    IN_PROGRESS = "en_cours", "En cours"
    MISSING_DOCUMENTS = "pieces_manquantes", "Pièces manquantes"
    SUBMITTED = "deposee", "Déposée"
    AWAITING = "en_attente", "En attente de réponse"
    GRANTED = "accordee", "Accordée"
    REFUSED = "refusee", "Refusée"
    ABANDONED = "abandonnee", "Abandonnée"
    APPEAL = "recours", "Recours en cours"


S = ProcedureStatus
# The only moves a procedure may make; anything else is refused by the service.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NOT_STARTED: frozenset({S.IN_PROGRESS, S.ABANDONED}),
    S.IN_PROGRESS: frozenset({S.MISSING_DOCUMENTS, S.SUBMITTED, S.ABANDONED}),
    S.MISSING_DOCUMENTS: frozenset({S.IN_PROGRESS, S.ABANDONED}),
    S.SUBMITTED: frozenset({S.AWAITING, S.MISSING_DOCUMENTS, S.GRANTED, S.REFUSED, S.ABANDONED}),
    S.AWAITING: frozenset({S.MISSING_DOCUMENTS, S.GRANTED, S.REFUSED, S.ABANDONED}),
    S.REFUSED: frozenset({S.APPEAL}),
    S.APPEAL: frozenset({S.GRANTED, S.REFUSED, S.ABANDONED}),
    S.GRANTED: frozenset(),
    S.ABANDONED: frozenset(),
}
OPEN_STATUSES = frozenset(
    {S.NOT_STARTED, S.IN_PROGRESS, S.MISSING_DOCUMENTS, S.SUBMITTED, S.AWAITING, S.APPEAL}
)
DECIDED_STATUSES = frozenset({S.GRANTED, S.REFUSED})
# Moves back to these states after a submission (pieces missing, then in progress
# again) put the checklist back to what is still to gather.
BEFORE_SUBMISSION = frozenset({S.NOT_STARTED, S.IN_PROGRESS, S.MISSING_DOCUMENTS})


def checklist_day(today: date) -> Case:
    """The day each procedure's checklist is judged on, in SQL: the submission, once
    submitted (what the organisme received), otherwise today (what is still to gather)."""
    return Case(
        When(
            Q(submitted_on__isnull=False) & ~Q(status__in=BEFORE_SUBMISSION),
            then=F("submitted_on"),
        ),
        default=Value(today),
        output_field=models.DateField(),
    )


def issued_within(issued_on: date, months: int, day: date) -> bool:
    """Issued less than `months` before `day`: the same day of the month `months` earlier
    still counts; a shorter month ends the count on its last day. As `_freshness` in SQL."""
    between = (day.year - issued_on.year) * 12 + day.month - issued_on.month
    return between < months or (between == months and day.day <= issued_on.day)


def _months_between(earlier: Combinable, later: Combinable) -> CombinedExpression:
    """Whole months from one date's month to the other's, the days left aside."""
    return (ExtractYear(later) - ExtractYear(earlier)) * 12 + (
        ExtractMonth(later) - ExtractMonth(earlier)
    )


def _freshness(day: date | Combinable, *, fresh: bool) -> Q:
    """Rows with a freshness rule whose document, issued on a known day, is recent enough
    on `day` (`issued_within` in SQL), or, not `fresh`, too old: the rows the other leaves
    out, written without a negation."""
    day = Value(day, models.DateField()) if isinstance(day, date) else day
    months = _months_between(F("document__issued_on"), day)
    within, day_in_the_last_month = (
        (LessThan, LessThanOrEqual) if fresh else (GreaterThan, GreaterThan)
    )
    return Q(fresh_months__isnull=False, document__issued_on__isnull=False) & (
        Q(within(months, F("fresh_months")))
        | Q(Exact(months, F("fresh_months")))
        & Q(day_in_the_last_month(ExtractDay(day), ExtractDay("document__issued_on")))
    )


# The document's own validity decides, unless the line's freshness rule does: a rule, and
# a document whose issue day is known.
_OWN_VALIDITY = Q(fresh_months__isnull=True) | Q(document__issued_on__isnull=True)


def missing_documents_filter(day: date | Combinable) -> Q:
    """Checklist rows that lack a document valid on `day` (a date or an expression):
    nothing linked, the linked document deleted, not yet issued or brought by then,
    expired by then, or issued longer ago than the line's freshness rule allows. Rows
    marked not applicable never count. As RequiredDocument.is_satisfied_on."""
    return Q(not_applicable=False) & (
        Q(document__isnull=True)
        | Q(document__deleted_at__isnull=False)
        | _OWN_VALIDITY & Q(document__expires_on__lt=day)
        | _freshness(day, fresh=False)
        | Q(document__issued_on__gt=day)
        | Q(document__issued_on__isnull=True, document__created_at__date__gt=day)
    )


def valid_documents_filter(day: date | Combinable) -> Q:
    """Checklist rows asked for whose document is valid on `day`: those
    `missing_documents_filter` leaves out, written without a negation, in which a NULL
    date would drop the row."""
    return (
        Q(not_applicable=False, document__isnull=False, document__deleted_at__isnull=True)
        & (
            _OWN_VALIDITY
            & (Q(document__expires_on__isnull=True) | Q(document__expires_on__gte=day))
            | _freshness(day, fresh=True)
        )
        & (
            Q(document__issued_on__lte=day)
            | Q(document__issued_on__isnull=True, document__created_at__date__lte=day)
        )
    )


# checklist.py's rule in SQL, for the lists' filter. The nationality decides the rows
# « si vous êtes / n'êtes pas de nationalité française… », the housing those « si vous
# n'avez pas d'adresse stable… ». What the reader may know of each is read once per
# procedure (each access rule's sub-query written once: a Case would write it again in
# each of its When), as a number: the nationality's place in _NATIONALITIES, and for the
# housing 1 for a home of one's own, 2 for no address at all, 0 for anything else.
_NATIONALITIES = (None, Nationality.FRENCH, Nationality.NON_EU)
_OWN_HOME, _NO_ADDRESS = 1, 2


class _Switch(Expression):
    """CASE value WHEN 0 THEN … WHEN 1 THEN … END, the result for each value in turn: the
    value is written, and computed, once, where Case writes it again in each When."""

    def __init__(
        self, value: Combinable, results: Sequence[Combinable], output_field: Field[Any, Any]
    ) -> None:
        super().__init__(output_field=output_field)
        self.value = value
        self.results = list(results)

    def get_source_expressions(self) -> list[Any]:
        return [self.value, *self.results]

    def set_source_expressions(self, exprs: Sequence[Combinable | Expression]) -> None:
        self.value, *self.results = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.value)
        parts, params = [f"CASE {sql}"], list(params)
        for number, result in enumerate(self.results):
            result_sql, result_params = compiler.compile(result)
            parts.append(f"WHEN {number} THEN {result_sql}")
            params.extend(result_params)
        return " ".join([*parts, "END"]), params


def _readable(reader: "Professional", category: str) -> Q:
    # The rule sits above the domain models: see `visible_to_professional`.
    from relais.consent.access import persons_readable_in

    return Q(person_id__in=persons_readable_in(reader, category))


def _nationality_known(reader: "Professional") -> Case:
    """The place in `_NATIONALITIES` of the nationality as `reader` may know it."""
    return Case(
        When(
            _readable(reader, DataCategory.IDENTITY),
            then=Case(
                When(person__nationality="", then=0),
                When(person__nationality=Nationality.FRENCH, then=1),
                default=2,
            ),
        ),
        default=0,
    )


def _housing_known(reader: "Professional") -> Case:
    """What `reader` may read of the housing that decides a condition: _OWN_HOME,
    _NO_ADDRESS, or 0."""
    return Case(
        When(
            _readable(reader, DataCategory.HOUSING),
            then=Case(
                When(person__housing__status__in=STABLE_HOUSING, then=_OWN_HOME),
                When(person__housing__status__in=WITHOUT_ADDRESS, then=_NO_ADDRESS),
                default=0,
            ),
        ),
        default=0,
    )


def _starts_with(prefix: str) -> Exact[str]:
    """As Python's startswith, case included: LIKE ignores it on SQLite."""
    return Exact(Left("condition", len(prefix)), prefix)


def _any(conditions: Sequence[Q]) -> Q:
    """The rows meeting one of `conditions`; none when there is none (an empty Q would
    take them all)."""
    if not conditions:
        return Q(pk__in=[])
    found = conditions[0]
    for condition in conditions[1:]:
        found |= condition
    return found


def _file_says(nationality: str | None, housing: Combinable) -> tuple[Q, Q]:
    """The rows whose condition the file contradicts, and those whose condition it says
    holds (checklist.file_says), for a nationality known to be `nationality` (None: not
    known) and the housing as `housing` (an expression: _OWN_HOME, _NO_ADDRESS or 0)."""
    contradicted = [Q(_starts_with(NO_STABLE_ADDRESS)) & Q(Exact(housing, _OWN_HOME))]
    holds = [Q(_starts_with(NO_STABLE_ADDRESS)) & Q(Exact(housing, _NO_ADDRESS))]
    if nationality is not None:
        true, false = (FRENCH, NOT_FRENCH)
        if nationality != Nationality.FRENCH:
            true, false = false, true
        holds.append(Q(_starts_with(true)))
        contradicted.append(Q(_starts_with(false)))
    return _any(contradicted), _any(holds)


def _lacking(nationality: str | None) -> Q:
    """The rows that say papers are missing (measures.completeness), for a person whose
    nationality the reader knows to be `nationality` (None: does not know): asked of the
    person, always or in a situation known to apply, without a valid document, and with
    no other row of their group valid. In the sub-query on the procedure's rows, which
    reads the day and the housing from the procedure's query."""
    contradicted, holds = _file_says(nationality, OuterRef("housing_known"))
    other_contradicted, _ = _file_says(nationality, OuterRef(OuterRef("housing_known")))
    other_valid = RequiredDocument.objects.filter(
        valid_documents_filter(OuterRef(OuterRef("checklist_day"))),
        ~other_contradicted,
        procedure=OuterRef("procedure"),
        group=OuterRef("group"),
    )
    return (
        Q(not_applicable=False)
        & ~contradicted
        & (Q(conditional=False) | Q(concerned=True) | holds)
        & missing_documents_filter(OuterRef("checklist_day"))
        & ~(~Q(group="") & Q(Exists(other_valid)))
    )


class ProcedureQuerySet(models.QuerySet["Procedure"]):
    def open(self) -> "ProcedureQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def for_person(self, person_id: int) -> "ProcedureQuerySet":
        return self.filter(person_id=person_id)

    def of_organisation(self, organisation_id: int) -> "ProcedureQuerySet":
        return self.filter(organisation_id=organisation_id)

    def visible_to_professional(
        self, pro: "Professional", *, at: datetime | None = None
    ) -> "ProcedureQuerySet":
        """Procedures of the persons whose PROCEDURES category this professional may read
        under the access rule. Sub-queries only: one query whatever the caseload."""
        # The rule sits above the domain models (consent.access reads them): imported
        # here so that loading the models never pulls the rule in.
        from relais.consent.access import persons_readable_in

        return self.filter(person_id__in=persons_readable_in(pro, DataCategory.PROCEDURES, at=at))

    def with_situation(self, reader: "Professional") -> "ProcedureQuerySet":
        """Annotate what each procedure's checklist may use of the person's file
        (checklist.situation_of), as the access rule lets `reader` read it:
        `identity_readable`, `housing_readable` and the `housing_status`."""
        return self.annotate(
            identity_readable=ExpressionWrapper(
                _readable(reader, DataCategory.IDENTITY), BooleanField()
            ),
            housing_readable=ExpressionWrapper(
                _readable(reader, DataCategory.HOUSING), BooleanField()
            ),
            housing_status=F("person__housing__status"),
        )

    def with_missing_documents(
        self, reader: "Professional", *, today: date | None = None
    ) -> "ProcedureQuerySet":
        """Procedures with papers missing on the day their page judges them on
        (`checklist_day`), as that page says them to `reader` (measures.completeness,
        from what `reader` may read of the file: a paper the person does not need is not
        missing, nor one of a group when another is valid, nor one asked in a situation
        not known to apply). In the list's own query."""
        lacking = RequiredDocument.objects.filter(
            _Switch(
                OuterRef("nationality_known"),
                [
                    ExpressionWrapper(_lacking(nationality), BooleanField())
                    for nationality in _NATIONALITIES
                ],
                output_field=BooleanField(),
            ),
            procedure=OuterRef("pk"),
        )
        return self.alias(
            checklist_day=checklist_day(today or timezone.localdate()),
            nationality_known=_nationality_known(reader),
            housing_known=_housing_known(reader),
        ).filter(Exists(lacking))

    def due_within(self, days: int, *, today: date | None = None) -> "ProcedureQuerySet":
        """Procedures with something left to do before a deadline `days` away or passed:
        once submitted, the deadline is met (as the reminders read it)."""
        day = today or timezone.localdate()
        return self.filter(
            status__in=BEFORE_SUBMISSION, due_on__isnull=False, due_on__lte=day + timedelta(days)
        )

    def waiting_longer_than(self, days: int, *, today: date | None = None) -> "ProcedureQuerySet":
        """Submitted procedures still without an answer after `days`. A periodic
        declaration is never answered (submitting it is what counts): once its next
        occurrence is open, nothing is awaited from it any more."""
        day = today or timezone.localdate()
        return self.filter(
            status__in=[S.SUBMITTED, S.AWAITING],
            submitted_on__lte=day - timedelta(days),
            next__isnull=True,
        )

    def deadlines_first(self) -> "ProcedureQuerySet":
        """The nearest deadline to act before first; then the procedures with none, or
        already submitted, whose deadline is met, the latest request first."""
        deadline_to_act = Case(
            When(status__in=BEFORE_SUBMISSION, then=F("due_on")),
            output_field=models.DateField(),
        )
        return self.order_by(deadline_to_act.asc(nulls_last=True), "-requested_on", "pk")


class Procedure(models.Model):
    """One person's procedure, tracked by an organisation."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="procedures")
    procedure_type = models.ForeignKey(
        ProcedureType, on_delete=models.PROTECT, related_name="procedures", verbose_name="démarche"
    )
    # The catalogue version the checklist and the steps were taken from.
    type_version = models.PositiveIntegerField(default=1)
    # The entry's steps as they were then: the steps done point into this list by their
    # position, which a later edit of the catalogue entry must not shift.
    steps = models.JSONField("étapes", default=list, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="procedures"
    )
    status = models.CharField(
        "état", max_length=20, choices=ProcedureStatus.choices, default=ProcedureStatus.NOT_STARTED
    )
    requested_on = models.DateField("demandée le")
    taken_on = models.DateField("prise en charge le", null=True, blank=True)
    submitted_on = models.DateField("déposée le", null=True, blank=True)
    decided_on = models.DateField("décision le", null=True, blank=True)
    due_on = models.DateField("à faire avant le", null=True, blank=True)
    amount_granted = models.DecimalField(
        "montant accordé (€ par mois)", max_digits=9, decimal_places=2, null=True, blank=True
    )
    rights_start_on = models.DateField("droits ouverts à partir du", null=True, blank=True)
    refusal_reason = models.TextField("motif du refus", blank=True)
    # A recurring procedure's previous occurrence.
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next"
    )
    # A recurring procedure's next deadline, set when it is submitted or granted (see
    # services.procedure_transition); the daily task opens the next occurrence from it.
    next_due_on = models.DateField("à refaire avant le", null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # Empty for the occurrences the daily task opens, and once the account is gone.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        verbose_name = "démarche"
        verbose_name_plural = "démarches"
        indexes = [
            models.Index(fields=["person", "status"], name="procedure_person"),
            models.Index(fields=["organisation", "status", "due_on"], name="procedure_org"),
            models.Index(fields=["due_on"], name="procedure_due"),
            models.Index(fields=["next_due_on"], name="procedure_next_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(submitted_on__isnull=True)
                | Q(submitted_on__gte=models.F("requested_on")),
                name="procedure_submitted_after_request",
                violation_error_message="La démarche ne peut pas être déposée avant d'être "
                "demandée.",
            ),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True)
                | Q(submitted_on__isnull=True)
                | Q(decided_on__gte=models.F("submitted_on")),
                name="procedure_decided_after_submission",
                violation_error_message="La décision ne peut pas être antérieure au dépôt.",
            ),
        ]

    def __str__(self) -> str:
        return self.procedure_type.title

    @property
    def handling_days(self) -> int | None:
        """Time to handle the request: from the request to the submission."""
        if self.submitted_on is None:
            return None
        return (self.submitted_on - self.requested_on).days

    @property
    def decision_days(self) -> int | None:
        """Time the organisme took to decide, from the submission to its first decision (an
        appeal's outcome is not its time to decide)."""
        if self.decided_on is None or self.submitted_on is None:
            return None
        return (self.decided_on - self.submitted_on).days

    @property
    def deadline_to_act(self) -> date | None:
        """The deadline while something is left to do before submitting: once submitted,
        it was met (as `due_within` and `deadlines_first` read it). A periodic
        declaration's next occurrence is a procedure of its own, with its own deadline."""
        return self.due_on if self.status in BEFORE_SUBMISSION else None

    def allowed_transitions(self) -> frozenset[str]:
        return TRANSITIONS[self.status]


class ProcedureTransition(models.Model):
    """The transition log: who moved the procedure from which state to which, on which day,
    and when they wrote it down. Labels, not foreign keys, so that leaving an organisation
    never rewrites it."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=ProcedureStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ProcedureStatus.choices)
    # The day the change happened, as the professional dated it; for the opening, the day
    # of the request. `at` is when it was entered.
    on = models.DateField("le")
    at = models.DateTimeField(default=timezone.now)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=200)
    organisation_label = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["procedure", "at"], name="transition_procedure")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Autonomy(models.TextChoices):
    """How a step was done: the study's question 15."""

    WITH_PERSON = "avec", "Avec la personne"
    FOR_PERSON = "pour", "À la place de la personne"
    PERSON_ALONE = "seule", "Par la personne seule"


class ProcedureStep(models.Model):
    """One step of the procedure done, and how (autonomy)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="steps_done")
    # Position in the procedure's `steps` list (0-based).
    step_index = models.PositiveSmallIntegerField()
    autonomy = models.CharField("comment", max_length=10, choices=Autonomy.choices)
    # Required when the step was done for the person.
    reason = models.CharField("pourquoi à la place de la personne", max_length=300, blank=True)
    done_on = models.DateField("fait le")
    actor_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["step_index"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "step_index"], name="step_once"),
            models.CheckConstraint(
                condition=~Q(autonomy=Autonomy.FOR_PERSON) | ~Q(reason=""),
                name="step_for_person_has_reason",
                violation_error_message="Expliquez pourquoi l'étape a été faite à la place "
                "de la personne.",
            ),
        ]

    def __str__(self) -> str:
        return f"Étape {self.step_index + 1} : {self.get_autonomy_display()}"


class RequiredDocumentQuerySet(models.QuerySet["RequiredDocument"]):
    def fillable(self) -> "RequiredDocumentQuerySet":
        """The lines a paper already in the file may fill by itself: with no document (or
        a deleted one). Left alone: an « autre pièce » line (any paper may be one), the
        paper of someone else, a line marked not concerned, and a kind asked by two lines of
        one procedure, which would not say which paper goes where."""
        asked_twice = RequiredDocument.objects.filter(
            procedure_id=OuterRef("procedure_id"), kind=OuterRef("kind")
        ).exclude(pk=OuterRef("pk"))
        return (
            self.filter(
                Q(document__isnull=True) | Q(document__deleted_at__isnull=False),
                not_applicable=False,
                someone_else=False,
            )
            .exclude(kind=DocumentKind.OTHER)
            .exclude(Exists(asked_twice))
        )

    def open_to_not_concerned(self) -> "RequiredDocumentQuerySet":
        """The lines by which the person may be said not concerned (`_not_concerned_choice`)."""
        return self.filter(_not_concerned_choice())

    def with_not_concerned_choice(self) -> "RequiredDocumentQuerySet":
        """Each line with `may_be_not_concerned`, as `open_to_not_concerned` decides it."""
        return self.annotate(
            may_be_not_concerned=ExpressionWrapper(
                _not_concerned_choice(), output_field=BooleanField()
            )
        )


def _not_concerned_choice() -> Q:
    """Whether the person may be said not concerned by a line, as the catalogue describes
    it. Yes for a line asked only in some situations (`selon_situation`), and for a paper of
    the person's own among the alternatives of a group while another of its group is still
    asked: one of them is enough, never none. No for a line every applicant needs, whose
    condition only says which paper (« le certificat pour la MDPH, de moins de 1 an », a
    freshness rule), nor for another person's paper (« celui de vos parents ») that no
    situation makes optional."""
    another_of_its_group = RequiredDocument.objects.filter(
        procedure_id=OuterRef("procedure_id"), group=OuterRef("group"), not_applicable=False
    ).exclude(pk=OuterRef("pk"))
    return Q(conditional=True) | (
        ~Q(group="") & Q(someone_else=False) & Q(Exists(another_of_its_group))
    )


class RequiredDocument(models.Model):
    """One line of the procedure's checklist, copied from the catalogue when the procedure
    is opened, linked to a document of the person's vault."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="checklist")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    # What the person reads beside the paper: a situation (« si vous avez des enfants »)
    # or a detail (« de moins de 6 mois »).
    condition = models.CharField("condition", max_length=200, blank=True)
    # The lines of one procedure with the same group are alternatives, one of which is
    # enough: the identity card « if French » and the residence permit « if not French ».
    group = models.CharField("groupe", max_length=40, blank=True)
    # Asked only in the situation its condition names: it counts once that situation is
    # known to apply, from the file or from the professional (`concerned`).
    conditional = models.BooleanField("selon la situation", default=False)
    # The professional said the person is in the situation the condition names.
    concerned = models.BooleanField("concerné(e)", default=False)
    # The paper must have been issued less than this many months before the day the line
    # is judged on (« de moins de 6 mois »), whatever its own validity: a freshness rule,
    # which every person meets with a recent paper, never a situation.
    fresh_months = models.PositiveSmallIntegerField("de moins de (mois)", null=True, blank=True)
    # A conditional document the person is not concerned by ("si vous avez des enfants").
    not_applicable = models.BooleanField("non concerné(e)", default=False)
    # The paper of someone else (the parents' tax notice, the baby's birth certificate):
    # never taken from the person's own papers.
    someone_else = models.BooleanField("pièce d'une autre personne", default=False)
    document = models.ForeignKey(
        Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RequiredDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(not_applicable=False) | Q(concerned=False),
                name="required_document_concerned_or_not",
                violation_error_message="La personne ne peut pas être à la fois concernée et "
                "non concernée par une pièce.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def attached(self) -> Document | None:
        """The linked document, unless it was deleted since: a deleted document stays
        linked until the retention task purges it, but is no attachment anywhere."""
        document = self.document
        return document if document is not None and document.deleted_at is None else None

    @property
    def freshness(self) -> str:
        """The freshness rule as the pages say it: « de moins de 6 mois », « de moins de
        1 an »; empty without one."""
        return "" if self.fresh_months is None else freshness_words(self.fresh_months)

    def accepts(self, document: Document, day: date) -> bool:
        """`document`, not deleted and there by that day, is valid for this line on that
        day: recent enough for its freshness rule when it has one and the issue day is
        known, whatever the paper's own validity; else by its own validity."""
        if document.deleted_at is not None or not document.existed_on(day):
            return False
        if self.fresh_months is not None and document.issued_on is not None:
            return issued_within(document.issued_on, self.fresh_months, day)
        return document.is_valid_on(day)

    def is_satisfied_on(self, day: date) -> bool:
        """The linked document is valid for this line on that day (`accepts`)."""
        document = self.attached
        return document is not None and self.accepts(document, day)
