from django.urls import path

from relais.www.procedures import views

app_name = "procedures"

_ONE = "personnes/<id:person_id>/demarches/<id:procedure_id>/"

urlpatterns = [
    path("personnes/<id:person_id>/demarches/", views.person_procedures, name="person"),
    path("personnes/<id:person_id>/demarches/ouvrir/", views.procedure_open, name="open"),
    path(_ONE, views.procedure_detail, name="detail"),
    path(f"{_ONE}etat/", views.procedure_transition, name="transition"),
    path(f"{_ONE}dates/", views.procedure_update, name="update"),
    path(f"{_ONE}etapes/<id:step_index>/", views.procedure_step, name="step"),
    path(f"{_ONE}pieces/<id:requirement_id>/", views.checklist_link, name="link"),
    path(
        f"{_ONE}pieces/<id:requirement_id>/non-concerne/",
        views.checklist_not_applicable,
        name="not_applicable",
    ),
    path("demarches/", views.mine, name="mine"),
    path("demarches/structure/", views.organisation_list, name="organisation"),
    path("demarches/catalogue/", views.catalogue_list, name="catalogue"),
    path("demarches/catalogue-retirees/", views.catalogue_withdrawn, name="catalogue_withdrawn"),
    path("demarches/catalogue/<slug:slug>/", views.catalogue_entry, name="catalogue_entry"),
    path("demarches/catalogue/<slug:slug>/guide/", views.catalogue_guide, name="guide"),
    path("demarches/catalogue/<slug:slug>/modifier/", views.catalogue_edit, name="catalogue_edit"),
    path("demarches/catalogue/<slug:slug>/toml/", views.catalogue_toml, name="catalogue_toml"),
]
