from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .forms import EmailAuthenticationForm, SwitchSchoolForm
from .middleware import SESSION_KEY


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


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
