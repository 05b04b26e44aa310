"""Subject access requests (UK GDPR article 15): everything PolicyHub holds about one person, as a
zip the data-protection officer checks and sends. A month to answer, by law.

The person's right to their data does not depend on what the app lets them see: a member of staff
never sees a report about them in the app, but an export of their data includes it (redacted).
This export is the lawful path, and only a DPO runs it, for people of the schools where they are
DPO, for cases of those schools. It is audited (one `export` event naming the person by id, and one
per case found naming the case, see `audit_run`) and never logs content.

- **Found**: every case where the person is the reporter or the subject, or is named (their full
  name or email address appears in the report, the people involved, the reasons, a timeline note,
  a referral note or a governors' comment), plus any other words the DPO asks to search for
  (a maiden name, a nickname).
- **Third parties**: every other user linked to those cases (reporter, subject, owner, DSL, people
  on the timeline) or whose name or email appears in their text; the DPO ticks which to redact
  (all, by default). Redaction replaces the full name, the email address and each part of the
  name (3 letters or more, unless the person shares it) with a label such as "[third party 2]".
  Names of people who are not users (pupils, parents) are redacted only when the DPO lists them.
- **Withheld**: evidence files (pictures often show other people) are listed but included only
  when the DPO ticks them.
- **Never included**: cases whose subject is the DPO running the export (the subject of a case
  never sees it, whatever their role: another DPO must answer for those).
"""

import io
import json
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.audit import record, record_each
from accounts.audit_cases import about
from accounts.models import AuditAction, Membership, Role, School, User
from incidents import evidence as storage
from incidents.models import Evidence, GovernorReview, Incident, Referral, TimelineEntry
from obligations.models import AdviceRequest, Declaration, TrainingRecord
from policyhub.models import Acknowledgement

log = logging.getLogger(__name__)

FORMAT = "policyhub-subject-access/1"
THIRD_PARTY_REASON = (
    "Personal data of another person (UK GDPR article 15(4); Data Protection Act 2018, schedule 2, "
    "paragraph 16): redacted because the data-protection officer did not judge disclosure reasonable."
)
LISTED_REASON = "Named by the data-protection officer as someone else's personal data (for example a pupil)."
EVIDENCE_REASON = (
    "Evidence files can show other people (pupils, parents, colleagues). This file was not released by "
    "the data-protection officer; ask them if you want it."
)
NAME_PART_MIN = 3
# The case text searched for the person and for third parties.
TEXT_FIELDS = ("description", "involved_detail", "links", "harm_reason", "outcome_reason", "review_summary")


def dpo_school_ids(user) -> set[int]:
    """Schools where `user` is data-protection officer."""
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(Membership.objects.filter(user=user, role=Role.DPO).values_list("school_id", flat=True))


def other_dpos(dpo, school_ids: Iterable[int]) -> list:
    """The other data-protection officers of these schools: they answer for the cases whose subject
    is `dpo` (never shown to `dpo`). The same answer whether or not such a case exists."""
    return list(
        User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(school__in=list(school_ids), role=Role.DPO).values("user_id"),
        )
        .exclude(pk=dpo.pk)
        .order_by("full_name", "pk")
    )


def people_for(school_ids: Iterable[int]) -> QuerySet:
    """The people a DPO may answer for: anyone with a membership at their schools."""
    return User.objects.filter(Exists(Membership.objects.filter(user=OuterRef("pk"), school__in=list(school_ids))))


def _terms(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if len(line.strip()) >= 2]


def _mentions(terms: list[str]) -> Q:
    """Cases whose text names any of `terms` (case-insensitive)."""
    rule = Q(pk__in=[])
    for term in terms:
        for name in TEXT_FIELDS:
            rule |= Q(**{f"{name}__icontains": term})
        rule |= Q(pk__in=TimelineEntry.objects.filter(note__icontains=term).values("incident_id"))
        rule |= Q(pk__in=Referral.objects.filter(note__icontains=term).values("incident_id"))
        rule |= Q(pk__in=GovernorReview.objects.filter(comment__icontains=term).values("incident_id"))
    return rule


