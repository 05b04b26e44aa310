"""Issue item 3: sequential numbers reveal hidden cases.

The head is the subject of two concerns (routed to the chair; she must never see them or any trace
of them). Reports are made in the order visible, hidden, visible, hidden, visible, each with a file,
and the next minute's deadline sweep runs. Then everything she can see is collected — her home page,
queue, each case page, the links on them, the emails sent to her (subject, body, Message-ID) — and
the attacker's arithmetic is done on it: the gaps in every run of numbers are the hidden cases,
and the neighbours date them. Nothing she sees may allow that.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import clocks
from incidents.emails import build
from incidents.models import Category, Incident, Involved, Notification
from tests.incidents.factories import report, sign_in, upload

pytestmark = pytest.mark.django_db

ALPHANUMERIC = re.compile(r"[0-9A-Za-z]+")


def _world(cast):
    """Visible, hidden, visible, hidden, visible: every hidden case has neighbours on both sides."""
    start = timezone.now() - timedelta(hours=2)
    visible, hidden = [], []
    for i, about_her in enumerate([False, True, False, True, False]):
        fields = {"files": [upload(f"shot{i}.png")], "seen_at": start + timedelta(minutes=i)}
        if about_her:
            fields |= {"category": Category.STAFF_CONDUCT, "involved": Involved.STAFF, "subject": cast.helen}
        case = report(cast.oakfield, cast.sam, **fields)
        (hidden if about_her else visible).append(case)
    # A minute later: the sweep runs (reminders, overdue alerts) as it would in production.
    clocks.deadlines_sweep(now=timezone.now() + timedelta(days=3))
    return visible, hidden


def _seen_by_head(client, cast, visible):
    """Every page, link and email text the head has, as strings."""
    sign_in(client, cast.helen)
    pages = [client.get(reverse("home")), client.get(reverse("incidents:queue"))]
    links = set()
    for response in list(pages):
        links |= set(re.findall(r'href="([^"]+)"', response.content.decode()))
    for path in sorted(links):
        if path.startswith("/incidents/") and not path.startswith("/incidents/report"):
            pages.append(client.get(path))
    texts = [r.content.decode() for r in pages if r.status_code == 200 and not r.streaming]
    for text in texts:
        links |= set(re.findall(r'(?:href|src)="([^"]+)"', text))
    emails = []
    for notification in Notification.objects.filter(recipient=cast.helen):
        subject, body = build(notification)
        emails.append(f"{subject}\n{body}\nMessage-ID: {notification.message_id}")
    assert len({c.reference for c in visible if c.reference in "".join(texts)}) == len(visible)
    return texts, sorted(links), emails


def _gaps(numbers) -> int:
    numbers = sorted(set(numbers))
    return (numbers[-1] - numbers[0] + 1 - len(numbers)) if numbers else 0


def _attack(texts, links, emails) -> dict[str, int]:
    """The head's arithmetic: how many numbers are missing from each run she can see."""
    everything = "\n".join(texts + links + emails)
    sequences = [int(n) for n in re.findall(r"\b[A-Z]{2,10}-\d{4}-(\d{4,})\b", everything)]
    case_ids = [int(n) for n in re.findall(r"/incidents/(\d+)/", "\n".join(links))]
    file_ids = [int(n) for n in re.findall(r"/incidents/evidence/(\d+)/", "\n".join(links))]
    message_ids = [int(n) for n in re.findall(r"<notification-(\d+)@", "\n".join(emails))]
    return {
        "references": _gaps(sequences),
        "case ids in links": _gaps(case_ids),
        "file ids in links": _gaps(file_ids),
        "email Message-IDs": _gaps(message_ids),
    }


def _as_number(identifier: str) -> int:
    return int("".join(ALPHANUMERIC.findall(identifier)), 36)


def test_nothing_the_head_sees_counts_or_dates_the_cases_about_her(client, cast):
    visible, hidden = _world(cast)
    texts, links, emails = _seen_by_head(client, cast, visible)

    for case in hidden:
        assert case.reference not in "\n".join(texts + links + emails)
    # The attack: a gap in any run of numbers she can see is a case she cannot.
    assert _attack(texts, links, emails) == {
        "references": 0,
        "case ids in links": 0,
        "file ids in links": 0,
        "email Message-IDs": 0,
    }

    # Whatever the format, her identifiers must be spread over a huge space, not a run: read as
    # numbers, five sequential ones span a handful; five random ones span billions.
    refs = [c.reference.split("-", 1)[1] for c in visible]
    assert min(_as_number(a) for a in refs) + 10**6 < max(_as_number(a) for a in refs)
    # No year either: the page shows the date to those who may see the case, the reference never.
    assert not any(str(timezone.now().year) in r for r in refs)

    case_links = [urlsplit(link).path for link in links if link.startswith(("/incidents/", "/audit/", "/retention/"))]
    segments = [s for path in case_links for s in path.strip("/").split("/")[1:]]
    # People pages name a member of staff by user id: that counts accounts, not cases.
    segments = [s for s in segments if s not in {"people", *[str(u.pk) for u in _staff(cast)]}]
    assert not [s for s in segments if s.isdigit()], f"numeric ids in links: {case_links}"
    message_ids = [re.search(r"Message-ID: <([^@]+)@", e).group(1) for e in emails]
    assert len(message_ids) >= 3 and not any(m.rsplit("-", 1)[-1].isdigit() for m in message_ids)


def _staff(cast):
    return [cast.helen, cast.dina, cast.sam, cast.gary, cast.carol, cast.tom, cast.priya]


def test_the_hidden_cases_exist_and_the_chair_sees_them(client, cast):
    """The scenario is the real one: the cases about the head exist and are the chair's."""
    _visible, hidden = _world(cast)
    assert set(Incident.objects.visible_to(cast.carol)) >= set(hidden)
    assert not Incident.objects.visible_to(cast.helen).filter(pk__in=[c.pk for c in hidden]).exists()
