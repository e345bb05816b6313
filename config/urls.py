from django.contrib import admin
from django.urls import include, path

from relais.www.admin_site import protect_admin

protect_admin(admin.site)

urlpatterns = [
    path("", include("relais.www.urls")),
    path("compte/", include("relais.www.accounts.urls")),
    path("structure/", include("relais.www.organisations.urls")),
    path("journal/", include("relais.www.journal.urls")),
    path("charte/", include("relais.www.charter.urls")),
    path("personnes/", include("relais.www.persons.urls")),
    path("personnes/", include("relais.www.portal.account_urls")),
    path("mon-espace/", include("relais.www.portal.urls")),
    path("", include("relais.www.documents.urls")),
    path("", include("relais.www.procedures.urls")),
    path("administration/", admin.site.urls),
]