def find_cases(*, person, school_ids: Iterable[int], dpo, also_search: str = "") -> list:
    """Every case at `school_ids` where the person is reporter, subject or named; with what is hung
    off them, in a fixed number of queries. Cases whose subject is the DPO are never included."""
    terms = [t for t in [person.full_name.strip(), person.email] if t] + _terms(also_search)
    # The DPO's records (incidents/access.py, DPO_SCOPE: their schools, never a case about them).
    cases = (
        Incident.objects.dpo_scope(dpo)
        .filter(school__in=list(school_ids))
        .filter(Q(reporter=person) | Q(subject=person) | _mentions(terms))
        .select_related("school", "reporter", "subject", "owner", "dsl", "acknowledged_by", "policy_version")
        .prefetch_related(
            Prefetch("timeline", queryset=TimelineEntry.objects.select_related("actor")),
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by", "withdrawn_by")),
            "referrals__recorded_by",
            "governor_reviews__decided_by",
            "clauses",
            *CASE_WORK,
        )
        .order_by("received_at", "pk")
    )
    return list(cases)


def relation(incident, person) -> list[str]:
    found = []
    if incident.reporter_id == person.pk:
        found.append("reporter")
    if incident.subject_id == person.pk:
        found.append("subject")
    if not found:
        found.append("named")
    return found


# The case work beside the report ([8]): tasks, the reporter's channel, take-downs. Their people are
# linked to the case and their text is searched for names, like the timeline's.
CASE_WORK = (
    "tasks__assignee",
    "tasks__assigned_by",
    "tasks__closed_by",
    "messages__author",
    "takedowns__requested_by",
    "takedowns__steps__recorded_by",
)


def _texts(incident) -> list[str]:
    texts = [getattr(incident, name) or "" for name in TEXT_FIELDS]
    texts += [e.note for e in incident.timeline.all()]
    texts += [r.note for r in incident.referrals.all()] + [r.reference for r in incident.referrals.all()]
    texts += [r.comment for r in incident.governor_reviews.all()]
    texts += [f"{e.original_name} {e.captured_url} {e.withdrawn_reason}" for e in incident.evidence.all()]
    texts += [f"{t.title}\n{t.instructions}\n{t.outcome}" for t in incident.tasks.all()]
    texts += [m.body for m in incident.messages.all()]
    for request in incident.takedowns.all():
        texts += [f"{request.url} {request.platform_reference}\n{request.outcome_note}"]
        texts += [f"{s.reference}\n{s.note}" for s in request.steps.all()]
    return texts


def _linked_people(incident) -> list:
    people = [incident.reporter, incident.subject, incident.owner, incident.dsl, incident.acknowledged_by]
    people += [e.actor for e in incident.timeline.all()]
    people += [e.uploaded_by for e in incident.evidence.all()] + [e.withdrawn_by for e in incident.evidence.all()]
    people += [r.recorded_by for r in incident.referrals.all()] + [
        r.decided_by for r in incident.governor_reviews.all()
    ]
    people += [p for t in incident.tasks.all() for p in (t.assignee, t.assigned_by, t.closed_by)]
    people += [m.author for m in incident.messages.all()]
    people += [r.requested_by for r in incident.takedowns.all()]
    people += [s.recorded_by for r in incident.takedowns.all() for s in r.steps.all()]
    return [p for p in people if p is not None]


@dataclass
class ThirdParty:
    user: User
    label: str
    why: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return str(self.user.pk)


def third_parties(*, person, cases: list, school_ids: Iterable[int]) -> list[ThirdParty]:
    """Other users linked to the cases or named in their text, labelled in a stable order.

    The pool searched by name is every user of the trusts (or schools) of the DPO's schools, and
    everyone linked to the cases, so a colleague from a sister school named in a report is found."""
    schools = School.objects.filter(pk__in=list(school_ids))
    trusts = set(schools.values_list("trust_id", flat=True)) - {None}
    pool = {
        u.pk: u
        for u in User.objects.filter(
            Exists(
                Membership.objects.filter(user=OuterRef("pk")).filter(
                    Q(school__in=list(school_ids)) | Q(school__trust__in=trusts)
                )
            )
        )
    }
    why: dict[int, list[str]] = {}
    for incident in cases:
        blob = "\n".join(_texts(incident)).lower()
        for user in _linked_people(incident):
            pool.setdefault(user.pk, user)
            why.setdefault(user.pk, [])
            if incident.reference not in why[user.pk]:
                why[user.pk].append(incident.reference)
        for user in pool.values():
            named = (user.full_name and user.full_name.lower() in blob) or user.email.lower() in blob
            if named and incident.reference not in why.setdefault(user.pk, []):
                why[user.pk].append(incident.reference)
    found = sorted((pool[pk] for pk, refs in why.items() if refs and pk != person.pk), key=lambda u: u.pk)
    return [ThirdParty(user, f"[third party {n}]", why[user.pk]) for n, user in enumerate(found, start=1)]


