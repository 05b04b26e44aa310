from django.utils.functional import SimpleLazyObject

from . import pages


def navigation(request):
    """The menu and the set of pages the person may open, both from accounts/pages.py: templates
    link to a page only if `"<url name>" in pages`, the same rule its view enforces."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    ctx = request.ctx
    return {
        "ctx": ctx,
        "nav_items": SimpleLazyObject(lambda: pages.menu(ctx)),
        "pages": SimpleLazyObject(lambda: pages.open_pages(ctx)),
    }
