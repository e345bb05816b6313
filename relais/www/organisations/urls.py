from django.urls import path

from relais.www.organisations import views

app_name = "organisations"

urlpatterns = [
    path("equipe/", views.members, name="members"),
    path("equipe/inviter/", views.invite, name="invite"),
    path("equipe/<id:membership_id>/modifier/", views.edit_member, name="edit_member"),
    path("equipe/<id:membership_id>/desactiver/", views.deactivate, name="deactivate"),
    path("equipe/<id:membership_id>/reinviter/", views.reinvite, name="reinvite"),
    path(
        "equipe/<id:membership_id>/second-facteur/",
        views.reset_second_factor,
        name="reset_second_factor",
    ),
    path(
        "equipe/invitations/<id:invitation_id>/annuler/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("pilotage/", views.pilot_list, name="pilot_list"),
    path("pilotage/nouvelle/", views.pilot_create, name="pilot_create"),
    path("pilotage/<id:organisation_id>/", views.pilot_detail, name="pilot_detail"),
    path(
        "pilotage/<id:organisation_id>/invitations/<id:invitation_id>/annuler/",
        views.pilot_revoke_invitation,
        name="pilot_revoke_invitation",
    ),
]
