"""The audit log, retention look-ups and subject access, seen by the subject of a case who also
reads the trust's log (docs/specification.md §5: "the subject of a report never sees it, whatever
other role they hold"; docs/notes/subject-and-audited-reads.md).

Three subjects who hold a role that reads the trust log:
- Tom, trust admin (and staff) at Oakfield;
- Priya, data-protection officer (and staff) at Oakfield — Devi is Oakfield's other DPO;
- Dora, DPO at Brookside and staff at Oakfield, subject of an Oakfield case (the trust's log covers
  both schools).

Everything other people do around each case is done first (the reporter's confirmation page, the
owner opening the case, its file, the subject's person page, a refused note, its access history,
the other DPO finding it on the retention page and placing a legal hold, a subject-access export
that includes it, the minute's seal), then the subject reads the log and its CSV.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import seal
from accounts.models import AuditAction, AuditEvent, Membership, Role
from incidents import services
from incidents.models import Category, Evidence, Incident, Involved, Status
from tests.factories import SchoolFactory, person
from tests.incidents.factories import fresh, report, upload
from tests.security.test_access_matrix import client_for

pytestmark = pytest.mark.django_db

SUBJECTS = ["tom", "priya", "dora"]


@pytest.fixture(autouse=True)
def _anchor(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.log")
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def subjects(world):
    w = world
    Membership.objects.create(user=w.tom, school=w.oakfield, role=Role.STAFF)
    Membership.objects.create(user=w.priya, school=w.oakfield, role=Role.STAFF)
    w.devi = person("Devi Patel", w.oakfield, Role.DPO)
    w.dora = person("Dora Dale", w.brookside, Role.DPO)
    Membership.objects.create(user=w.dora, school=w.oakfield, role=Role.STAFF)
    w.about = {}
    for name in SUBJECTS:
        case = report(
            w.oakfield,
            w.sam,
            category=Category.STAFF_CONDUCT,
            involved=Involved.STAFF,
            subject=getattr(w, name),
            description=f"A concern about {name}.",
            files=[upload()],
        )
        w.about[name] = fresh(case)
    return w


def _touch(w, case, *, subject=None):
    """What other people do around `case`, each through the app."""
    sam, helen, devi = client_for(w, "sam"), client_for(w, "helen"), client_for(w, "devi")
    assert sam.get(reverse("incidents:report_done", args=[case.reference])).status_code == 200
    assert helen.get(reverse("incidents:detail", args=[case.reference])).status_code == 200
    item = Evidence.objects.filter(incident=case).first()
    assert helen.get(reverse("incidents:evidence_download", args=[item.public_id])).status_code == 200
    if subject is not None:
        assert helen.get(reverse("incidents:person", args=[subject.pk])).status_code == 200
    assert helen.post(reverse("incidents:add_note", args=[case.reference]), {"add_note-note": ""}).status_code == 400
    assert helen.get(reverse("audit:case_history", args=[case.reference])).status_code == 200
    services.incident_add_note(incident=fresh(case), actor=w.helen, note="Spoke to the reporter.")
    assert devi.get(reverse("retention:upcoming"), {"reference": case.reference}).status_code == 200
    hold = devi.post(reverse("retention:hold", args=[case.reference]), {"reason": "Tribunal claim"})
    assert hold.status_code == 302 and fresh(case).legal_hold
    preview = devi.get(reverse("sar:preview", args=[w.sam.pk]))
    assert case.reference in preview.content.decode()
    form = preview.context["form"]
    export = devi.post(
        reverse("sar:export", args=[w.sam.pk]),
        {"redact": [k for k, _ in form.fields["redact"].choices], "offered": form.initial["offered"]},
    )
    assert export.status_code == 200
    seal(now=timezone.now() + timedelta(minutes=2))  # the next minute's seal


def _csv_rows(client):
    response = client.get(reverse("audit:log"), {"format": "csv"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _log_pages(client):
    html, page = "", 1
    while True:
        response = client.get(reverse("audit:log"), {"page": page})
        assert response.status_code == 200
        html += response.content.decode()
        if not response.context["page"].has_next():
            return html
        page += 1


def _traces(case, subject):
    """How an event about the case shows in the log: the case by its reference, its files by their
    random ids, its addresses, the subject's person page."""
    files = [str(f) for f in Evidence.objects.filter(incident=case).values_list("public_id", flat=True)]
    return {
        "objects": {("incident", case.reference), ("person", str(subject.pk))} | {("evidence", f) for f in files},
        "paths": [
            f"/incidents/{case.reference}/",
            f"/incidents/report/{case.reference}/",
            f"/audit/case/{case.reference}/",
            f"/retention/{case.reference}/",
            *[f"/incidents/evidence/{f}/" for f in files],
        ],
    }


def _leaks(rows, case, subject):
    traces = _traces(case, subject)
    found = []
    for row in rows:
        if (row["object type"], row["object"]) in traces["objects"]:
            found.append(f"{row['action']} {row['object type']} {row['object']} by {row['actor']}")
        elif any(row["path"].startswith(p) for p in traces["paths"]):
            found.append(f"{row['action']} at {row['path']} by {row['actor']}")
    return found


