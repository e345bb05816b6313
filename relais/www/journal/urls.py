from django.urls import path

from relais.www.journal import views

app_name = "journal"

urlpatterns = [
    path("", views.journal, name="list"),
]
