"""The project's URLs plus /bench-hello/: the yardstick bench/pages.py measures every page against."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path


@login_not_required
def hello(request):
    return HttpResponse("Hello, world")


urlpatterns = [path("bench-hello/", hello), path("", include("policyhub.urls"))]
