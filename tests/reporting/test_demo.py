"""The demo shows a governors' pack with figures in this term and the previous one ([9])."""

import pytest
from django.utils import timezone

from accounts.models import School, User
from policyhub.demo import seed
from reporting import pack
from reporting.models import TermDate
from reporting.terms import calendar_for

pytestmark = pytest.mark.django_db


def test_the_demo_pack_has_figures_in_this_term_and_the_last_once():
    seed()
    rows = TermDate.objects.count()
    seed()
    assert TermDate.objects.count() == rows == 6  # three terms for each of the two schools
    oakfield, brookside = School.objects.get(slug="oakfield"), School.objects.get(slug="brookside")
    assert brookside.nation == "wales"
    today = timezone.localdate()
    term = calendar_for(oakfield).containing(today)
    assert term.own_dates
    governor = User.objects.get(email="governor.oakfield@example.org")
    p = pack.build(governor, oakfield, term)
    assert p.this.received > 0
    assert p.before.received == 3 and p.before.responded == 3