def _pattern(term: str) -> str:
    words = [re.escape(w) for w in term.split()]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


class Redactor:
    """Replaces chosen third parties' names and emails (and the DPO's extra words) in text."""

    def __init__(self, *, person, redacted: list[ThirdParty], listed: list[str]):
        own_parts = {_norm(p) for p in person.full_name.split()} | {_norm(person.email)}
        self.person = person
        self.labels = {p.user.pk: p.label for p in redacted}
        mapping: dict[str, str] = {}
        for party in redacted:
            user = party.user
            for term in [user.email, user.full_name, *user.full_name.split()]:
                term = _norm(term or "")
                if len(term) >= NAME_PART_MIN and term not in own_parts:
                    mapping.setdefault(term, party.label)
        for term in listed:
            if _norm(term) not in own_parts:
                mapping.setdefault(_norm(term), "[redacted]")
        self.mapping = mapping
        self.counts: Counter = Counter()
        ordered = sorted(mapping, key=len, reverse=True)  # "Sam Taylor" before "Sam"
        self.regex = re.compile("|".join(_pattern(t) for t in ordered), re.IGNORECASE) if ordered else None

    def text(self, value) -> str:
        value = "" if value is None else str(value)
        if not self.regex or not value:
            return value

        def swap(match):
            label = self.mapping[_norm(match.group(0))]
            self.counts[label] += 1
            return label

        return self.regex.sub(swap, value)

    def who(self, user) -> str | None:
        if user is None:
            return None
        if user.pk == self.person.pk:
            return f"{user.full_name} <{user.email}> (you)"
        if user.pk in self.labels:
            self.counts[self.labels[user.pk]] += 1
            return self.labels[user.pk]
        return f"{user.full_name} <{user.email}>"


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def person_data(person, school_ids: Iterable[int]) -> dict:
    memberships = Membership.objects.filter(user=person, school__in=list(school_ids)).select_related("school")
    acks = Acknowledgement.objects.filter(user=person).select_related("version__policy").order_by("at")
    return {
        "account": {
            "email": person.email,
            "full_name": person.full_name,
            "active": person.is_active,
            "joined": _iso(person.date_joined),
            "last_sign_in": _iso(person.last_login),
        },
        "memberships": [
            {"school": m.school.name, "role": m.get_role_display(), "since": _iso(m.created_at)} for m in memberships
        ],
        "policy_acknowledgements": [
            {"policy": a.version.policy.title, "version": a.version.number, "acknowledged_at": _iso(a.at)} for a in acks
        ],
        **_obligations(person, school_ids),
    }


def _obligations(person, school_ids: Iterable[int]) -> dict:
    """What the person declared, was trained in and asked (obligations/), at the DPO's schools. Who
    acknowledged or answered is left out (a third party); what they wrote about the person is in."""
    schools = list(school_ids)
    declarations = Declaration.objects.filter(declarer=person, school__in=schools).select_related("school")
    training = TrainingRecord.objects.filter(person=person, school__in=schools).select_related("school")
    advice = AdviceRequest.objects.filter(asker=person, school__in=schools).select_related("school")
    return {
        "declarations": [
            {
                "school": d.school.name,
                "kind": d.get_kind_display(),
                "details": d.details,
                "what_you_did": d.response,
                "status": d.get_status_display(),
                "declared_at": _iso(d.declared_at),
                "last_confirmed_at": _iso(d.confirmed_at),
                "acknowledged_at": _iso(d.acknowledged_at),
                "acknowledgement_note": d.acknowledgement_note,
                "withdrawn_at": _iso(d.withdrawn_at),
            }
            for d in declarations.order_by("declared_at", "pk")
        ],
        "training": [
            {
                "school": t.school.name,
                "topic": t.get_topic_display(),
                "completed_on": _iso(t.completed_on),
                "provider": t.provider,
                "expires_on": _iso(t.expires_on),
            }
            for t in training.order_by("completed_on", "pk")
        ],
        "advice_requests": [
            {
                "school": a.school.name,
                "question": a.question,
                "draft": a.draft,
                "status": a.get_status_display(),
                "asked_at": _iso(a.asked_at),
                "answer": a.answer,
                "answered_at": _iso(a.answered_at),
            }
            for a in advice.order_by("asked_at", "pk")
        ],
    }


