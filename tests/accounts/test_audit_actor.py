"""Who changed the row (issue item 11): database-change events name the person behind a web
request, the task or the command, and nothing is inherited by the next user of a connection."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent
from incidents.models import Status
from tests.incidents.factories import fresh, policy_for, report, sign_in

pytestmark = pytest.mark.django_db


def _changes_since(last_id, **filters):
    return AuditEvent.objects.filter(pk__gt=last_id, action=AuditAction.DB_CHANGE, **filters).order_by("id")


def _last_id():
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _next_change_by(person):
    """Who a change made now, by no request, task or command, is recorded as made by: nobody,
    unless something was left behind on the connection. (Inside the test's transaction, the
    settings a request's write sent last until that transaction ends: the next write must send
    its own.)"""
    before = _last_id()
    person.refresh_from_db()
    person.save(update_fields=["full_name"])
    (change,) = _changes_since(before, object_type="accounts_user", object_id=str(person.pk))
    return (change.actor_id, change.actor_email, change.detail.get("actor"))


NOBODY = (None, "", None)


def test_a_change_made_through_a_page_records_who_made_it(client, cast):
    """On PostgreSQL the triggers read the request's actor; on SQLite the signals do."""
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    before = _last_id()
    response = client.post(reverse("incidents:acknowledge", args=[incident.reference]))
    assert response.status_code == 302 and fresh(incident).status == Status.TRIAGE
    changes = list(_changes_since(before))
    # SQLite's signals do not see the case's conditional (queryset) update; the triggers do.
    seen = {"incidents_incident", "incidents_timelineentry"} if connection.vendor == "postgresql" else set()
    assert {e.object_type for e in changes} >= seen | {"incidents_timelineentry"}
    assert {(e.actor_id, e.actor_email) for e in changes} == {(cast.helen.pk, cast.helen.email)}
    # Nothing of the request's actor is left on the connection (persistent connections are reused).
    assert _next_change_by(cast.sam) == NOBODY


def test_the_next_request_does_not_inherit_the_actor(client, cast):
    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    client.post(reverse("incidents:acknowledge", args=[incident.reference]))
    client.logout()
    # Anonymous: Sam signs in with his password on the same connection; the sign-in changes his row.
    before = _last_id()
    client.post(reverse("login"), {"username": cast.sam.email, "password": cast.password})
    changes = list(_changes_since(before, object_type="accounts_user", object_id=str(cast.sam.pk)))
    assert changes, "signing in updates last_login"
    assert all(e.actor_id != cast.helen.pk and e.actor_email != cast.helen.email for e in changes)
    # Another signed-in person changes a case: their name, not Helen's.
    policy_for(cast.brookside)
    other = report(cast.brookside, cast.bethan)
    sign_in(client, cast.olive)
    before = _last_id()
    assert client.post(reverse("incidents:acknowledge", args=[other.reference])).status_code == 302
    changes = list(_changes_since(before, object_type__startswith="incidents_"))
    assert changes and {e.actor_id for e in changes} == {cast.olive.pk}


def test_a_refused_request_leaves_no_actor_behind(client, cast):
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.olive)  # another school's head: a 404
    assert client.post(reverse("incidents:acknowledge", args=[incident.reference])).status_code == 404
    assert _next_change_by(cast.sam) == NOBODY


def test_a_task_records_the_task_not_a_person(client, cast):
    from incidents.tasks import sweep_deadlines

    policy_for(cast.oakfield)
    incident = report(cast.oakfield, cast.sam)
    sign_in(client, cast.helen)
    client.get(reverse("incidents:detail", args=[incident.reference]))  # a request on the same connection first
    before = _last_id()
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert sweep_deadlines.apply().get() >= 1
    changes = list(_changes_since(before))
    assert changes, "the fired deadline wrote to the case's timeline"
    assert {(e.actor_id, e.detail.get("actor")) for e in changes} == {
        (None, "system:task:incidents.tasks.sweep_deadlines")
    }
    assert _next_change_by(cast.sam) == NOBODY


def test_a_management_command_records_the_command(cast):
    from accounts.actor import command_actor

    before = _last_id()
    with command_actor(["manage.py", "shell"]):
        call_command("shell", command=f"from accounts.models import User; User.objects.get(pk={cast.sam.pk}).save()")
    changes = list(_changes_since(before, object_type="accounts_user"))
    assert changes and {(e.actor_id, e.detail.get("actor")) for e in changes} == {(None, "system:command:shell")}
    assert _next_change_by(cast.sam) == NOBODY


def test_the_server_commands_do_not_label_their_requests():
    from accounts.actor import command_actor, current_actor

    with command_actor(["manage.py", "runserver"]):
        assert current_actor() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_manage_py_labels_a_commands_changes(cast):
    """End to end: a change made in `manage.py shell` is recorded as made by that command."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    before = _last_id()
    code = f"from accounts.models import User; User.objects.get(pk={cast.sam.pk}).save()"
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, str(root / "manage.py"), "shell", "-c", code],
        check=True,
        cwd=root,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        timeout=120,
    )
    changes = list(_changes_since(before, object_type="accounts_user", object_id=str(cast.sam.pk)))
    assert [(e.actor_id, e.detail.get("actor")) for e in changes] == [(None, "system:command:shell")]
