"""Subject access export (SECURITY-TEST-PLAN item 29): for a staff subject the zip holds their
personal data, 0 unredacted third-party identifiers from a seeded list, and creates 1 audit event."""

import hashlib
import io
import json
import logging
import re
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from incidents import services
from incidents.models import Category, Evidence, Involved
from tests.factories import SchoolFactory, TrustFactory, person
from tests.incidents.factories import IncidentFactory, fresh, report, sign_in, upload

pytestmark = pytest.mark.django_db

PUPIL = "Jamie Pupilname"
SAM_CANARY = "SAMDATA-4411 private messages on Snapchat"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(cast):
    """Cases that involve Sam in each way, and some that must not be exported."""
    about_sam = report(
        cast.oakfield,
        cast.dina,
        category=Category.STAFF_CONDUCT,
        involved=Involved.STAFF,
        subject=cast.sam,
        description=f"{SAM_CANARY}. Helen Hart saw it too; ask carol@oakfield.example.org. Pupil: {PUPIL}.",
        involved_detail=f"{PUPIL} (Year 6)",
        files=[upload()],
    )
    services.incident_acknowledge(incident=fresh(about_sam), actor=cast.helen)
    services.incident_add_note(
        incident=fresh(about_sam),
        actor=cast.helen,
        note=f"Spoke to Carol Chambers and to {PUPIL}'s mother. Dina will follow up.",
    )
    reported_by_sam = report(
        cast.oakfield,
        cast.sam,
        description="A parent posted the trip photos. Gary Green and bethan@brookside.example.org saw it.",
        files=[upload()],
    )
    named = report(
        cast.oakfield,
        cast.helen,
        description="Sam Taylor was tagged in a parent's post by Olive Owen's cousin.",
    )
    unrelated = report(cast.oakfield, cast.dina, description="Nothing to do with him.")
    elsewhere = report(cast.brookside, cast.bethan, description="Sam Taylor from Oakfield was mentioned here.")
    about_priya = IncidentFactory(
        school=cast.oakfield,
        reporter=cast.helen,
        involved=Involved.STAFF,
        subject=cast.priya,
        description="Sam Taylor says the DPO shared his address.",
    )
    return {
        "about_sam": about_sam,
        "reported_by_sam": reported_by_sam,
        "named": named,
        "unrelated": unrelated,
        "elsewhere": elsewhere,
        "about_priya": about_priya,
    }


def seeded_identifiers(cast) -> list[str]:
    """Every third party's full name, email and name parts (other than the subject's own)."""
    people = [cast.helen, cast.dina, cast.gary, cast.carol, cast.tom, cast.priya, cast.olive, cast.bethan]
    found = [PUPIL, *PUPIL.split()]
    for p in people:
        found += [p.full_name, p.email, *p.full_name.split()]
    return found


def preview(client, cast, user=None):
    sign_in(client, user or cast.priya)
    return client.get(reverse("sar:preview", args=[cast.sam.pk]))


def default_post(response) -> dict:
    """What the preview's form posts if the DPO changes nothing (every third party ticked)."""
    form = response.context["form"]
    return {
        "redact": [key for key, _ in form.fields["redact"].choices],
        "offered": form.initial["offered"],
        "also_search": form.initial["also_search"],
        "also_redact": "",
    }


def export(client, cast, data) -> zipfile.ZipFile:
    response = client.post(reverse("sar:export", args=[cast.sam.pk]), data)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"] and "Sam" not in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def all_text(zf: zipfile.ZipFile) -> str:
    return "\n".join(zf.read(name).decode() for name in zf.namelist() if name.endswith(".json"))


def occurrences(text: str, identifier: str) -> int:
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in identifier.split()) + r"(?!\w)"
    return len(re.findall(pattern, text, re.IGNORECASE))


