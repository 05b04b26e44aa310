"""The page frame (templates/base.html) and the sign-in page, without per-request work whose answer
never changes within a process (docs/performance.md):
- the menu, written in Python once per pair of role sets and page, not by a template loop and a
  reverse() per entry on every page (the markup is the loop's: tests/accounts/test_page_frame.py);
- the addresses of static files and of pages (with their arguments), kept once computed.
Each memo's key holds what the answer depends on (the URL prefix and urlconf of the request);
changed settings (tests) empty them."""

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from accounts import pages

register = template.Library()
CURRENT_PAGE = SafeString(' active" aria-current="page')


@register.simple_tag
def fixed_url(name: str, *args) -> str:
    """{% url name arg... %}: a page's address, with its positional arguments (a clause's id), is
    the same for the life of the process; the last 4,096 asked for are kept."""
    return _reverse(name, args, get_script_prefix(), get_urlconf())


@register.simple_tag
def fixed_static(path: str) -> str:
    """{% static path %}: the storage's answer for a path is fixed once the process has started."""
    return _static(path, get_script_prefix())


@lru_cache(maxsize=4096)
def _reverse(name: str, args: tuple, _prefix: str, _urlconf) -> str:
    return reverse(name, args=args)


@lru_cache(maxsize=256)
def _static(path: str, _prefix: str) -> str:
    return static(path)


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The person's menu entries (accounts/pages.py), the page being shown marked as current."""
    # From the context, not the request: error pages (_error_page.html) render the menu with
    # request=None, so that nothing of the address asked for shows; then no entry is marked.
    request, ctx = context.get("request"), context.get("ctx")
    if ctx is None:
        return ""
    match = request.resolver_match if request is not None else None
    current, anywhere = pages.role_sets(ctx)
    # The URL prefix and urlconf are part of the key: reverse() depends on them.
    return _menu(current, anywhere, match.view_name if match else None, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=2048)
def _menu(current: frozenset, anywhere: frozenset, shown: str | None, _prefix: str, _urlconf) -> str:
    return format_html_join(
        "\n",
        '<li class="nav-item"><a class="nav-link{}" href="{}">{}</a></li>',
        (
            (CURRENT_PAGE if shown == p.url_name else "", reverse(p.url_name), p.label)
            for p in pages.menu_for(current, anywhere)
        ),
    )


@receiver(setting_changed, dispatch_uid="page-frame-memos")
def _forget(**kwargs):
    for memo in (_reverse, _static, _menu):
        memo.cache_clear()
