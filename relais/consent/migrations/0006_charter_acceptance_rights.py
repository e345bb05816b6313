from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """An acceptance names the organisation kind and profession whose rights were shown.

    Those recorded before named none: they keep a blank kind and profession, which match no
    membership, so that each professional accepts the current version again, this time for
    the rights the page shows them.
    """

    dependencies = [
        ("consent", "0005_consent_covering_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="charteracceptance",
            name="accept_version_once",
        ),
        migrations.AddField(
            model_name="charteracceptance",
            name="organisation_kind",
            field=models.CharField(
                choices=[
                    ("ccas", "CCAS / CIAS"),
                    ("caf", "CAF"),
                    ("cpam", "CPAM"),
                    ("carsat", "CARSAT"),
                    ("utpas_mds", "UTPAS / Maison départementale des solidarités"),
                    ("mdph", "Maison de l'autonomie / MDPH"),
                    ("france_travail", "France Travail"),
                    ("samsah", "SAMSAH"),
                    ("savs", "SAVS"),
                    ("chrs", "CHRS"),
                    ("cph", "CPH"),
                    ("cada", "CADA"),
                    ("lhss", "LHSS"),
                    ("lam", "LAM"),
                    ("csapa", "CSAPA"),
                    (
                        "pension_de_famille",
                        "Pension de famille / maison relais / résidence accueil",
                    ),
                    ("siao", "SIAO"),
                    ("service_tutelaire", "Service tutélaire (MJPM)"),
                    ("centre_social", "Centre social"),
                    ("mediation_numerique", "Lieu de médiation numérique"),
                    ("association", "Association"),
                    ("autre", "Autre"),
                ],
                default="",
                max_length=30,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="charteracceptance",
            name="profession",
            field=models.CharField(
                choices=[
                    ("ass", "Assistant(e) de service social"),
                    ("cesf", "Conseiller(ère) en économie sociale et familiale"),
                    ("es", "Éducateur(rice) spécialisé(e)"),
                    ("me", "Moniteur(rice)-éducateur(rice)"),
                    ("tisf", "Technicien(ne) de l'intervention sociale et familiale"),
                    ("aes", "Accompagnant(e) éducatif(ve) et social(e)"),
                    ("ets", "Éducateur(rice) technique spécialisé(e)"),
                    ("cip", "Conseiller(ère) en insertion professionnelle"),
                    ("conseiller_numerique", "Conseiller(ère) numérique"),
                    ("mediateur_numerique", "Médiateur(rice) numérique"),
                    ("agent_accueil", "Agent d'accueil"),
                    ("mjpm", "Mandataire judiciaire à la protection des majeurs"),
                    ("infirmier", "Infirmier(ère)"),
                    ("autre", "Autre"),
                ],
                default="",
                max_length=30,
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="charteracceptance",
            constraint=models.UniqueConstraint(
                fields=("user", "version", "organisation_kind", "profession"),
                name="accept_rights_once",
            ),
        ),
    ]
