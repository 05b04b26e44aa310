"""The admin shows policy rows but never edits them (writes go through the services).

Checked on the ModelAdmins themselves, so the test does not depend on how the admin site signs people in.
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from policyhub.models import (
    Acknowledgement,
    AcknowledgementReminder,
    Clause,
    Policy,
    PolicyAdoption,
    PolicyVersion,
)
from tests.factories import UserFactory
from tests.policyhub.policy_data import trust_policy

pytestmark = pytest.mark.django_db

MODELS = [Policy, PolicyAdoption, PolicyVersion, Clause, Acknowledgement, AcknowledgementReminder]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_shows_policy_rows_but_cannot_add_change_or_delete_them(cast, model):
    version = trust_policy(cast)
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]
    obj = model.objects.first() or Clause.objects.filter(version=version).first()
    assert model_admin.has_view_permission(request, obj)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert model_admin.get_queryset(request).count() == model.objects.count()
