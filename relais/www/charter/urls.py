from django.urls import path

from relais.www.charter import views

app_name = "consent"

urlpatterns = [
    path("", views.charter, name="charter"),
    path("refus/", views.charter_refusal, name="charter_refusal"),
    path("pilotage/", views.charter_edit, name="charter_edit"),
]