def _row_of(row, case):
    """Whether a db_change event is about one of the case's own rows (case, file, timeline...)."""
    table, pk = row["object type"], int(row["object id"])
    if table == "incidents_incident":
        return pk == case.pk
    models = {m._meta.db_table: m for m in [Evidence, *_case_children()]}
    model = models.get(table)
    return model is not None and model.objects.filter(pk=pk, incident=case).exists()


def _case_children():
    from incidents.models import GovernorReview, Referral, TimelineEntry

    return [TimelineEntry, Referral, GovernorReview, Incident.clauses.through]


@pytest.mark.parametrize("who", SUBJECTS)
def test_the_trust_log_and_its_csv_show_the_subject_nothing_about_their_case(subjects, who):
    w = subjects
    subject, case = getattr(w, who), w.about[who]
    _touch(w, case, subject=subject)
    # The control: the same things done around a case about nobody in the log's readers.
    _touch(w, w.cases["parent"])
    client = client_for(w, who)

    rows = _csv_rows(client)
    control = _leaks(rows, w.cases["parent"], w.rita)
    assert control, "nothing about the control case reached the log: the check is blind"
    leaks = _leaks(rows, case, subject)
    html = _log_pages(client)
    leaks += [f"log page: incident {case.reference}" for _ in re.findall(rf"\bincident {case.reference}\b", html)]
    leaks += [f"log page: person {subject.pk}" for _ in re.findall(rf"\bperson {subject.pk}\b", html)]
    assert not leaks, "\n".join(leaks)
    assert case.reference not in html and case.reference not in str(rows)


@pytest.mark.parametrize("who", SUBJECTS)
def test_the_log_shows_no_number_that_counts_cases(subjects, who):
    """Database ids run in sequence: a gap among the ids of case rows (or of events) the log shows
    would tell its reader, the subject of a hidden case, that the case exists and when. The log and
    its CSV name cases, files and case rows by reference or random id only, and show no event id."""
    w = subjects
    _touch(w, w.about[who], subject=getattr(w, who))
    _touch(w, w.cases["parent"])
    client = client_for(w, who)
    rows = _csv_rows(client)
    case_rows = [
        r for r in rows if r["object type"] in ("incident", "evidence") or r["object type"].startswith("incidents_")
    ]
    assert case_rows, "no case events reached the log: the check is blind"
    assert "id" not in rows[0]
    assert [r for r in case_rows if r["object"].isdigit()] == []
    html = _log_pages(client)
    # A random UUID may open with eight digits ("evidence 71307390-…"): that is not a count, so a
    # number followed by a hyphen or a word character is not one.
    assert not re.search(r"\b(incident|evidence|incidents_\w+) \d+(?![\w-])", html)


@pytest.mark.parametrize("who", SUBJECTS)
def test_a_trust_log_reader_who_is_not_the_subject_sees_it_all(subjects, who):
    """The filter hides a case from its subject only: Devi, the other DPO, sees every event."""
    w = subjects
    subject, case = getattr(w, who), w.about[who]
    _touch(w, case, subject=subject)
    rows = _csv_rows(client_for(w, "devi"))
    seen = {(r["object type"], r["object"]) for r in rows}
    assert {("incident", case.reference), ("person", str(subject.pk))} <= seen


# --- Every event about a case is attributable to it -------------------------------------------------


def test_every_event_about_a_case_names_the_case(subjects):
    w = subjects
    case = w.about["priya"]
    first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    _touch(w, case, subject=w.priya)
    events = AuditEvent.objects.filter(id__gt=first)
    from accounts.audit_cases import concerning

    about = set(events.filter(concerning([case.pk])).values_list("id", flat=True))
    files = {str(pk) for pk in Evidence.objects.filter(incident=case).values_list("pk", flat=True)}
    paths = (
        f"/incidents/{case.reference}/",
        f"/incidents/report/{case.reference}/",
        f"/retention/{case.reference}/",
        f"/audit/case/{case.reference}/",
    )
    missing = [
        f"{e.action} {e.object_type} {e.object_id} {e.path}"
        for e in events.exclude(id__in=about)
        if (e.object_type == "incident" and e.object_id == str(case.pk))
        or (e.object_type == "evidence" and e.object_id in files)
        or e.path.startswith(paths)
        or (
            e.object_type.startswith("incidents_")
            and _row_of({"object type": e.object_type, "object id": e.object_id}, case)
        )
    ]
    assert not missing, "\n".join(missing)
    kinds = set(events.filter(id__in=about).values_list("action", "object_type"))
    assert (AuditAction.VIEW, "incident") in kinds and (AuditAction.DOWNLOAD, "evidence") in kinds
    assert (AuditAction.EXPORT, "incident") in kinds, "the subject-access export names the case"
    assert (AuditAction.CHANGE, "incident") in kinds, "the legal hold names the case"
    assert events.filter(id__in=about, action=AuditAction.DB_CHANGE).exists(), "row changes name the case"


# --- Retention "Find a case" -------------------------------------------------------------------------


