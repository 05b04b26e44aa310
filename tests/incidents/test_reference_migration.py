"""The migration to random references: existing cases get new references and keep the old one as
`legacy_reference` (searchable, never shown); every existing file gets its own random public id."""

import importlib
import uuid

import pytest
from django.utils import timezone

from incidents import references
from tests.migrate import migrate_to, migrate_to_latest

BEFORE = [("incidents", "0009_head_subject_routing_and_review_duties")]
AFTER = [("incidents", "0010_random_references_and_public_ids")]


def _migrate(targets):
    executor = migrate_to(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Whatever the test does, the database ends fully migrated: later tests on this worker's
    database expect every migration's columns."""
    yield
    migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_existing_cases_get_random_references_and_keep_their_old_ones(back_to_latest):
    old = _migrate(BEFORE)
    try:
        School = old.get_model("accounts", "School")
        User = old.get_model("accounts", "User")
        Incident = old.get_model("incidents", "Incident")
        Evidence = old.get_model("incidents", "Evidence")
        school = School.objects.create(name="Oakfield", slug="oakfield-m", code="OAK", urn="900001")
        user = User.objects.create(email="m@example.org", full_name="M")
        now = timezone.now()
        for n in (1, 2, 3):
            incident = Incident.objects.create(
                school=school,
                reference=f"OAK-2026-{n:04d}",
                year=2026,
                sequence=n,
                reporter=user,
                category="parent_post",
                platform="facebook",
                seen_at=now,
                involved="parent",
                description="x",
                child_at_risk=False,
                received_at=now,
            )
            for _i in range(2):
                Evidence.objects.create(
                    incident=incident,
                    uploaded_by=user,
                    original_name="a.png",
                    stored_name=f"{uuid.uuid4().hex}.png",
                    content_type="image/png",
                    size=1,
                    sha256="0" * 64,
                )
    finally:
        new = _migrate(AFTER)
    Incident = new.get_model("incidents", "Incident")
    Evidence = new.get_model("incidents", "Evidence")
    rows = list(Incident.objects.order_by("legacy_reference").values_list("reference", "legacy_reference"))
    assert [legacy for _, legacy in rows] == ["OAK-2026-0001", "OAK-2026-0002", "OAK-2026-0003"]
    assert all(references.is_canonical(ref) and ref.startswith("OAK-") for ref, _ in rows)
    assert len({ref for ref, _ in rows}) == 3
    ids = list(Evidence.objects.values_list("public_id", flat=True))
    assert len(ids) == 6 and None not in ids and len(set(ids)) == 6
    # Its data step run again (a deploy retried halfway) leaves random references alone.
    step = importlib.import_module("incidents.migrations.0010_random_references_and_public_ids")
    step.renumber(new, None)
    assert list(Incident.objects.order_by("legacy_reference").values_list("reference", "legacy_reference")) == rows
    for model in (Evidence, Incident):
        model.objects.all().delete()
    new.get_model("accounts", "User").objects.filter(email="m@example.org").delete()
    new.get_model("accounts", "School").objects.filter(code="OAK").delete()
