"""The data migrations of the procedures, run on rows written by the previous schema."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import OrganisationFactory
from tests.persons.factories import PersonFactory

STEPS = ["Préparez vos papiers.", "Allez sur le site de la CAF."]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_the_procedures_opened_before_take_the_steps_of_their_entry(transactional_db):
    apps = _migrate(("procedures", "0001_initial"))
    entry = apps.get_model("procedures", "ProcedureType").objects.create(
        slug="rsa-demande",
        title="Demander le RSA",
        organisme="CAF",
        category="social",
        summary="Une aide en argent.",
        steps=STEPS,
        info_url="https://www.service-public.fr/particuliers/vosdroits/N19775",
        verified_on="2025-01-15",
    )
    opened = apps.get_model("procedures", "Procedure").objects.create(
        person_id=PersonFactory().pk,
        procedure_type_id=entry.pk,
        organisation_id=OrganisationFactory().pk,
        requested_on="2025-03-03",
    )

    apps = _migrate(("procedures", "0002_procedure_steps"))

    assert apps.get_model("procedures", "Procedure").objects.get(pk=opened.pk).steps == STEPS
