"""The checklist lines of the procedures opened before the catalogue wrote its freshness
rules (« de moins de 6 mois ») as a number of months: each line whose condition says one,
in the words the catalogue used when this migration was made, takes that rule, so that
its paper is judged by its issue day as the lines opened from now on are."""

from django.db import migrations

# condition → months
FRESHNESS = {
    "de moins de 6 mois": 6,
    "de moins de 1 an": 12,
    "le certificat pour la MDPH, de moins de 1 an": 12,
    "copie intégrale de moins de 3 mois, de la personne à protéger": 3,
    "l'attestation de contrat d'électricité de moins de 3 mois, si vous faites la demande": 3,
}


def forwards(apps, schema_editor):
    RequiredDocument = apps.get_model("procedures", "RequiredDocument")
    for condition, months in FRESHNESS.items():
        RequiredDocument.objects.filter(condition=condition, fresh_months__isnull=True).update(
            fresh_months=months
        )


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0006_requireddocument_fresh_months"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
