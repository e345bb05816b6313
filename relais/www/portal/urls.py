from django.urls import path

from relais.www.portal import login_views, views

app_name = "portal"

urlpatterns = [
    path("connexion/", login_views.login, name="login"),
    path("connexion/code/", login_views.login_code, name="login_code"),
    path("connexion/code/saisir/", login_views.login_code_check, name="login_code_check"),
    path("connexion/mot-de-passe/", login_views.login_password, name="login_password"),
    path("connexion/carte/", login_views.login_card, name="login_card"),
    path("activer/", login_views.activate, name="activate"),
    path("mot-de-passe/", login_views.password_choose, name="password_choose"),
    path("deconnexion/", login_views.logout, name="logout"),
    path("", views.home, name="home"),
    path("mon-dossier/", views.file, name="file"),
    path("mes-papiers/", views.documents, name="documents"),
    path("mes-papiers/ajouter/", views.document_add, name="document_add"),
    path(
        "mes-papiers/<id:document_id>/telecharger/",
        views.document_download,
        name="document_download",
    ),
    path(
        "mes-papiers/<id:document_id>/enlever/",
        views.document_remove,
        name="document_remove",
    ),
    path("mes-demarches/", views.procedures, name="procedures"),
    path(
        "mes-demarches/<id:procedure_id>/guide/",
        views.procedure_guide,
        name="procedure_guide",
    ),
    path("qui-peut-voir/", views.consents, name="consents"),
    path("qui-peut-voir/donner-un-accord/", views.consent_grant, name="consent_grant"),
    path(
        "qui-peut-voir/accords/<id:consent_id>/retirer/",
        views.consent_revoke,
        name="consent_revoke",
    ),
    path("qui-peut-voir/bloquer/", views.block, name="block"),
    path("qui-peut-voir/blocages/<id:block_id>/lever/", views.block_lift, name="block_lift"),
    path("qui-peut-voir/urgence/", views.break_glass, name="break_glass"),
    path("qui-a-regarde/", views.history, name="history"),
    path("mes-donnees/", views.export, name="export"),
    path("export/schema.json", views.export_schema, name="export_schema"),
    path("langue/", views.language, name="language"),
]
