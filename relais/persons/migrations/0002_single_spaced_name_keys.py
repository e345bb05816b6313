"""Name keys are single-spaced: a letter a key drops (outside Latin scripts) between two
spaces used to leave two. Recompute the keys written that way; no other key changes."""

from django.db import migrations
from django.db.models import Q


def recompute(apps, schema_editor):
    from relais.persons.normalisation import name_key

    Person = apps.get_model("persons", "Person")
    double = Q(birth_name_key__contains="  ") | Q(usage_name_key__contains="  ")
    double |= Q(first_names_key__contains="  ")
    for person in Person.objects.filter(double).only(
        "birth_name", "usage_name", "first_names"
    ).iterator():
        Person.objects.filter(pk=person.pk).update(
            birth_name_key=name_key(person.birth_name),
            usage_name_key=name_key(person.usage_name),
            first_names_key=name_key(person.first_names),
        )


class Migration(migrations.Migration):
    dependencies = [("persons", "0001_initial")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
