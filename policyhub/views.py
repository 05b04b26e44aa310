from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Role


@require_GET
def home(request):
    ctx = request.ctx
    return render(
        request,
        "home.html",
        {
            "is_staff_member": ctx.has_role(Role.STAFF),
            "is_owner": ctx.has_role(Role.HEAD, Role.DSL, Role.CHAIR),
            "is_governor": ctx.has_role(Role.GOVERNOR, Role.CHAIR),
            "is_trust_admin": ctx.has_role(Role.TRUST_ADMIN),
            "is_dpo": ctx.has_role(Role.DPO),
        },
    )


@login_not_required
@require_GET
def healthz(request):
    """For load balancers and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
