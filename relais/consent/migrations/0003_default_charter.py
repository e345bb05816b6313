"""Publish the default charte d'usages (version 1) when the database is created, so that
every deployment starts with the documented default (docs/charte.md)."""

from django.db import migrations


def publish_default(apps, schema_editor):
    from relais.consent.charter import default_matrix

    CharterVersion = apps.get_model("consent", "CharterVersion")
    CharterRule = apps.get_model("consent", "CharterRule")
    if CharterVersion.objects.exists():
        return
    version = CharterVersion.objects.create(
        number=1,
        published_by_label="Relais (installation)",
        summary="Version initiale : la charte par défaut de Relais.",
    )
    CharterRule.objects.bulk_create(
        CharterRule(
            version=version,
            organisation_kind=kind,
            profession=profession,
            category=category,
            level=level,
        )
        for (kind, profession, category), level in default_matrix().items()
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_initial")]

    operations = [migrations.RunPython(publish_default, migrations.RunPython.noop)]