def _closed(case):
    Incident.objects.filter(pk=case.pk).update(status=Status.CLOSED)


@pytest.mark.parametrize("who", ["priya", "dora"])
def test_find_a_case_answers_for_the_dpos_own_case_as_for_no_case(subjects, who):
    w = subjects
    case = w.about[who]
    _closed(case)
    client = client_for(w, who)

    def answer(reference):
        response = client.get(reverse("retention:upcoming"), {"reference": reference})
        html = response.content.decode().replace(reference, "<typed>")
        return response.status_code, re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert answer(case.reference) == answer("OAK-2026-9999")
    assert case.reference not in client.get(reverse("retention:upcoming")).content.decode()


def test_find_a_case_does_not_say_that_a_reference_does_not_exist(subjects):
    """A "not found" must not read as "there is no such case": a DPO trying every reference would
    otherwise learn that the one missing is about them."""
    w = subjects
    client = client_for(w, "priya")
    html = client.get(reverse("retention:upcoming"), {"reference": "OAK-2026-9999"}).content.decode()
    assert "No case with that reference here" not in html
    assert "handled by someone else" in html


def test_find_a_case_finds_the_dpos_case_for_the_other_dpo(subjects):
    w = subjects
    _closed(w.about["priya"])
    html = client_for(w, "devi").get(reverse("retention:upcoming"), {"reference": w.about["priya"].reference})
    assert w.about["priya"].reference in html.content.decode().replace(f'value="{w.about["priya"].reference}"', "")


# --- Subject access ------------------------------------------------------------------------------------


def test_a_dpo_cannot_find_or_export_their_own_case_another_dpo_can(subjects):
    w = subjects
    case = w.about["priya"]
    priya = client_for(w, "priya")
    for target in (w.priya, w.sam):  # herself, and the case's reporter
        html = priya.get(reverse("sar:preview", args=[target.pk])).content.decode()
        assert case.reference not in html
        html = priya.post(reverse("sar:preview", args=[target.pk]), {"also_search": "A concern about priya"})
        assert case.reference not in html.content.decode()
    html = client_for(w, "devi").get(reverse("sar:preview", args=[w.priya.pk])).content.decode()
    assert case.reference in html


def _sar_note(client, target):
    html = client.get(reverse("sar:preview", args=[target.pk])).content.decode()
    match = re.search(r'<p[^>]*id="sar-own-cases"[^>]*>(.*?)</p>', html, re.S)
    assert match, "the preview does not say who answers for cases about the DPO"
    return " ".join(match[1].split())


def test_the_preview_says_who_answers_for_cases_about_the_dpo_whether_or_not_there_are_any(subjects):
    w = subjects
    priya = client_for(w, "priya")
    with_case = _sar_note(priya, w.sam)
    with transaction.atomic():
        Incident.objects.filter(pk=w.about["priya"].pk).update(school=SchoolFactory(trust=w.trust))
        without_case = _sar_note(priya, w.sam)
        transaction.set_rollback(True)
    assert with_case == without_case
    assert w.devi.full_name in with_case


def test_with_no_other_dpo_the_preview_says_who_must_appoint_one(subjects):
    w = subjects
    Membership.objects.filter(role=Role.DPO).exclude(user=w.priya).delete()  # Devi and Dora
    note = _sar_note(client_for(w, "priya"), w.sam)
    assert "no other data-protection officer" in note.lower()
    assert "appoint" in note.lower()


@pytest.mark.postgres
def test_the_events_of_a_case_are_found_through_the_index(subjects):
    """The case's access history and the log's filter look events up by detail["incident"]: the
    lookup must match the expression index (no scan of the whole, ever-growing table)."""
    from django.db import connection

    from accounts.audit_cases import concerning

    pk = subjects.about["priya"].pk
    assert AuditEvent.objects.filter(concerning([pk])).filter(detail__incident__in=[pk]).exists()
    # The lookup as concerning() writes it, unordered: on a table this small the planner would
    # rather walk the primary key, so scans are switched off to see which index it can use.
    query = AuditEvent.objects.filter(detail__incident__in=[pk]).order_by().values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "audit_incident" in plan, plan


def test_the_trust_admin_is_told_which_schools_need_a_second_dpo(subjects):
    """Who appoints another DPO when there is none: the trust admin is told on the home page, the
    same whether or not a case about the DPO exists."""
    w = subjects
    tom = client_for(w, "tom")
    assert 'id="dpo-cover"' not in tom.get(reverse("home")).content.decode()  # Priya and Devi
    Membership.objects.filter(role=Role.DPO).exclude(user=w.priya).delete()  # Devi and Dora
    with_case = tom.get(reverse("home")).content.decode()
    assert 'id="dpo-cover"' in with_case and "Oakfield Primary: one DPO" in with_case
    Incident.objects.filter(subject=w.priya).update(school=SchoolFactory(trust=w.trust))
    without_case = tom.get(reverse("home")).content.decode()
    section = re.compile(r'<p class="mt-3 mb-1" id="dpo-cover">.*?</ul>', re.S)
    assert section.search(with_case)[0] == section.search(without_case)[0]
