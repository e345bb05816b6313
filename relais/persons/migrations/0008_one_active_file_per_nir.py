from django.db import migrations, models
from django.db.models import Count


def refuse_shared_nirs(apps, schema_editor):
    """Files created before the NIR was checked may share one: the index cannot be built
    then. Which file the number is right for, only the people who follow them can tell;
    the migration names the files, changes nothing, and waits for them to be merged."""
    Person = apps.get_model("persons", "Person")
    active = Person.objects.filter(status="actif").exclude(nir_digest="")
    shared = (
        active.values("nir_digest").annotate(files=Count("pk")).filter(files__gt=1).order_by()
    )
    groups = [
        sorted(active.filter(nir_digest=row["nir_digest"]).values_list("pk", flat=True))
        for row in shared
    ]
    if groups:
        raise RuntimeError(
            "Des dossiers actifs ont le même NIR : "
            + " ; ".join(" et ".join(f"n° {pk}" for pk in group) for group in sorted(groups))
            + ". Fusionnez-les (« Fusionner deux dossiers ») ou corrigez leur NIR, puis "
            "relancez la migration."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0002_organisation_departement_name_index'),
        ('persons', '0007_ascii_digits'),
    ]

    operations = [
        migrations.RunPython(refuse_shared_nirs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='person',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'actif'), models.Q(('nir_digest', ''), _negated=True)), fields=('nir_digest',), name='person_nir_one_active_file'),
        ),
    ]
