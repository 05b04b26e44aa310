import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .models import Membership, ProviderKind, Role, School, SingleSignOnGroupRole, SingleSignOnProvider, User
from .sso import Refused, encrypt_secret, password_sign_in_refused, record_refusal

DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. Check both and try again.",
    }
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self):
        # Addresses are stored lower-case; people type them however they like.
        return self.cleaned_data["username"].strip().lower()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        provider = password_sign_in_refused(user)
        if provider is not None:
            # The trust made its provider the only way in; the password was right, so say so plainly.
            record_refusal(self.request, Refused("password_sign_in_off", provider, user=user), object_type="password")
            raise forms.ValidationError(
                f"Your trust signs in with {provider.label} only. Use the {provider.label} button below.",
                code="sso_only",
            )


class SwitchSchoolForm(forms.Form):
    school = forms.IntegerField(widget=forms.HiddenInput)


class OneTimeCodeForm(forms.Form):
    """A code from an authenticator app (or, where allowed, a recovery code)."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false", "autocapitalize": "off"}
        ),
    )

    def __init__(self, *args, label=None, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["code"].label = label
        if help_text:
            self.fields["code"].help_text = help_text


class SignInLinkForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class SingleSignOnProviderForm(forms.ModelForm):
    """A trust's provider settings. The client secret is write-only: it is never put back in the
    page, and an empty box keeps the one stored (accounts.sso encrypts it)."""

    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current one, "
        "or name an environment variable instead.",
    )

    # Declared here so that a URL typed without a scheme means https (Django 6's default).
    issuer = forms.URLField(required=False, assume_scheme="https")
    authorization_endpoint = forms.URLField(required=False, assume_scheme="https")
    token_endpoint = forms.URLField(required=False, assume_scheme="https")
    jwks_uri = forms.URLField(label="JWKS URI", required=False, assume_scheme="https")

    class Meta:
        model = SingleSignOnProvider
        fields = [
            "trust",
            "slug",
            "label",
            "kind",
            "is_active",
            "tenant_id",
            "hosted_domain",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "client_id",
            "client_secret_env",
            "allowed_domains",
            "create_staff_at",
            "trust_provider_mfa",
            "password_sign_in",
            "break_glass_user",
        ]

    def __init__(self, *args, trusts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if trusts is not None:  # a trust admin's page: only their trusts, schools and trust admins
            self.fields["trust"].queryset = trusts
            self.fields["create_staff_at"].queryset = School.objects.filter(trust__in=trusts)
            self.fields["break_glass_user"].queryset = User.objects.filter(
                memberships__role=Role.TRUST_ADMIN, memberships__school__trust__in=trusts
            ).distinct()

    def clean_allowed_domains(self):
        domains = [d.strip().lower() for d in self.cleaned_data["allowed_domains"].split(",") if d.strip()]
        bad = [d for d in domains if not DOMAIN.fullmatch(d)]
        if bad or not domains:
            raise forms.ValidationError("List email domains such as riverside.sch.uk, separated by commas.")
        return ", ".join(domains)

    def clean(self):
        data = super().clean()
        kind, trust = data.get("kind"), data.get("trust")
        if kind == ProviderKind.ENTRA and not GUID.fullmatch(data.get("tenant_id") or ""):
            self.add_error("tenant_id", "Copy the Directory (tenant) ID from Entra: a GUID like 0e4c…-….")
        if kind == ProviderKind.GOOGLE and not data.get("hosted_domain"):
            self.add_error("hosted_domain", "Enter the Workspace primary domain, e.g. riverside.sch.uk.")
        if kind == ProviderKind.OIDC:
            for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not data.get(name):
                    self.add_error(name, "Needed for this kind of provider: see its discovery document.")
        domains = {d.strip() for d in (data.get("allowed_domains") or "").split(",") if d.strip()}
        others = SingleSignOnProvider.objects.exclude(pk=self.instance.pk)
        taken = sorted(d for other in others for d in other.domains() & domains)
        if taken:
            # One provider per domain: otherwise one trust's provider could vouch for another's staff.
            self.add_error("allowed_domains", f"Another provider already signs in {', '.join(taken)}.")
        school = data.get("create_staff_at")
        if school is not None and trust is not None and school.trust_id != trust.pk:
            self.add_error("create_staff_at", "Choose one of this trust's schools.")
        keeper = data.get("break_glass_user")
        trust_admins = Membership.objects.filter(role=Role.TRUST_ADMIN, school__trust=trust)
        if keeper is not None and trust is not None and not trust_admins.filter(user=keeper).exists():
            self.add_error("break_glass_user", "The break-glass account must be a trust admin of this trust.")
        if data.get("password_sign_in") is False and keeper is None:
            self.add_error("break_glass_user", "Name a break-glass trust admin before turning password sign-in off.")
        has_secret = data.get("client_secret") or data.get("client_secret_env") or self.instance.client_secret_encrypted
        if not has_secret:
            self.add_error("client_secret", "Enter the client secret, or name the environment variable that holds it.")
        return data

    def save(self, commit=True):
        provider = super().save(commit=False)
        secret = self.cleaned_data.get("client_secret")
        if secret:
            provider.client_secret_encrypted = encrypt_secret(secret)
            provider.client_secret_env = ""
        elif provider.client_secret_env:
            provider.client_secret_encrypted = ""
        if commit:
            provider.save()
        return provider


class SingleSignOnGroupRoleForm(forms.ModelForm):
    class Meta:
        model = SingleSignOnGroupRole
        fields = ["provider", "group", "school", "role"]

    def __init__(self, *args, provider=None, **kwargs):
        super().__init__(*args, **kwargs)
        if provider is not None:  # a trust admin's page: this provider, its trust's schools
            self.fields["provider"].queryset = SingleSignOnProvider.objects.filter(pk=provider.pk)
            self.fields["provider"].initial = provider.pk
            self.fields["provider"].widget = forms.HiddenInput()
            self.fields["school"].queryset = School.objects.filter(trust_id=provider.trust_id)

    def clean(self):
        data = super().clean()
        provider, school = data.get("provider"), data.get("school")
        if provider is not None and school is not None and school.trust_id != provider.trust_id:
            self.add_error("school", "Choose one of the provider's trust's schools.")
        return data
