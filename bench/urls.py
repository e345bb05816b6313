from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


@login_not_required
def hello(request: HttpRequest) -> HttpResponse:
    """The baseline every page is measured against: Django with no template, no query."""
    return HttpResponse("hello")


urlpatterns = [
    path("bench/hello/", hello),
    path("", include("config.urls")),
]
