"""Name keys turn letters of their own (ł, ø, đ, ı, þ…) into the letter a French keyboard
types, where they used to drop them (« Łukasz » was keyed « ukasz »). Recompute the keys of
the names that hold one; no other key changes."""

from functools import reduce
from operator import or_

from django.db import migrations
from django.db.models import Q


def recompute(apps, schema_editor):
    from relais.persons.normalisation import OWN_LETTERS, name_key

    Person = apps.get_model("persons", "Person")
    holding = reduce(
        or_,
        (
            Q(**{f"{field}__contains": letter})
            for field in ("birth_name", "usage_name", "first_names")
            for letter in OWN_LETTERS
        ),
    )
    for person in Person.objects.filter(holding).only(
        "birth_name", "usage_name", "first_names"
    ).iterator():
        Person.objects.filter(pk=person.pk).update(
            birth_name_key=name_key(person.birth_name),
            usage_name_key=name_key(person.usage_name),
            first_names_key=name_key(person.first_names),
        )


class Migration(migrations.Migration):
    dependencies = [("persons", "0002_single_spaced_name_keys")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
