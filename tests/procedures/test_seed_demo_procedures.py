"""The demo's procedures read as real ones would: a request submitted to the organisme
went with its papers."""

from io import StringIO

import pytest
from django.core.management import call_command

from relais.procedures.measures import completeness
from relais.procedures.models import Procedure

pytestmark = pytest.mark.django_db


def test_the_submitted_demo_procedures_went_with_their_papers():
    call_command("seed_demo", stdout=StringIO())

    submitted = list(Procedure.objects.filter(submitted_on__isnull=False))

    assert len(submitted) >= 5
    incomplete = {
        str(procedure): (measure.satisfied, measure.total)
        for procedure in submitted
        if not (measure := completeness(procedure)).is_complete
    }
    assert incomplete == {}
