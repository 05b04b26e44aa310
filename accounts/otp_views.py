"""Pages for two-factor sign-in, recovery codes, and signing out everywhere."""

import base64
import io

import django_otp
import qrcode
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from qrcode.image.pil import PilImage

from .forms import OneTimeCodeForm
from .security import end_all_sessions
from .two_factor import (
    confirm_authenticator,
    has_authenticator,
    issue_recovery_codes,
    must_use_two_factor,
    normalise_code,
    pending_authenticator,
    recovery_codes_left,
    two_factor_exempt,
    verify_code,
)

NEW_CODES_SESSION_KEY = "policyhub_new_recovery_codes"
WRONG_CODE = "That code did not work. Check your phone's clock is right, then try the newest code."
TOO_MANY_HERE = "Too many wrong codes from this browser. Wait {seconds} seconds, then try the newest code."
CODES_PAUSED = (
    "Too many wrong codes have been entered for this account in the last hour, so codes from the "
    "app are paused. Use one of your recovery codes, or try again in an hour. If the wrong codes "
    "were not yours, someone knows your password: change it once you are in."
)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _qr_data_uri(text: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=PilImage, box_size=6, border=2).save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _signed_in_with(request, device) -> None:
    """This session is now verified; a new session key, as at any change of privilege."""
    django_otp.login(request, device)
    request.session.cycle_key()


@two_factor_exempt
def two_factor_setup(request):
    user = request.user
    next_url = _next_url(request)
    if has_authenticator(user) and not user.is_verified():
        # Setting up a new app must not be a way round the one already set up.
        return redirect(_with_next("two_factor_verify", next_url))
    device = pending_authenticator(user)
    form = OneTimeCodeForm(request.POST or None, label="6-digit code from the app")
    if form.is_valid():
        if device.verify_token(normalise_code(form.cleaned_data["code"])):
            confirm_authenticator(device)
            _signed_in_with(request, device)
            request.session[NEW_CODES_SESSION_KEY] = issue_recovery_codes(user)
            messages.success(request, "Two-step verification is on.")
            return redirect(_with_next("recovery_codes", next_url))
        form.add_error("code", WRONG_CODE)
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": _qr_data_uri(device.config_url),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "required": must_use_two_factor(user),
            "replacing": has_authenticator(user),
        },
    )


@two_factor_exempt
def two_factor_verify(request):
    user = request.user
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    if not has_authenticator(user):
        return redirect(_with_next("two_factor_setup", next_url))
    form = OneTimeCodeForm(
        request.POST or None,
        label="Code",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )
    if form.is_valid():
        check = verify_code(request, user, form.cleaned_data["code"])
        if check.device is not None:
            _signed_in_with(request, check.device)
            if isinstance(check.device, StaticDevice):
                left = recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code; {left} left. Make new ones from Security.")
            return redirect(next_url)
        if check.wait_seconds:
            form.add_error("code", TOO_MANY_HERE.format(seconds=check.wait_seconds))
        elif check.paused:
            form.add_error("code", CODES_PAUSED)
        else:
            form.add_error("code", WRONG_CODE)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


def recovery_codes(request):
    """Shows new recovery codes once (after set-up or regeneration); POST makes a new set."""
    user = request.user
    if not (has_authenticator(user) and user.is_verified()):
        return redirect("account_security")
    if request.method == "POST":
        request.session[NEW_CODES_SESSION_KEY] = issue_recovery_codes(user)
        return redirect("recovery_codes")
    codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "left": recovery_codes_left(user), "next": _next_url(request)},
    )


def account_security(request):
    user = request.user
    return render(
        request,
        "accounts/security.html",
        {
            "enrolled": has_authenticator(user),
            "required": must_use_two_factor(user),
            "codes_left": recovery_codes_left(user),
        },
    )


@require_POST
def sign_out_everywhere(request):
    """Ends every session of this user, on every device, this one included."""
    user = request.user
    end_all_sessions(user)
    logout(request)
    messages.success(request, "You have been signed out everywhere. Sign in again to carry on here.")
    return redirect("login")
