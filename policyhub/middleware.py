from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than the uploads it may carry, before anything reads it: 413.

    Django's upload settings bound memory use, not the size of a request; the evidence checks
    (incidents/evidence.py) bound each file. This stops an oversize body at the door."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            body = render_to_string("413.html", {"limit_mb": settings.MAX_REQUEST_BYTES // (1024 * 1024)})
            return HttpResponse(body, status=413)
        return self.get_response(request)
