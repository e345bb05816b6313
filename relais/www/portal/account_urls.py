"""The professional's side of the person's space, in the person's file."""

from django.urls import path

from relais.www.portal import account_views

app_name = "person_account"

urlpatterns = [
    path("<id:person_id>/espace-personnel/", account_views.manage, name="manage"),
    path(
        "<id:person_id>/espace-personnel/identifiants/",
        account_views.update_identifiers,
        name="update",
    ),
    path("<id:person_id>/espace-personnel/invitation/", account_views.invite, name="invite"),
    path("<id:person_id>/espace-personnel/retablir/", account_views.recover, name="recover"),
    path("<id:person_id>/espace-personnel/fermer/", account_views.close, name="close"),
]
