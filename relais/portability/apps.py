from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    name = "relais.portability"
    label = "portability"
    verbose_name = "Portabilité des données"
