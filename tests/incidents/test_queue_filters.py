"""The triage queue's filters with a value that is not one of the choices (an edited address, an old
bookmark): the list still shows, and the field says what is wrong, at the id its select points to."""

import re

import pytest
from django.urls import reverse

from tests.incidents.factories import sign_in

pytestmark = pytest.mark.django_db


def test_a_bad_filter_value_is_explained_beside_its_field(client, cast):
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:queue"), {"severity": "bogus"}).content.decode()
    select = re.search(r'<select[^>]*name="severity"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in select
    described = re.search(r'aria-describedby="([^"]+)"', select).group(1)
    for target in described.split():
        assert f'id="{target}"' in page  # every id the select names exists on the page
    assert re.search(rf'id="{described}"[^>]*>[^<]*valid choice', page)


def test_good_filter_values_point_nowhere(client, cast):
    sign_in(client, cast.helen)
    page = client.get(reverse("incidents:queue"), {"severity": "high"}).content.decode()
    assert "aria-describedby" not in re.search(r'<select[^>]*name="severity"[^>]*>', page).group(0)
