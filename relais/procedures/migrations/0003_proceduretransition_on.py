"""Each change of state keeps the day it happened, as the professional dated it.

The changes logged before kept only the moment they were entered. Each takes the day the
procedure itself still holds for it where there is one: the opening, the request's day;
the first move to « en cours », the taking in charge; the last submission and the last
decision, theirs. Any other takes the local day it was entered, the latest it can have
happened.
"""

from itertools import groupby

from django.db import migrations, models
from django.utils import timezone

OPENED = ""
IN_PROGRESS = "en_cours"
SUBMITTED = "deposee"
DECIDED = ("accordee", "refusee")


def _known_days(procedure, transitions):
    """The transitions whose day the procedure's own dates give, by pk."""
    known = {}
    first_taking = next((t for t in transitions if t.to_status == IN_PROGRESS), None)
    last_submission = next((t for t in reversed(transitions) if t.to_status == SUBMITTED), None)
    last_decision = next((t for t in reversed(transitions) if t.to_status in DECIDED), None)
    for transition, day in (
        (first_taking, procedure.taken_on),
        (last_submission, procedure.submitted_on),
        (last_decision, procedure.decided_on),
    ):
        if transition is not None and day is not None:
            known[transition.pk] = day
    for transition in transitions:
        if transition.from_status == OPENED:
            known[transition.pk] = procedure.requested_on
    return known


def date_the_transitions(apps, schema_editor):
    ProcedureTransition = apps.get_model("procedures", "ProcedureTransition")
    rows = (
        ProcedureTransition.objects.select_related("procedure")
        .order_by("procedure_id", "at", "pk")
        .iterator(chunk_size=1000)
    )
    batch = []
    for _, group in groupby(rows, key=lambda transition: transition.procedure_id):
        transitions = list(group)
        known = _known_days(transitions[0].procedure, transitions)
        for transition in transitions:
            transition.on = known.get(transition.pk) or timezone.localdate(transition.at)
            batch.append(transition)
        if len(batch) >= 1000:
            ProcedureTransition.objects.bulk_update(batch, ["on"])
            batch = []
    ProcedureTransition.objects.bulk_update(batch, ["on"])


class Migration(migrations.Migration):
    dependencies = [("procedures", "0002_procedure_steps")]

    operations = [
        migrations.AddField(
            model_name="proceduretransition",
            name="on",
            field=models.DateField(null=True, verbose_name="le"),
        ),
        migrations.RunPython(date_the_transitions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="proceduretransition",
            name="on",
            field=models.DateField(verbose_name="le"),
        ),
    ]
