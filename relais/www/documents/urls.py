from django.urls import path

from relais.www.documents import views

app_name = "documents"

urlpatterns = [
    path("personnes/<id:person_id>/pieces/", views.document_list, name="list"),
    path("personnes/<id:person_id>/pieces/ajouter/", views.upload, name="upload"),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/telecharger/",
        views.download,
        name="download",
    ),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/voir/",
        views.show,
        name="show",
    ),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/versions/",
        views.versions,
        name="versions",
    ),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/versions/<id:number>/telecharger/",
        views.version_download,
        name="version_download",
    ),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/remplacer/",
        views.replace,
        name="replace",
    ),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/modifier/",
        views.edit,
        name="edit",
    ),
    path(
        "personnes/<id:person_id>/pieces/<id:document_id>/supprimer/",
        views.delete,
        name="delete",
    ),
    path("pieces/a-renouveler/", views.expiring, name="expiring"),
]