def case_data(incident, person, r: Redactor, released: set[int]) -> dict:
    t = r.text
    return {
        "reference": incident.reference,
        "school": incident.school.name,
        "your_relation": relation(incident, person),
        "category": incident.get_category_display(),
        "platform": incident.get_platform_display(),
        "links": t(incident.links),
        "happened_at": _iso(incident.happened_at),
        "seen_at": _iso(incident.seen_at),
        "received_at": _iso(incident.received_at),
        "reporter": r.who(incident.reporter),
        "involved": incident.get_involved_display(),
        "subject": r.who(incident.subject),
        "involved_detail": t(incident.involved_detail),
        "description": t(incident.description),
        "child_at_risk": incident.child_at_risk,
        "owner": r.who(incident.owner),
        "dsl": r.who(incident.dsl),
        "status": incident.get_status_display(),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "severity": incident.get_severity_display() if incident.severity else "",
        "route": incident.get_route_display() if incident.route else "",
        "harm_threshold": {
            "harmed_a_child": incident.harm_harmed_child,
            "possible_offence": incident.harm_offence,
            "risk_to_children": incident.harm_risk_to_children,
            "unsuitable_to_work_with_children": incident.harm_unsuitable,
            "reason": t(incident.harm_reason),
        },
        "policy_clauses": [f"{c.ref} {c.text}" for c in incident.clauses.all()],
        "outcome": incident.get_outcome_display() if incident.outcome else "",
        "outcome_reason": t(incident.outcome_reason),
        "allegation_outcome": incident.get_allegation_outcome_display() if incident.allegation_outcome else "",
        "summary_for_governors": t(incident.review_summary),
        "legal_hold": incident.legal_hold,
        "timeline": [
            {
                "at": _iso(e.at),
                "by": r.who(e.actor),
                "what": e.get_kind_display(),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": t(e.note),
                "internal": e.internal,
            }
            for e in incident.timeline.all()
        ],
        "referrals": [
            {
                "to": ref.get_kind_display(),
                "made_on": _iso(ref.made_on),
                "their_reference": t(ref.reference),
                "note": t(ref.note),
                "recorded_by": r.who(ref.recorded_by),
            }
            for ref in incident.referrals.all()
        ],
        "governor_reviews": [
            {
                "decision": rev.get_decision_display(),
                "comment": t(rev.comment),
                "by": r.who(rev.decided_by),
                "at": _iso(rev.decided_at),
            }
            for rev in incident.governor_reviews.all()
        ],
        "evidence": [
            {
                "file_number": n,
                "name": t(e.original_name),
                "type": e.content_type,
                "size": e.size,
                "sha256": e.sha256,
                "uploaded_at": _iso(e.uploaded_at),
                "uploaded_by": r.who(e.uploaded_by),
                "captured_at": _iso(e.captured_at),
                "captured_at_address": t(e.captured_url),
                "withdrawn": e.withdrawn_at is not None,
                "included_as": _evidence_path(incident, e, n) if e.pk in released else None,
            }
            for n, e in enumerate(incident.evidence.all(), start=1)
        ],
    }


def _evidence_path(incident, item, n: int) -> str:
    extension = item.stored_name.rsplit(".", 1)[-1]
    return f"evidence/{incident.reference}/file-{n}.{extension}"


@dataclass
class Export:
    content: bytes
    references: list[str]
    files: int
    redacted_parties: int


