import itertools

import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum import luhn

from relais.accounts.models import User
from relais.organisations.models import (
    SECTOR_OF_KIND,
    Membership,
    Organisation,
    OrganisationKind,
    Profession,
    Role,
)
from relais.organisations.validators import departement_of

PASSWORD = "Relais-tests-mot-de-passe-solide"
_siret_numbers = itertools.count(1)


def valid_siret() -> str:
    """A SIRET whose Luhn key is valid, unique within a test run."""
    body = f"8880{next(_siret_numbers):04d}"
    siren = body + luhn.calc_check_digit(body)
    siret_body = f"{siren}0001"
    return siret_body + luhn.calc_check_digit(siret_body)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Structure {n}")
    siret = factory.LazyFunction(valid_siret)
    kind = OrganisationKind.CCAS
    sector = factory.LazyAttribute(lambda o: SECTOR_OF_KIND[o.kind])
    commune_code = "62193"
    commune_name = "Calais"
    departement = factory.LazyAttribute(lambda o: departement_of(o.commune_code))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"pro{n}@exemple.test")
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    class Params:
        pilot = factory.Trait(is_staff=True, is_superuser=True)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.PROFESSIONAL
    profession = Profession.ASS
    started_on = factory.LazyFunction(timezone.localdate)

    class Params:
        manager = factory.Trait(role=Role.MANAGER)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Application d'authentification"
    confirmed = True
