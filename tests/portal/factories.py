"""Factories for the person's own account."""

import itertools

import factory
from django.contrib.auth.hashers import make_password

from relais.portal.models import PersonAccount
from tests.persons.factories import PersonFactory

PERSON_PASSWORD = "Ma-carte-bleue-42"
_card_numbers = itertools.count(1)


def _card_identifier() -> str:
    return f"RL-TEST-{next(_card_numbers):04d}"


class PersonAccountFactory(factory.django.DjangoModelFactory):
    """An open account reached by a card identifier only (no phone, no e-mail)."""

    class Meta:
        model = PersonAccount

    person = factory.SubFactory(PersonFactory)
    card_identifier = factory.LazyFunction(_card_identifier)
    phone = None
    email = None
    password = ""
    opened_by_label = "Prénom Nom (Structure)"

    class Params:
        with_phone = factory.Trait(phone=factory.Sequence(lambda n: f"+336{n % 100_000_000:08d}"))
        with_email = factory.Trait(email=factory.Sequence(lambda n: f"personne{n}@exemple.test"))
        with_password = factory.Trait(
            password=factory.LazyFunction(lambda: make_password(PERSON_PASSWORD))
        )
        closed = factory.Trait(is_active=False)
