"""Factories for persons' files and for the consents, blocks and grants that open them."""

import datetime

import factory
from django.utils import timezone

from relais.consent.models import (
    Block,
    BreakGlassGrant,
    Consent,
    ConsentDuration,
    ConsentMethod,
)
from relais.persons.categories import DataCategory
from relais.persons.models import (
    HouseholdMember,
    MonthlyResource,
    Note,
    NoteVisibility,
    Person,
    Referent,
    Relation,
    ResourceKind,
)
from relais.persons.normalisation import name_key
from tests.factories import OrganisationFactory, UserFactory

ALL_CATEGORIES = list(DataCategory.values)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    first_names = factory.Sequence(lambda n: f"Camille{n}")
    birth_name = factory.Sequence(lambda n: f"Martin{n}")
    usage_name = ""
    birth_date = datetime.date(1984, 6, 15)
    phone = "0612345678"
    commune_name = "Calais"
    birth_name_key = factory.LazyAttribute(lambda p: name_key(p.birth_name))
    usage_name_key = factory.LazyAttribute(lambda p: name_key(p.usage_name))
    first_names_key = factory.LazyAttribute(lambda p: name_key(p.first_names))


class ConsentFactory(factory.django.DjangoModelFactory):
    """A live consent of the person to a whole organisation, for every category."""

    class Meta:
        model = Consent

    person = factory.SubFactory(PersonFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    professional = None
    categories = factory.LazyFunction(lambda: list(ALL_CATEGORIES))
    purpose = "Accompagnement social et aide aux démarches administratives"
    duration = ConsentDuration.SIX_MONTHS
    method = ConsentMethod.SIGNED
    starts_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=180))

    class Params:
        expired = factory.Trait(
            starts_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200)),
            expires_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1)),
        )
        revoked = factory.Trait(
            revoked_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1)),
            revoked_by_label="La personne",
        )


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    person = factory.SubFactory(PersonFactory)
    organisation = None
    professional = None
    created_by_label = "La personne"


class BreakGlassGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BreakGlassGrant

    person = factory.SubFactory(PersonFactory)
    professional = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    reason = "La personne est hospitalisée et son logement doit être protégé d'urgence."
    opened_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=4))

    class Params:
        expired = factory.Trait(
            opened_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=5)),
            expires_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1)),
        )


class ReferentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referent

    person = factory.SubFactory(PersonFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    professional = factory.SubFactory(UserFactory)


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    person = factory.SubFactory(PersonFactory)
    relation = Relation.CHILD
    first_names = factory.Sequence(lambda n: f"Enfant{n}")
    last_name = "Martin"
    birth_date = datetime.date(2015, 3, 2)
    is_dependent = True


class MonthlyResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlyResource

    person = factory.SubFactory(PersonFactory)
    month = datetime.date(2025, 1, 1)
    kind = ResourceKind.RSA
    amount = "635.71"


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    person = factory.SubFactory(PersonFactory)
    author = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    text = "Rendez-vous pris avec la CAF pour le dossier de RSA."
    visibility = NoteVisibility.ORGANISATION