def test_the_export_holds_the_subjects_data_and_no_unredacted_third_party(client, cast, world):
    data = default_post(preview(client, cast))
    data["also_redact"] = PUPIL

    zf = export(client, cast, data)

    names = set(zf.namelist())
    refs = [world[k].reference for k in ("about_sam", "reported_by_sam", "named")]
    assert names == {"manifest.json", "person.json", *(f"cases/{r}.json" for r in refs)}
    person_json = json.loads(zf.read("person.json"))
    assert person_json["account"]["email"] == cast.sam.email
    assert [m["role"] for m in person_json["memberships"]] == ["Staff"]
    about = json.loads(zf.read(f"cases/{world['about_sam'].reference}.json"))
    assert SAM_CANARY in about["description"]  # the report about him, which the app never shows him
    assert about["your_relation"] == ["subject"] and about["subject"].startswith(cast.sam.full_name)
    assert any("Spoke to" in e["note"] for e in about["timeline"])  # internal entries too: the DPO decides
    text = all_text(zf)
    leaks = {i: occurrences(text, i) for i in seeded_identifiers(cast) if occurrences(text, i)}
    assert leaks == {}
    assert "[third party" in about["reporter"] and "[redacted]" in about["involved_detail"]


def test_the_export_holds_the_persons_declarations_training_and_questions_and_nobody_elses(client, cast, world):
    from datetime import date

    from obligations import services as obligations

    obligations.declare(declarer=cast.sam, school=cast.oakfield, kind="family", details="SAM-DECLARED my niece")
    obligations.declare(declarer=cast.olive, school=cast.brookside, kind="family", details="OLIVE-DECLARED")
    obligations.record_training(
        actor=cast.helen,
        school=cast.oakfield,
        person=cast.sam,
        topic="policy",
        completed_on=date(2025, 9, 3),
        provider="SAM-TRAINED by the trust",
    )
    obligations.ask_advice(asker=cast.sam, school=cast.oakfield, question="SAM-ASKED may I share the fair?")
    obligations.ask_advice(asker=cast.dina, school=cast.oakfield, question="DINA-ASKED")

    person = json.loads(export(client, cast, default_post(preview(client, cast))).read("person.json"))
    assert [d["details"] for d in person["declarations"]] == ["SAM-DECLARED my niece"]
    assert person["declarations"][0]["status"] == "Awaiting acknowledgement"
    assert [t["provider"] for t in person["training"]] == ["SAM-TRAINED by the trust"]
    assert [a["question"] for a in person["advice_requests"]] == ["SAM-ASKED may I share the fair?"]
    assert "OLIVE-DECLARED" not in json.dumps(person) and "DINA-ASKED" not in json.dumps(person)


def test_the_manifest_says_what_is_included_redacted_and_withheld(client, cast, world):
    data = default_post(preview(client, cast))
    manifest = json.loads(export(client, cast, data).read("manifest.json"))

    assert {c["reference"]: c["your_relation"] for c in manifest["included"]["cases"]} == {
        world["about_sam"].reference: ["subject"],
        world["reported_by_sam"].reference: ["reporter"],
        world["named"].reference: ["named"],
    }
    assert manifest["redacted"] and all("article 15(4)" in r["reason"] for r in manifest["redacted"])
    assert sum(r["replacements"] for r in manifest["redacted"]) > 0
    assert sorted((w["case"], w["file_number"]) for w in manifest["withheld"]) == sorted(
        [(world["about_sam"].reference, 1), (world["reported_by_sam"].reference, 1)]
    )
    assert manifest["included"]["evidence_files"] == []
    assert "Oakfield Primary" in manifest["schools_covered"] and "Brookside Academy" not in manifest["schools_covered"]


def test_cases_not_about_the_person_of_other_schools_or_about_the_dpo_are_left_out(client, cast, world):
    response = preview(client, cast)
    html = response.content.decode()
    for key in ("about_sam", "reported_by_sam", "named"):
        assert world[key].reference in html
    for key in ("unrelated", "elsewhere", "about_priya"):
        assert world[key].reference not in html

    text = all_text(export(client, cast, default_post(response)))
    for key in ("unrelated", "elsewhere", "about_priya"):
        assert world[key].reference not in text


def test_the_export_creates_one_audit_event_for_the_person_and_one_per_case_naming_no_one(client, cast, world, caplog):
    data = default_post(preview(client, cast))
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    with caplog.at_level(logging.INFO, logger="dataprotection.sar"):
        export(client, cast, data)

    events = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    [event] = [e for e in events if e.object_type == "person"]
    assert (event.action, event.object_id) == (AuditAction.EXPORT, str(cast.sam.pk))
    assert event.actor == cast.priya
    # The person's event names no case: each case has its own event, so a case's access history
    # shows the export and the trust log can leave it out for the case's subject.
    assert "cases" not in event.detail
    per_case = {e.object_ref: e for e in events if e.object_type == "incident"}
    assert len(events) == 1 + len(per_case)
    assert set(per_case) == {w.reference for k, w in world.items() if k in ("about_sam", "reported_by_sam", "named")}
    for e in per_case.values():
        assert e.action == AuditAction.EXPORT and e.actor == cast.priya
        assert e.detail["incident"] == int(e.object_id) and e.detail["person"] == cast.sam.pk
    recorded = json.dumps([[e.detail, e.object_ref] for e in events] + [caplog.text])
    for secret in [SAM_CANARY, cast.sam.full_name, cast.sam.email, *seeded_identifiers(cast)]:
        assert secret.lower() not in recorded.lower()
    assert world["about_sam"].reference in per_case and world["about_sam"].reference in caplog.text


