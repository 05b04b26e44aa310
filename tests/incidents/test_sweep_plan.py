"""The sweep's cost follows the number of due deadlines, not the number pending."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents.clocks import SWEEP_BATCH, due_pending
from incidents.models import Deadline, DeadlineKind, DeadlineState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_sweep_query_uses_the_partial_index():
    now = timezone.now()
    far = now + timedelta(days=400)
    Deadline.objects.bulk_create(
        [Deadline(kind=DeadlineKind.REMINDER, due_at=far + timedelta(seconds=i)) for i in range(20_000)]
        + [Deadline(kind=DeadlineKind.REMINDER, due_at=now - timedelta(seconds=i)) for i in range(10)]
        + [
            Deadline(kind=DeadlineKind.REMINDER, due_at=now - timedelta(days=1), state=DeadlineState.FIRED)
            for _ in range(5_000)
        ],
        batch_size=5_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_deadline")
    query = due_pending(now).values_list("pk", flat=True)[:SWEEP_BATCH]
    plan = query.explain()
    assert "deadline_due_pending" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert len(list(query)) == 10
