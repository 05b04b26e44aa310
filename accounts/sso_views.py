"""A trust admin's pages for the trust's single sign-on providers and group mappings (accounts.sso).

Only trust admins of the provider's trust see a provider (SingleSignOnProvider.objects.visible_to);
anyone else gets 404. Every save is audited by accounts.signals; the client secret is write-only.
"""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from .forms import SingleSignOnGroupRoleForm, SingleSignOnProviderForm
from .models import Role, SingleSignOnGroupRole, SingleSignOnProvider, Trust
from .pages import page
from .sso import redirect_uri, withdraw_mapping


def _trusts(request):
    trusts = Trust.objects.filter(
        Q(schools__memberships__user=request.user, schools__memberships__role=Role.TRUST_ADMIN),
        schools__memberships__user__is_active=True,
    ).distinct()
    if not trusts.exists():
        raise Http404
    return trusts


@page("sso_providers")
def provider_list(request):
    _trusts(request)
    providers = SingleSignOnProvider.objects.visible_to(request.user).select_related("trust")
    return render(
        request, "accounts/sso_providers.html", {"providers": providers, "redirect_uri": redirect_uri(request)}
    )


@require_http_methods(["GET", "POST"])
def provider_edit(request, pk=None):
    trusts = _trusts(request)
    provider = get_object_or_404(SingleSignOnProvider.objects.visible_to(request.user), pk=pk) if pk else None
    form = SingleSignOnProviderForm(request.POST or None, instance=provider, trusts=trusts)
    if form.is_valid():
        provider = form.save()
        messages.success(request, f"Saved {provider.label}.")
        return redirect("sso_provider_edit", pk=provider.pk)
    mappings = provider.group_roles.select_related("school") if provider else []
    return render(
        request,
        "accounts/sso_provider_form.html",
        {
            "form": form,
            "provider": provider,
            "mappings": mappings,
            "mapping_form": SingleSignOnGroupRoleForm(provider=provider) if provider else None,
            "redirect_uri": redirect_uri(request),
        },
    )


# A new provider: a page of the table; an existing one is an object (404 unless one of your trusts').
provider_new = page("sso_provider_new")(provider_edit)


@require_POST
def mapping_add(request, pk):
    provider = get_object_or_404(SingleSignOnProvider.objects.visible_to(request.user), pk=pk)
    form = SingleSignOnGroupRoleForm({**request.POST.dict(), "provider": provider.pk}, provider=provider)
    if form.is_valid():
        form.save()
        messages.success(request, "Group mapping added. Members of the group get the role at their next sign-in.")
    else:
        messages.error(request, "The mapping was not added: " + " ".join(e for es in form.errors.values() for e in es))
    return redirect("sso_provider_edit", pk=provider.pk)


@require_POST
def mapping_remove(request, pk, mapping_pk):
    provider = get_object_or_404(SingleSignOnProvider.objects.visible_to(request.user), pk=pk)
    removed = withdraw_mapping(get_object_or_404(SingleSignOnGroupRole, pk=mapping_pk, provider=provider))
    messages.success(request, f"Group mapping removed, with the {removed} role{pluralize(removed)} it had granted.")
    return redirect("sso_provider_edit", pk=provider.pk)
