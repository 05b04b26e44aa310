"""The provider's own sign-in page (password, and its one-time code when the person has one) and the
set-up calls only the test process that started the provider may make (a bearer token it chose)."""

import hmac
import json
import os

from django import forms
from django.contrib.auth import authenticate, get_user_model, login
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_protect
from oauth2_provider.models import get_application_model

from .models import Person


class SignInForm(forms.Form):
    username = forms.CharField()
    password = forms.CharField(widget=forms.PasswordInput)
    code = forms.CharField(required=False, label="One-time code (if you have one)")


@csrf_protect
def sign_in(request):
    next_url = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["username"], password=form.cleaned_data["password"])
        person = getattr(user, "person", None)
        code = form.cleaned_data["code"]
        if user is None or person is None:
            form.add_error(None, "Wrong username or password.")
        elif code and code != person.one_time_code:
            form.add_error("code", "Wrong code.")
        else:
            person.last_methods = ["pwd", "mfa"] if code else ["pwd"]
            person.save(update_fields=["last_methods"])
            login(request, user)
            response = HttpResponse(status=302)
            response["Location"] = next_url
            return response
    return render(request, "sign_in.html", {"form": form, "next": next_url})


def _allowed(request) -> bool:
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return hmac.compare_digest(sent.encode(), os.environ["DOT_PROVIDER_TEST_TOKEN"].encode())


def set_up_client(request):
    """Register PolicyHub as a confidential client: authorization code, RS256, PKCE, no consent page."""
    if request.method != "POST" or not _allowed(request):
        return HttpResponseForbidden()
    body = json.loads(request.body)
    Application = get_application_model()
    Application.objects.filter(client_id=body["client_id"]).delete()
    Application.objects.create(
        name="PolicyHub",
        client_id=body["client_id"],
        client_secret=body["client_secret"],  # hashed when saved
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=body["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    return JsonResponse({"ok": True})


def set_up_person(request):
    """Create or replace a person who can sign in at the provider."""
    if request.method != "POST" or not _allowed(request):
        return HttpResponseForbidden()
    body = json.loads(request.body)
    User = get_user_model()
    User.objects.filter(username=body["username"]).delete()
    user = User.objects.create_user(body["username"], email=body["email"], password=body["password"])
    Person.objects.create(
        user=user,
        email_verified=body.get("email_verified", True),
        tenant=body.get("tenant", ""),
        one_time_code=body.get("one_time_code", ""),
    )
    return JsonResponse({"ok": True})
