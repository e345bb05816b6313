"""The commitments a professional accepts are kept with each version of the charter.

Until now they were written in the charter page's template: every version published so far
was accepted with the wording below, which this migration gives each of them, as it stood.
The text is written here rather than read from the code, where a later release may change
it: those versions were not accepted with that later wording.
"""

from django.db import migrations, models

COMMITMENTS_ACCEPTED_SO_FAR = (
    "Je n'ouvre un dossier que pour accompagner la personne, avec son consentement, dans la "
    "limite de ce qu'elle a accepté de partager.\n"
    "\n"
    "Je saisis avec la personne plutôt qu'à sa place, et je lui explique ce que je fais.\n"
    "\n"
    "J'écris des notes objectives et nécessaires ; je n'écris ni diagnostic, ni opinion, ni "
    "jugement.\n"
    "\n"
    "Je n'utilise l'accès exceptionnel qu'en cas de nécessité, en écrivant pourquoi : la "
    "personne et mon responsable le verront.\n"
    "\n"
    "Je ne partage ni mon mot de passe, ni mon second facteur, et je me déconnecte en quittant "
    "le poste.\n"
    "\n"
    "Chacun de mes accès est inscrit dans un journal que la personne peut consulter."
)


def fill_published_versions(apps, schema_editor):
    CharterVersion = apps.get_model("consent", "CharterVersion")
    CharterVersion.objects.filter(commitments="").update(commitments=COMMITMENTS_ACCEPTED_SO_FAR)


class Migration(migrations.Migration):
    dependencies = [("consent", "0006_charter_acceptance_rights")]

    operations = [
        migrations.AddField(
            model_name="charterversion",
            name="commitments",
            field=models.TextField(default="", verbose_name="engagements"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_published_versions, migrations.RunPython.noop),
    ]
