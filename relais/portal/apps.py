from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "relais.portal"
    label = "portal"
    verbose_name = "Espace personnel"
