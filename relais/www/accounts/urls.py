from django.urls import path

from relais.www.accounts import views, webauthn_views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("second-facteur/", views.second_factor, name="second_factor"),
    path("second-facteur/activer/", views.second_factor_setup, name="second_factor_setup"),
    path("second-facteur/codes-de-secours/", views.recovery_codes, name="recovery_codes"),
    path(
        "second-facteur/codes-de-secours/nouveaux/",
        views.recovery_codes_regenerate_view,
        name="recovery_codes_regenerate",
    ),
    path(
        "second-facteur/<str:kind>/<int:pk>/retirer/",
        views.second_factor_remove_view,
        name="second_factor_remove",
    ),
    path("structure/", views.choose_organisation, name="choose_organisation"),
    path("mon-compte/", views.profile, name="profile"),
    path("mot-de-passe/", views.password_change_view, name="password_change"),
    path("mot-de-passe-oublie/", views.password_reset_request_view, name="password_reset"),
    path("mot-de-passe-oublie/envoye/", views.password_reset_sent, name="password_reset_sent"),
    path("mot-de-passe-oublie/nouveau/", views.password_reset_choose, name="password_reset_choose"),
    path(
        "nouveau-mot-de-passe/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path(
        "cle/enregistrement/options/",
        webauthn_views.register_options,
        name="webauthn_register_options",
    ),
    path("cle/enregistrement/", webauthn_views.register_verify, name="webauthn_register"),
    path(
        "cle/verification/options/",
        webauthn_views.authenticate_options,
        name="webauthn_authenticate_options",
    ),
    path("cle/verification/", webauthn_views.authenticate_verify, name="webauthn_authenticate"),
]
