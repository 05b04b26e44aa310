"""Which audit events concern which case, so that the log never shows the subject of a case
anything about it, whatever other role they hold (docs/specification.md §5).

An event concerns case N when it names it in one of two ways, both covered by the hash chain:
- its object is the case: object type "incident", object id N (views, refusals, changes, legal
  holds, retention deletions, one event per case of a subject-access preview or export);
- `detail["incident"]` is N (its evidence files, its confirmation page, the row changes of the
  case's tables recorded by the database triggers, anything else recorded about it).
Person pages and subject-access runs are about a person: object type "person", the person's id.

The trust's log and its CSV leave out, for each reader, every event about a case whose subject
they are, and every event about their own person page (`hidden_from`).
"""

from django.db.models import Q, QuerySet

from .case_lookups import lookups
from .models import AuditEvent


def about(incident_id) -> dict:
    """The `detail` entry that names the case an event concerns."""
    return {"incident": int(incident_id)}


def concerning(incident_ids) -> Q:
    """Events about any of these cases."""
    ids = sorted({int(pk) for pk in incident_ids})
    if not ids:
        return Q(pk__in=[])
    names = [str(pk) for pk in ids]
    rule = Q(object_type="incident", object_id__in=names) | Q(detail__incident__in=ids)
    rule |= Q(object_type="incidents_incident", object_id__in=names)
    # Row changes of the case's own tables (files, timeline, referrals, reviews, cited clauses),
    # recorded by the triggers, through the rows still there (incidents/audit_lookups.py).
    for table, rows in lookups().rows_of_cases(ids).items():
        rule |= Q(object_type=table, object_id__in=[str(pk) for pk in rows])
    return rule


def hidden_from(user) -> Q:
    """Events `user` must never see in a log: about a case whose subject they are (at any school,
    whatever their roles), or about their own person page or a subject-access run about them."""
    own = Q(object_type="person", object_id=str(user.pk))
    return own | concerning(lookups().cases_about(user))


def for_reader(events: QuerySet, user) -> QuerySet:
    """`events` without those hidden from `user`. A subquery, not `exclude(Q)`: a JSON key that is
    absent is NULL, and NOT (NULL IN ...) would drop every event without it."""
    return events.exclude(pk__in=AuditEvent.objects.filter(hidden_from(user)).values("pk"))
