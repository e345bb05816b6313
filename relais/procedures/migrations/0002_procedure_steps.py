"""Each procedure keeps the steps of its catalogue entry as they were when it was opened.

The procedures opened before took the steps live from the entry: they take its current
steps, the best copy left of what they were shown.
"""

from django.db import migrations, models


def copy_steps(apps, schema_editor):
    ProcedureType = apps.get_model("procedures", "ProcedureType")
    Procedure = apps.get_model("procedures", "Procedure")
    for procedure_type in ProcedureType.objects.only("pk", "steps").iterator():
        Procedure.objects.filter(procedure_type=procedure_type).update(steps=procedure_type.steps)


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="procedure",
            name="steps",
            field=models.JSONField(blank=True, default=list, verbose_name="étapes"),
        ),
        migrations.RunPython(copy_steps, migrations.RunPython.noop),
    ]
