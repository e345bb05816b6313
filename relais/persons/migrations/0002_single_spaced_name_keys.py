"""Name keys are single-spaced: a letter a key drops (outside Latin scripts) between two
spaces used to leave two. Recompute the keys written that way; no other key changes."""

from django.db import migrations
from django.db.models import Q


def recompute(apps, schema_editor):
    from relais.persons.normalisation import rekey

    double = Q(birth_name_key__contains="  ") | Q(usage_name_key__contains="  ")
    double |= Q(first_names_key__contains="  ")
    rekey(apps.get_model("persons", "Person"), double)


class Migration(migrations.Migration):
    dependencies = [("persons", "0001_initial")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
