from django.utils.functional import SimpleLazyObject

from . import pages


def navigation(request):
    """The set of pages the person may open, from accounts/pages.py: templates link to a page only if
    `"<url name>" in pages`, the same rule its view enforces. The menu is {% main_menu %}
    (accounts/templatetags/page_frame.py)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    ctx = request.ctx
    return {
        "ctx": ctx,
        "pages": SimpleLazyObject(lambda: pages.open_pages(ctx)),
    }
