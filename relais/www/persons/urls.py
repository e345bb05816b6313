from django.urls import path

from relais.www.persons import consent_views, views

app_name = "persons"

urlpatterns = [
    path("", views.person_list, name="list"),
    path("nouvelle/", views.person_create, name="create"),
    path("acces-exceptionnel/", consent_views.break_glass, name="break_glass"),
    path("fusion/", views.merge, name="merge"),
    path("<id:person_id>/", views.file, name="file"),
    path("<id:person_id>/nir/", views.nir_reveal, name="nir_reveal"),
    path("<id:person_id>/nir/modifier/", views.nir_edit, name="nir_edit"),
    path("<id:person_id>/rubrique/<slug:category>/", views.section, name="section"),
    path(
        "<id:person_id>/rubrique/<slug:category>/modifier/",
        views.section_edit,
        name="section_edit",
    ),
    path("<id:person_id>/foyer/ajouter/", views.member_add, name="member_add"),
    path("<id:person_id>/foyer/<id:item_id>/retirer/", views.member_remove, name="member_remove"),
    path("<id:person_id>/ressources/ajouter/", views.resource_add, name="resource_add"),
    path(
        "<id:person_id>/ressources/<id:item_id>/retirer/",
        views.resource_remove,
        name="resource_remove",
    ),
    path("<id:person_id>/notes/ajouter/", views.note_add, name="note_add"),
    path("<id:person_id>/referents/", views.referents, name="referents"),
    path("<id:person_id>/historique/", views.history, name="history"),
    path("<id:person_id>/consentements/", consent_views.consents, name="consents"),
    path("<id:person_id>/consentements/code/", consent_views.send_code, name="consent_code"),
    path(
        "<id:person_id>/consentements/<id:consent_id>/retirer/",
        consent_views.revoke,
        name="consent_revoke",
    ),
    path(
        "<id:person_id>/consentements/<id:consent_id>/attestation/",
        consent_views.attestation,
        name="consent_attestation",
    ),
    path("<id:person_id>/blocages/", consent_views.blocks, name="blocks"),
    path(
        "<id:person_id>/acces-exceptionnels/preference/",
        consent_views.break_glass_preference,
        name="break_glass_preference",
    ),
]
