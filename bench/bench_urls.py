"""The project's URLs plus /bench-hello/, the yardstick bench/pages.py measures every page against, and
/bench-signed-in/, the same for a signed-in person: what every signed-in page pays before its own
work (session, person, second factor, memberships, audit actor)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path


@login_not_required
def hello(request):
    return HttpResponse("Hello, world")


def signed_in(request):
    return HttpResponse(f"Hello, {request.ctx.memberships[0].role if request.ctx.memberships else 'nobody'}")


urlpatterns = [path("bench-hello/", hello), path("bench-signed-in/", signed_in), path("", include("policyhub.urls"))]
