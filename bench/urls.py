from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


@login_not_required
def hello(request: HttpRequest) -> HttpResponse:
    """The baseline every page is measured against: Django with no template, no query."""
    return HttpResponse("hello")


def hello_professional(request: HttpRequest) -> HttpResponse:
    """The same answer behind the whole middleware stack for a logged-in professional
    (session, user, second factor, acting organisation, charter): what any page pays."""
    return HttpResponse("hello")


urlpatterns = [
    path("bench/hello/", hello),
    path("bench/hello-professionnel/", hello_professional),
    path("", include("config.urls")),
]