def test_the_preview_is_audited_as_a_view_of_the_person(client, cast, world):
    preview(client, cast)
    event = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="person").get()
    assert event.object_id == str(cast.sam.pk) and event.detail["view"] == "subject_access_preview"
    viewed = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="incident", detail__kind="subject_access")
    assert world["about_sam"].reference in set(viewed.values_list("object_ref", flat=True))


def test_an_unticked_third_party_is_disclosed_and_a_ticked_evidence_file_is_included(client, cast, world):
    response = preview(client, cast)
    data = default_post(response)
    data["redact"] = [k for k in data["redact"] if k != str(cast.gary.pk)]
    item = Evidence.objects.get(incident=world["reported_by_sam"])
    data["release"] = [item.pk]

    zf = export(client, cast, data)

    text = all_text(zf)
    assert "Gary Green" in text and occurrences(text, cast.helen.full_name) == 0
    [path] = [n for n in zf.namelist() if n.startswith("evidence/")]
    assert path == f"evidence/{world['reported_by_sam'].reference}/file-1.png"
    assert hashlib.sha256(zf.read(path)).hexdigest() == item.sha256
    manifest = json.loads(zf.read("manifest.json"))
    assert [w["case"] for w in manifest["withheld"]] == [world["about_sam"].reference]


def test_a_third_party_who_appeared_after_the_preview_is_redacted_anyway(client, cast, world):
    data = default_post(preview(client, cast))
    services.incident_add_note(
        incident=fresh(world["about_sam"]), actor=cast.helen, note="Tom Reed from the trust was told."
    )

    text = all_text(export(client, cast, data))

    assert occurrences(text, "Tom Reed") == 0 and occurrences(text, cast.tom.email) == 0


def test_other_names_the_person_is_known_by_find_more_cases(client, cast, world):
    alias = report(cast.oakfield, cast.dina, description="Mr T. (the Year 6 teacher) posted again.")
    sign_in(client, cast.priya)
    url = reverse("sar:preview", args=[cast.sam.pk])
    assert alias.reference not in client.get(url).content.decode()

    response = client.post(url, {"also_search": "Mr T."})

    assert response.status_code == 200 and alias.reference in response.content.decode()
    text = all_text(export(client, cast, default_post(response)))
    assert f'"reference": "{alias.reference}"' in text


def test_the_preview_makes_the_same_number_of_queries_at_3_and_at_30_cases(client, cast):
    def make(n):
        for _ in range(n):
            IncidentFactory(
                school=cast.oakfield, reporter=cast.sam, owner=cast.helen, description="Seen by Helen Hart."
            )

    sign_in(client, cast.priya)
    url = reverse("sar:preview", args=[cast.sam.pk])
    make(3)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    make(27)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.context["cases"]) == 30
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_trust_dpo_answers_for_people_of_every_school_where_they_are_dpo(client, cast, world):
    from tests.factories import member

    member(cast.priya, cast.brookside, "dpo")
    data = default_post(preview(client, cast))
    manifest = json.loads(export(client, cast, data).read("manifest.json"))
    refs = [c["reference"] for c in manifest["included"]["cases"]]
    assert world["elsewhere"].reference in refs


def test_a_dpo_of_another_trust_gets_404_for_our_person(client, cast, world):
    other = SchoolFactory(trust=TrustFactory(name="Hillside Trust", slug="hillside"), code="HIL", urn="300001")
    dan = person("Dan Other", other, "dpo")
    sign_in(client, dan)

    assert client.get(reverse("sar:preview", args=[cast.sam.pk])).status_code == 404
    assert client.post(reverse("sar:export", args=[cast.sam.pk]), {}).status_code == 404
    assert cast.sam.email not in client.get(reverse("sar:start")).content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
