from .navigation import nav_items


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    ctx = request.ctx
    return {"ctx": ctx, "nav_items": nav_items(ctx)}
