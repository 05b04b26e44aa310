import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import get_script_prefix
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from .forms import EmailAuthenticationForm, SignInLinkForm, SwitchSchoolForm
from .middleware import SESSION_KEY
from .models import SingleSignOnProvider
from .sign_in_link import LINK_LIFETIME, grant_pass, link_is_live, request_link, use_link
from .sso import Refused, callback_throttled, finish, record_refusal, refusal_message, start
from .sso_buttons import sign_in_buttons
from .two_factor import SSO_MFA_SESSION_KEY

# The sign-in page as first asked for (a GET without a query, no message waiting) is the same for
# everyone but its CSRF token: it is written once per process and set of sign-in buttons, with a slot
# where each response puts a token of its own (docs/performance.md). Anything else (a `next`, a
# message, a refused sign-in) is written afresh.
_TOKEN_INPUT = re.compile(r'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(")')
_TOKEN_SLOT = "\x00csrf-token\x00"  # noqa: S105 (a slot, not a secret)
_kept_sign_in_pages: dict = {}


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # Kept per process for a minute (accounts/sso_buttons.py); sso_start re-checks the database.
        return super().get_context_data(**kwargs) | {"sso_providers": sign_in_buttons()}

    def get(self, request, *args, **kwargs):
        if settings.DEBUG or request.GET or len(messages.get_messages(request)):
            return super().get(request, *args, **kwargs)
        key = (sign_in_buttons(), get_script_prefix())
        page = _kept_sign_in_pages.get(key)
        if page is not None:
            return HttpResponse(page.replace(_TOKEN_SLOT, get_token(request)))
        response = super().get(request, *args, **kwargs).render()
        slotted, found = _TOKEN_INPUT.subn(rf"\g<1>{_TOKEN_SLOT}\g<2>", response.content.decode(response.charset))
        if found == 1:  # the one form's token, and nothing else of this request in it
            if len(_kept_sign_in_pages) >= 16:  # buttons changed: the old pages are of no use
                _kept_sign_in_pages.clear()
            _kept_sign_in_pages[key] = slotted
        return response


@receiver(setting_changed, dispatch_uid="kept-sign-in-pages")
def _forget_sign_in_pages(**kwargs):
    _kept_sign_in_pages.clear()


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # The reset link proved the person reads the account's email, as a sign-in link does: this
        # browser may sign in with the new password even if a stranger has tripped the hourly cap.
        grant_pass(self.request, form.user)
        return response


@require_POST
def switch_school(request):
    form = SwitchSchoolForm(request.POST)
    if not form.is_valid():
        raise Http404
    school = next((s for s in request.ctx.schools if s.pk == form.cleaned_data["school"]), None)
    if school is None:
        raise Http404
    request.session[SESSION_KEY] = school.pk
    messages.success(request, f"You are now working in {school.name}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "home"
    return redirect(target)


@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in_link_request(request):
    """Ask for a one-time sign-in link: the way in when a stranger's failures have paused sign-in."""
    form = SignInLinkForm(request.POST or None)
    if form.is_valid():
        request_link(form.cleaned_data["email"])
        return redirect("sign_in_link_sent")  # the same answer whether or not the account exists
    return render(request, "registration/sign_in_link_form.html", {"form": form})


@login_not_required
def sign_in_link_sent(request):
    return render(request, "registration/sign_in_link_sent.html", {"minutes": _link_minutes()})


@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in_link(request, token):
    """GET shows a button; only pressing it (POST) uses the link, so a mail scanner that fetches
    links does not spend it."""
    if request.method == "POST":
        if use_link(request, token):
            messages.success(
                request,
                "Thank you. Now sign in with your email address and password, in this browser, within 15 minutes.",
            )
            return redirect("login")
    elif link_is_live(token):
        return render(request, "registration/sign_in_link_use.html")
    return render(request, "registration/sign_in_link_invalid.html", {"minutes": _link_minutes()}, status=400)


def _link_minutes() -> int:
    return int(LINK_LIFETIME.total_seconds() // 60)


@login_not_required
@require_http_methods(["GET"])
def sso_start(request, slug):
    """A link on the sign-in page. GET, not a form: the CSP's form-action 'self' would stop the
    browser following a form's redirect to the provider. Another site starting a flow in someone's
    browser gains nothing: the flow can only sign that browser in as whoever signs in at the
    provider, and a callback is accepted only by the browser that started it (accounts.sso)."""
    provider = get_object_or_404(SingleSignOnProvider, slug=slug, is_active=True)
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    try:
        return redirect(start(request, provider, target))
    except Refused as refusal:
        return render(request, "registration/sso_refused.html", {"message": refusal.message}, status=503)


@login_not_required
@require_http_methods(["GET"])
def sso_callback(request):
    """Where the provider sends the browser back. Every refusal is audited with its reason, and
    counts towards the per-address limit checked before anything else is done."""
    if callback_throttled(request):
        message = refusal_message("throttled", None)
        return render(request, "registration/sso_refused.html", {"message": message}, status=429)
    try:
        signed_in = finish(request, request.GET)
    except Refused as refusal:
        record_refusal(request, refusal)
        return render(request, "registration/sso_refused.html", {"message": refusal.message}, status=403)
    request.policyhub_sign_in_detail = {
        "method": "sso",
        "provider": signed_in.provider.slug,
        "mfa": signed_in.mfa,
    }
    login(request, signed_in.user, backend="accounts.backends.PersonBackend")
    if signed_in.mfa:
        # After login(), which keeps session data across the new key: this session only.
        request.session[SSO_MFA_SESSION_KEY] = signed_in.provider.pk
    target = signed_in.next_url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "home"
    return redirect(target)
