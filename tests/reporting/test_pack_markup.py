"""The governors' pack page written from kept parts (reporting/views.py): the upheld breaches'
list items written in Python carry the markup the template wrote, and a page served from the cache
is the page worked out afresh, also after what its kept body shows besides the figures changes (the
school's name, the person's schools)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.template import Context, Template
from django.urls import reverse

from incidents.models import GovernorReview, ReviewDecision
from reporting import pack
from reporting.terms import calendar_for
from tests.incidents.factories import fast_passwords, policy_for, sign_in

from .fixtures import NOW, at, pack_cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords, pack_cases)

# The template's list items before they were written in Python.
OLD = Template(
    "{% load incident_tags %}{% for review in reviews %}<li><a href=\"{% url 'incidents:detail' "
    'review.incident.reference %}">{{ review.incident.reference }}</a> — {{ review.incident.get_outcome_display }}; '
    "{% with clauses=review.incident.clauses.all %}{% if clauses %}clause{{ clauses|length|pluralize }} "
    "{% for c in clauses %}{{ c.ref }}{% if not forloop.last %}, {% endif %}{% endfor %}{% else %}no clause cited"
    "{% endif %}{% endwith %}; upheld {{ review.decided_at|local_time }}</li>{% endfor %}"
)


def test_the_upheld_lines_are_the_templates(cast, pack_cases):
    clauses = list(policy_for(cast.oakfield).clauses.order_by("order"))
    pack_cases["c1"].clauses.set(clauses[:2])
    pack_cases["c4"].clauses.set(clauses[2:])
    pack_cases["c4"].status = pack_cases["c1"].status
    pack_cases["c4"].outcome = pack_cases["c1"].outcome
    pack_cases["c4"].save()
    GovernorReview.objects.create(incident=pack_cases["c4"], decision=ReviewDecision.UPHOLD, decided_by=cast.carol)
    GovernorReview.objects.filter(incident=pack_cases["c4"]).update(decided_at=at("2026-03-05 10:00"))
    spring = calendar_for(cast.oakfield).term(2026, "spring")
    for user in (cast.gary, cast.carol, cast.tom):
        page = pack.upheld_page(user, cast.oakfield, spring, None)
        ids = [row[0] for row in page.object_list]
        reviews = sorted(
            GovernorReview.objects.filter(incident_id__in=ids, decision=ReviewDecision.UPHOLD).select_related(
                "incident"
            ),
            key=lambda r: ids.index(r.incident_id),
        )
        assert str(page.lines) == OLD.render(Context({"reviews": reviews})), user
    lines = pack.upheld_page(cast.carol, cast.oakfield, spring, None).lines
    assert lines.count("<li>") == 3 and "clauses 7.1, 7.2" in lines and "no clause cited" in lines


def _body(response) -> str:
    text = response.content.decode()
    return re.sub(r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"', "", text)


def test_a_page_from_the_cache_is_the_page_worked_out_afresh(client, cast, pack_cases):
    url = reverse("incidents:termly_report") + "?term=2026-spring"
    sign_in(client, cast.carol)
    for when, case in ((NOW, "c1"), (NOW + timedelta(days=1), "c2")):
        with time_machine.travel(when, tick=False):
            caches["kept"].clear()
            fresh = _body(client.get(url))
            kept = _body(client.get(url))
            assert 'Cases received: <strong data-testid="received-total">4</strong>' in fresh
            assert kept == fresh
            GovernorReview.objects.filter(incident=pack_cases[case]).delete()
            changed = _body(client.get(url))
            caches["kept"].clear()
            assert changed == _body(client.get(url)) != fresh


def test_the_subject_of_a_case_never_gets_a_page_kept_for_another_viewer(client, cast, pack_cases):
    """Carol's pack counts c3, the case about Gary; Gary, a governor of the same school (then also
    its DSL: two roles at once), opens the pack right after her, from the same process's cache."""
    from accounts.models import Membership, Role

    url = reverse("incidents:termly_report") + "?term=2026-spring"
    policy_for(cast.oakfield)
    with time_machine.travel(NOW, tick=False):
        caches["kept"].clear()
        sign_in(client, cast.carol)
        assert 'data-testid="received-total">4<' in _body(client.get(url))
        for extra_role in (None, Role.DSL):
            if extra_role:
                Membership.objects.create(user=cast.gary, school=cast.oakfield, role=extra_role)
            sign_in(client, cast.gary)
            kept = _body(client.get(url))
            assert 'data-testid="received-total">3<' in kept
            assert pack_cases["c3"].reference not in kept
            caches["kept"].clear()
            assert _body(client.get(url)) == kept
            sign_in(client, cast.carol)
            client.get(url)  # Carol's page kept again before Gary's next view


def test_the_kept_body_follows_the_school_s_name_and_the_person_s_schools(client, cast, pack_cases):
    """A school's new name moves neither its stamp nor the figures' tag, and the person's schools are
    the choice of school: the kept page shows both changes at once, as the page worked out afresh does."""
    from accounts.models import Membership, Role

    url = reverse("incidents:termly_report") + f"?school={cast.oakfield.pk}&term=2026-spring"
    with time_machine.travel(NOW, tick=False):
        sign_in(client, cast.gary)
        first = _body(client.get(url))
        assert 'id="school"' not in first and "Governors' pack: Oakfield" in first
        for change, shown in (
            (lambda: type(cast.oakfield).objects.filter(pk=cast.oakfield.pk).update(name="Oakfield Juniors"),
             "Governors' pack: Oakfield Juniors,"),
            (lambda: Membership.objects.create(user=cast.gary, school=cast.brookside, role=Role.GOVERNOR),
             '<select class="form-select" id="school" name="school">'),
        ):  # fmt: skip
            change()
            sign_in(client, cast.gary)  # the memberships are read at each request
            kept = _body(client.get(url))
            assert shown in kept
            caches["kept"].clear()
            assert _body(client.get(url)) == kept
