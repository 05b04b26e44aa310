"""The admin shows policy rows but never edits them (writes go through the services)."""

import pytest
from django.urls import reverse

from policyhub.models import Clause
from tests.factories import UserFactory
from tests.policyhub.policy_data import trust_policy

pytestmark = pytest.mark.django_db

MODELS = ["policy", "policyadoption", "policyversion", "clause", "acknowledgement", "acknowledgementreminder"]


def test_admin_lists_and_shows_policy_rows_read_only(client, cast):
    version = trust_policy(cast)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model in MODELS:
        assert client.get(reverse(f"admin:policyhub_{model}_changelist")).status_code == 200, model
    clause = Clause.objects.filter(version=version).first()
    response = client.get(reverse("admin:policyhub_clause_change", args=[clause.pk]))
    assert response.status_code == 200 and 'name="text"' not in response.content.decode()
    assert client.get(reverse("admin:policyhub_policyversion_add")).status_code == 403
    response = client.post(reverse("admin:policyhub_clause_delete", args=[clause.pk]), {"post": "yes"})
    assert response.status_code == 403 and Clause.objects.filter(pk=clause.pk).exists()
