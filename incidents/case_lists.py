"""The lists of one case that its owners' page reads on every view: the timeline, the files, the
referrals, the clauses, the reviews, the tasks, the messages, the take-downs, the linked and the
merged reports.

Each is a query of a fixed shape whose only value is the case's id, and building and compiling it
through the ORM cost more than PostgreSQL takes to answer it (docs/performance.md). Here each is
written by the ORM once per thread and database (accounts.prepared.PreparedObjects) and run with
the case's id: still one query a list on every view, so nothing can be stale. Each gives what the
queryset it is built from gives, instances, related objects and order;
tests/incidents/test_case_lists.py compares them.
"""

from collections.abc import Callable

from django.db.models import Exists, Expression, OuterRef, Prefetch, Q
from django.db.models.query import prefetch_related_objects

from accounts.prepared import Prepared, PreparedObjects
from policyhub.models import Clause

from .models import (
    CaseLink,
    CaseMessage,
    Evidence,
    GovernorReview,
    Incident,
    Referral,
    TakedownRequest,
    TakedownStep,
    Task,
    TimelineEntry,
)

# Whether the case has any row of each list but the timeline (which every case has), read with the
# case itself on its page (Incident.objects.visible_case with these annotations): most cases have
# none of most lists, and a list the case lacks is then not read at all. A case read without them
# (every other view, Celery) reads each list. Flags and lists are read in one request, a moment apart:
# a row added in between shows at the next view, as it would had it come a moment later.
#
# Another app adds a flag for what it shows on the case page (`add_presence`, from its AppConfig.ready:
# incidents imports nothing from it) and asks `present(incident, name)`.
_ADDED: dict[str, Callable[[], Expression]] = {}


def add_presence(name: str, expression: Callable[[], Expression]) -> None:
    """`expression()`: a boolean on the case (Exists with OuterRef("pk"), OuterRef("school_id")...)."""
    _ADDED[name] = expression


def presence() -> dict[str, Expression]:
    case = OuterRef("pk")
    added = {f"present_{name}": expression() for name, expression in _ADDED.items()}
    return added | {
        "present_evidence": Exists(Evidence.objects.filter(incident=case)),
        "present_referrals": Exists(Referral.objects.filter(incident=case)),
        "present_reviews": Exists(GovernorReview.objects.filter(incident=case)),
        "present_tasks": Exists(Task.objects.filter(incident=case)),
        "present_messages": Exists(CaseMessage.objects.filter(incident=case)),
        "present_takedowns": Exists(TakedownRequest.objects.filter(incident=case)),
        "present_clauses": Exists(Incident.clauses.through.objects.filter(incident=case)),
        "present_links": Exists(CaseLink.objects.filter(Q(first=case) | Q(second=case))),
        "present_merged": Exists(Incident.objects.filter(merged_into=case)),
    }


def present(incident, name: str) -> bool:
    """False only for a case read with its flags (presence()) that has no row of the list."""
    return incident.__dict__.get(f"present_{name}", True)


def _case_list(build, name: str | None):
    """`build(case)`'s rows for one case, from SQL written once, each row's `incident` set to the case
    without a query (as the related manager sets it). `name`: its flag in presence()."""
    prepared = PreparedObjects(build, 1)

    def rows(incident):
        if name is not None and not present(incident, name):
            return []
        return prepared.objects(incident.pk, known={"incident": incident})

    return rows


# Each is the related manager's queryset: `incident.timeline.select_related("actor")`, and so on.
timeline = _case_list(lambda case: TimelineEntry.objects.filter(incident=case).select_related("actor"), None)
evidence = _case_list(
    lambda case: Evidence.objects.filter(incident=case).select_related("uploaded_by", "withdrawn_by"), "evidence"
)
referrals = _case_list(lambda case: Referral.objects.filter(incident=case).select_related("recorded_by"), "referrals")
reviews = _case_list(lambda case: GovernorReview.objects.filter(incident=case).select_related("decided_by"), "reviews")
tasks = _case_list(
    lambda case: (
        Task.objects.filter(incident=case)
        .select_related("assignee", "assigned_by", "closed_by")
        .order_by("-state", "due_at", "pk")
    ),
    "tasks",
)
messages = _case_list(lambda case: CaseMessage.objects.filter(incident=case).select_related("author"), "messages")
_takedown_requests = _case_list(
    lambda case: (
        TakedownRequest.objects.filter(incident=case).select_related("requested_by").order_by("requested_on", "pk")
    ),
    "takedowns",
)
_CLAUSES = PreparedObjects(lambda case: Clause.objects.filter(incidents=case).order_by("order"), 1)
_LINKS = Prepared(
    lambda case: CaseLink.objects.filter(Q(first=case) | Q(second=case)).values_list("first", "second"), 1
)
_MERGED = PreparedObjects(
    lambda case: (
        Incident.objects.filter(merged_into=case).select_related("reporter", "subject").order_by("merged_at", "pk")
    ),
    1,
)


def clauses(incident) -> list[Clause]:
    """`incident.clauses.order_by("order")`"""
    return _CLAUSES.objects(incident.pk) if present(incident, "clauses") else []


def takedowns(incident) -> list[TakedownRequest]:
    """`incident.takedowns.select_related("requested_by").prefetch_related(steps with who recorded
    each, in date order).order_by("requested_on", "pk")`: the steps' query only when there is a request."""
    found = _takedown_requests(incident)
    if found:
        steps = TakedownStep.objects.select_related("recorded_by").order_by("taken_on", "pk")
        prefetch_related_objects(found, Prefetch("steps", queryset=steps))
    return found


def linked_pks(incident) -> list[int]:
    """The ids of the cases linked to this one, either way round."""
    if not present(incident, "links"):
        return []
    return [pk for pair in _LINKS.rows(incident.pk) for pk in pair if pk != incident.pk]


def merged_reports(incident) -> list[Incident]:
    """`Incident.objects.filter(merged_into=incident).select_related("reporter", "subject")
    .order_by("merged_at", "pk")`"""
    return _MERGED.objects(incident.pk) if present(incident, "merged") else []
