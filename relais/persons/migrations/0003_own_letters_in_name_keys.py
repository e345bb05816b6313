"""Name keys turn letters of their own (ł, ø, đ, ı, þ…) into the letter a French keyboard
types, where they used to drop them (« Łukasz » was keyed « ukasz »). Recompute the keys of
the names that hold one; no other key changes."""

from functools import reduce
from operator import or_

from django.db import migrations
from django.db.models import Q


def recompute(apps, schema_editor):
    from relais.persons.normalisation import OWN_LETTERS, rekey

    holding = reduce(
        or_,
        (
            Q(**{f"{field}__contains": letter})
            for field in ("birth_name", "usage_name", "first_names")
            for letter in OWN_LETTERS
        ),
    )
    rekey(apps.get_model("persons", "Person"), holding)


class Migration(migrations.Migration):
    dependencies = [("persons", "0002_single_spaced_name_keys")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
