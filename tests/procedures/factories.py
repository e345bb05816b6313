"""Factories for the catalogue and for persons' procedures."""

import datetime

import factory
from django.utils import timezone

from relais.documents.models import Document, DocumentKind
from relais.procedures.models import (
    Autonomy,
    Procedure,
    ProcedureCategory,
    ProcedureStatus,
    ProcedureStep,
    ProcedureType,
    RequiredDocument,
)
from tests.factories import OrganisationFactory
from tests.persons.factories import PersonFactory


class ProcedureTypeFactory(factory.django.DjangoModelFactory):
    """A catalogue entry with two steps and two required documents, one conditional."""

    class Meta:
        model = ProcedureType

    slug = factory.Sequence(lambda n: f"demarche-{n}")
    title = factory.Sequence(lambda n: f"Demander l'aide n° {n}")
    organisme = "CAF"
    category = ProcedureCategory.SOCIAL
    summary = "Une aide en argent pour les personnes qui ont peu de revenus."
    steps = factory.LazyFunction(
        lambda: [
            "Préparez vos papiers : la liste est plus bas.",
            "Allez sur le site de la CAF.",
            "Remplissez le formulaire en ligne.",
        ]
    )
    required_documents = factory.LazyFunction(
        lambda: [
            {"kind": DocumentKind.CNI.value, "condition": ""},
            {
                "kind": DocumentKind.PROOF_OF_ADDRESS.value,
                "condition": "si vous êtes hébergé",
            },
        ]
    )
    info_url = "https://www.service-public.fr/particuliers/vosdroits/N19775"
    online_url = ""
    processing_days = 30
    recurrence_months = None
    benefit = ""
    verified_on = datetime.date(2025, 1, 15)
    source_file = "social.toml"

    class Params:
        recurring = factory.Trait(recurrence_months=3)
        inactive = factory.Trait(is_active=False)


class ProcedureFactory(factory.django.DjangoModelFactory):
    """A procedure to do, with no checklist rows: open one through `procedure_open` when the
    checklist matters, or add rows with `RequiredDocumentFactory`."""

    class Meta:
        model = Procedure

    person = factory.SubFactory(PersonFactory)
    procedure_type = factory.SubFactory(ProcedureTypeFactory)
    type_version = factory.LazyAttribute(lambda p: p.procedure_type.version)
    steps = factory.LazyAttribute(lambda p: list(p.procedure_type.steps))
    organisation = factory.SubFactory(OrganisationFactory)
    status = ProcedureStatus.NOT_STARTED
    requested_on = factory.LazyFunction(timezone.localdate)

    class Params:
        submitted = factory.Trait(
            status=ProcedureStatus.SUBMITTED,
            taken_on=factory.SelfAttribute("requested_on"),
            submitted_on=factory.SelfAttribute("requested_on"),
        )
        granted = factory.Trait(
            status=ProcedureStatus.GRANTED,
            taken_on=factory.SelfAttribute("requested_on"),
            submitted_on=factory.SelfAttribute("requested_on"),
            decided_on=factory.SelfAttribute("requested_on"),
        )


class RequiredDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequiredDocument

    procedure = factory.SubFactory(ProcedureFactory)
    kind = DocumentKind.CNI
    condition = ""


class ProcedureStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcedureStep

    procedure = factory.SubFactory(ProcedureFactory)
    step_index = 0
    autonomy = Autonomy.WITH_PERSON
    done_on = factory.LazyFunction(timezone.localdate)
    actor_label = "Prénom Nom"


class DocumentFactory(factory.django.DjangoModelFactory):
    """A document row without any file: enough for checklists and completeness. Brought
    long before the days the tests judge checklists on, unless told otherwise."""

    class Meta:
        model = Document

    person = factory.SubFactory(PersonFactory)
    kind = DocumentKind.CNI
    issued_on = None
    expires_on = None
    created_at = datetime.datetime(2020, 1, 6, 9, tzinfo=datetime.UTC)
