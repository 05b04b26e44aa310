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


def test_the_queue_as_it_opens_writes_what_an_unbound_form_writes(client, cast):
    """incident_tags.queue_filters: with no filter asked for (the queue as it opens, a later page of it)
    the page writes the kept markup of the unbound form: the partial written afresh, nothing selected,
    even after a filtered view. A filter asked for is written with its choice selected."""
    from django.template.loader import render_to_string

    from incidents.forms import QueueFilterForm

    sign_in(client, cast.helen)
    unfiltered = render_to_string("incidents/_queue_filters.html", {"filters": QueueFilterForm()})
    assert '<select name="status"' in unfiltered and " selected>" not in unfiltered.replace('value="" selected', "")
    for query in ({"severity": "high", "status": "triage"}, {}, {"page": "1"}, {"status": ""}):
        page = client.get(reverse("incidents:queue"), query).content.decode()
        asked = {name: value for name, value in query.items() if name != "page" and value}
        assert (unfiltered in page) == (not asked), query
        for name, value in asked.items():
            select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
            assert re.findall(r'<option value="([^"]*)" selected>', select) == [value]
