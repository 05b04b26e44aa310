import pytest

from incidents.models import Incident, Status
from policyhub.demo import seed

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_incidents_in_every_state_once():
    seed()
    first = Incident.objects.count()
    seed()
    assert Incident.objects.count() == first
    assert set(Incident.objects.values_list("status", flat=True)) == set(Status.values)


def test_demo_case_about_the_head_is_routed_to_the_chair():
    seed()
    case = Incident.objects.get(subject__email="head.oakfield@example.org")
    assert case.subject_is_head
    assert case.owner.email == "chair.oakfield@example.org"
    assert not Incident.objects.visible_to(case.subject).filter(pk=case.pk).exists()
