from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "relais.consent"
    label = "consent"
    verbose_name = "Consentements et charte d'usages"
