from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "relais.documents"
    label = "documents"
    verbose_name = "Pièces justificatives"
