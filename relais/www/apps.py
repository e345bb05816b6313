from django.apps import AppConfig
from django.urls import register_converter


class WwwConfig(AppConfig):
    name = "relais.www"
    label = "www"
    verbose_name = "Interface"

    def ready(self) -> None:
        from relais.www.converters import IdConverter

        # Before any URL configuration is read: every number in a URL goes through it.
        register_converter(IdConverter, "id")
