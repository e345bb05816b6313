from django.urls import path

from relais.www.documents import views

app_name = "documents"

urlpatterns = [
    path("personnes/<int:person_id>/pieces/", views.document_list, name="list"),
    path("personnes/<int:person_id>/pieces/ajouter/", views.upload, name="upload"),
    path(
        "personnes/<int:person_id>/pieces/<int:document_id>/telecharger/",
        views.download,
        name="download",
    ),
    path(
        "personnes/<int:person_id>/pieces/<int:document_id>/remplacer/",
        views.replace,
        name="replace",
    ),
    path(
        "personnes/<int:person_id>/pieces/<int:document_id>/supprimer/",
        views.delete,
        name="delete",
    ),
    path("pieces/a-renouveler/", views.expiring, name="expiring"),
]
