"""The approvals' world: the shared cast, with two more members of Oakfield's staff (Tess and
Una), a deputy the head names as approver (Dev), and a staff member at Brookside (Bethan, in the
cast)."""

import importlib

import pytest
from django.apps import apps

from accounts.models import Role
from approvals import services
from approvals.models import AuthorisationKind
from tests.auth import verified_login
from tests.factories import member, person


@pytest.fixture
def world(cast):
    w = cast
    # The kinds the migration seeds; again here, since a transactional (browser) test flushes them.
    importlib.import_module("approvals.migrations.0002_seed_authorisation_kinds").seed(apps, None)
    w.tess = person("Tess Nolan", w.oakfield, Role.STAFF)
    w.una = person("Una Park", w.oakfield, Role.STAFF)
    w.dev = person("Dev Mistry", w.oakfield, Role.STAFF)
    services.approver_name(actor=w.helen, school=w.oakfield, user=w.dev)
    member(w.carol, w.oakfield, Role.STAFF)  # the chair also works there: still not an approver
    w.post_kind = AuthorisationKind.objects.get(slug="post-on-official-account")
    w.media_kind = AuthorisationKind.objects.get(slug="speak-to-media")
    return w


def account_for(w, *, by=None, admins=None, school=None, **fields):
    values = {
        "platform": "Instagram",
        "name": "@oakfield_year6",
        "purpose": "Class news for parents.",
        "audience": "Parents of Year 6",
        "moderation_plan": "Comments off; checked daily.",
    } | fields
    return services.account_request(
        user=by or w.sam,
        school=school or w.oakfield,
        administrators=admins or [w.sam, w.tess],
        **values,
    )


def open_account(w, **kwargs):
    account = account_for(w, **kwargs)
    return services.account_decide(user=w.helen, account=account, approve=True, reason="")


def signed_in(client, user):
    verified_login(client, user)
    return client