def build_export(
    *,
    dpo,
    person,
    school_ids: Iterable[int],
    redact: set[str],
    offered: set[str],
    release: set[int],
    also_redact: str = "",
    also_search: str = "",
    request=None,
    now: datetime | None = None,
) -> Export:
    """Build the zip and record the export. `redact`: third-party keys the DPO ticked; any third party
    that was not `offered` on the preview (a case changed meanwhile) is redacted too. `release`:
    evidence ids the DPO chose to include."""
    now = now or timezone.now()
    school_ids = set(school_ids)
    cases = find_cases(person=person, school_ids=school_ids, dpo=dpo, also_search=also_search)
    parties = third_parties(person=person, cases=cases, school_ids=school_ids)
    chosen = [p for p in parties if p.key in redact or p.key not in offered]
    listed = _terms(also_redact)
    r = Redactor(person=person, redacted=chosen, listed=listed)
    evidence_ids = {e.pk for c in cases for e in c.evidence.all()}
    released = set(release) & evidence_ids

    out = io.BytesIO()
    withheld, included_files = [], []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("person.json", _json(person_data(person, school_ids)))
        for incident in cases:
            zf.writestr(f"cases/{incident.reference}.json", _json(case_data(incident, person, r, released)))
            for n, item in enumerate(incident.evidence.all(), start=1):
                if item.pk in released:
                    path = _evidence_path(incident, item, n)
                    try:
                        zf.write(storage.path_of(item.stored_name), path)
                    except OSError:
                        withheld.append(
                            {"case": incident.reference, "file_number": n, "reason": "The file could not be read."}
                        )
                    else:
                        included_files.append({"case": incident.reference, "file_number": n, "path": path})
                else:
                    withheld.append({"case": incident.reference, "file_number": n, "reason": EVIDENCE_REASON})
        manifest = {
            "format": FORMAT,
            "generated_at": _iso(now),
            "about": "Personal data PolicyHub holds about you, from a subject access request.",
            "schools_covered": sorted(School.objects.filter(pk__in=school_ids).values_list("name", flat=True)),
            "included": {
                "person": "person.json: your account, your roles at the schools, your policy acknowledgements, "
                "your declarations, training records and questions asking for advice.",
                "cases": [
                    {
                        "reference": c.reference,
                        "file": f"cases/{c.reference}.json",
                        "your_relation": relation(c, person),
                    }
                    for c in cases
                ],
                "evidence_files": included_files,
                "how_cases_were_found": (
                    "Every case where you made the report, the report is about you, or your name or email "
                    "address appears in it."
                    + (" Other names you are known by were searched too." if also_search else "")
                ),
            },
            "redacted": [
                {"label": p.label, "reason": THIRD_PARTY_REASON, "replacements": r.counts[p.label]} for p in chosen
            ]
            + (
                [{"label": "[redacted]", "reason": LISTED_REASON, "replacements": r.counts["[redacted]"]}]
                if listed
                else []
            ),
            "not_redacted": (
                f"{len(parties) - len(chosen)} other people are named without redaction: the data-protection "
                "officer judged it reasonable to disclose them (for example, staff acting in their role)."
            ),
            "withheld": withheld,
        }
        zf.writestr("manifest.json", _json(manifest))
    references = [c.reference for c in cases]
    audit_run(
        AuditAction.EXPORT,
        request=request,
        dpo=dpo,
        person=person,
        cases=cases,
        summary={"kind": "subject_access"},
        per_case=lambda c: {
            "evidence_files": sum(1 for f in included_files if f["case"] == c.reference),
            "third_parties_redacted": sum(1 for p in chosen if c.reference in p.why),
        },
    )
    log.info(
        "Subject access export for person %s by user %s: %s", person.pk, dpo.pk, ", ".join(references) or "no cases"
    )
    return Export(out.getvalue(), references, len(included_files), len(chosen))


def audit_run(action, *, request, dpo, person, cases, summary: dict, per_case=None) -> None:
    """Audit a preview or an export: one event about the person, naming no case (what it holds
    must not depend on which cases were found), and one event per case found, naming it, so each
    case's access history shows the run and the trust log can leave it out for the case's subject
    (accounts/audit_cases.py)."""
    record(action, request=request, actor=dpo, object_type="person", object_id=person.pk, detail=summary)
    record_each(
        action,
        request=request,
        actor=dpo,
        events=[
            {
                "object_type": "incident",
                "object_id": incident.pk,
                "object_ref": incident.reference,
                "school_id": incident.school_id,
                "detail": {
                    **about(incident.pk),
                    "kind": "subject_access",
                    "person": person.pk,
                    **(per_case(incident) if per_case else {}),
                },
            }
            for incident in cases
        ],
    )


def _json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
