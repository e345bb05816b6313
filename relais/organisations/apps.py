from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "relais.organisations"
    label = "organisations"
    verbose_name = "Structures"
