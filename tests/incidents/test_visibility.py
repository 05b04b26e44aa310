"""Every incident URL × every person in the cast, against a table written by hand.

The EXPECTED sets below are written from docs/specification.md §5, not computed by the app's rule: a
person outside a set must get 404 (the same as a case that does not exist), never 403 or 200.
"""

import pytest
from django.urls import reverse

from incidents.models import Evidence, Incident
from tests.incidents.factories import build_cases, fast_passwords, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]
_fixtures = (fast_passwords,)

PEOPLE = ["helen", "dina", "sam", "gary", "carol", "tom", "priya", "olive", "bethan"]

# Who may open each case (the detail page and every action URL answer something other than 404).
EXPECTED = {
    # Sam reported a parent's post: the head and Sam. Not the DSL (not a DSL case), not governors yet.
    "parent": {"helen", "sam"},
    # Dina reported Sam: the head and Dina. Never Sam, the subject.
    "about_sam": {"helen", "dina"},
    # Sam reported Helen, the head: the chair owns it. Never Helen, though she is the head.
    "about_helen": {"sam", "carol"},
    # A safeguarding case about Dina, the DSL: the head and the reporter. Never Dina, though she is the DSL.
    "about_dina": {"helen", "sam"},
    # In governor review: the head, the reporter, the governors and the chair.
    "review": {"helen", "sam", "gary", "carol"},
    # Brookside's case: only Brookside's head and the reporter. Nobody at Oakfield.
    "brookside": {"olive", "bethan"},
}

# Who may download the reporter's evidence file: owners and the reporter who uploaded it. Governors
# see the review, not the evidence.
EXPECTED_EVIDENCE = {
    "parent": {"helen", "sam"},
    "about_sam": {"helen", "dina"},
    "about_helen": {"sam", "carol"},
    "about_dina": {"helen", "sam"},
    "review": {"helen", "sam"},
    "brookside": {"olive", "bethan"},
}

# Who may see the confirmation page: the reporter only.
EXPECTED_DONE = {
    "parent": {"sam"},
    "about_sam": {"dina"},
    "about_helen": {"sam"},
    "about_dina": {"sam"},
    "review": {"sam"},
    "brookside": {"bethan"},
}

CASE_GETS = ["incidents:detail"]
CASE_POSTS = [
    "incidents:acknowledge",
    "incidents:triage",
    "incidents:start_investigation",
    "incidents:propose_outcome",
    "incidents:close",
    "incidents:refer_to_governors",
    "incidents:decide",
    "incidents:reopen",
    "incidents:add_note",
    "incidents:record_referral",
    "incidents:add_evidence",
    "incidents:message_reporter",
    "incidents:message_owner",
    "incidents:what_we_did",
]


@pytest.fixture
def world(cast):
    return cast, build_cases(cast)


def _status(client, person, method, url):
    sign_in(client, person)
    response = getattr(client, method)(url)
    return response.status_code


@pytest.mark.parametrize("case", list(EXPECTED))
def test_every_case_url_answers_only_the_people_who_may_see_it(client, world, case):
    cast, cases = world
    incident = cases[case]
    seen = {}
    for name in PEOPLE:
        person = getattr(cast, name)
        codes = {url: _status(client, person, "get", reverse(url, args=[incident.reference])) for url in CASE_GETS}
        codes |= {url: _status(client, person, "post", reverse(url, args=[incident.reference])) for url in CASE_POSTS}
        visible = {url for url, code in codes.items() if code != 404}
        assert visible in (set(), set(codes)), f"{name} on {case}: inconsistent {codes}"
        seen[name] = bool(visible)
        if not visible:
            assert all(code == 404 for code in codes.values())
    assert {name for name, ok in seen.items() if ok} == EXPECTED[case]


@pytest.mark.parametrize("case", list(EXPECTED))
def test_evidence_downloads_and_previews_answer_only_owners_and_the_uploader(client, world, case):
    cast, cases = world
    item = Evidence.objects.get(incident=cases[case])
    allowed = set()
    for name in PEOPLE:
        codes = {
            _status(client, getattr(cast, name), "get", reverse("incidents:evidence_download", args=[item.public_id])),
            _status(client, getattr(cast, name), "get", reverse("incidents:evidence_preview", args=[item.public_id])),
        }
        assert codes in ({200}, {404}), f"{name}: {codes}"
        if codes == {200}:
            allowed.add(name)
    assert allowed == EXPECTED_EVIDENCE[case]


@pytest.mark.parametrize("case", list(EXPECTED))
def test_confirmation_page_is_the_reporters_only(client, world, case):
    cast, cases = world
    url = reverse("incidents:report_done", args=[cases[case].reference])
    allowed = {name for name in PEOPLE if _status(client, getattr(cast, name), "get", url) == 200}
    assert allowed == EXPECTED_DONE[case]


def test_withdraw_answers_404_to_anyone_who_may_not_see_the_case(client, world):
    cast, cases = world
    item = Evidence.objects.get(incident=cases["about_helen"])
    for name in ["helen", "dina", "gary", "tom", "priya", "olive", "bethan"]:
        assert (
            _status(client, getattr(cast, name), "post", reverse("incidents:evidence_withdraw", args=[item.public_id]))
            == 404
        )


# Lists, counts and search: the same people, nowhere else.
LIST_PAGES = ["incidents:mine", "incidents:queue", "incidents:reviews", "incidents:termly_report", "home"]


@pytest.mark.parametrize("case", ["about_sam", "about_helen", "about_dina"])
def test_the_subject_never_finds_the_case_in_any_list_page(client, world, case):
    cast, cases = world
    subject = cases[case].subject
    sign_in(client, subject)
    for url in LIST_PAGES:
        response = client.get(reverse(url))
        assert cases[case].reference not in response.content.decode(), url
    assert not Incident.objects.visible_to(subject).filter(pk=cases[case].pk).exists()
    assert not Incident.objects.counted_for(subject).filter(pk=cases[case].pk).exists()


def test_triage_queue_lists_exactly_what_each_owner_owns(client, world):
    cast, cases = world
    expected = {
        "helen": {"parent", "about_sam", "about_dina", "review"},
        "dina": set(),  # no DSL case she is not the subject of
        "carol": {"about_helen"},
        "olive": {"brookside"},
    }
    for name, keys in expected.items():
        sign_in(client, getattr(cast, name))
        page = client.get(reverse("incidents:queue")).content.decode()
        shown = {key for key, incident in cases.items() if incident.reference in page}
        assert shown == keys, name


def test_people_without_an_owning_role_get_403_from_the_queue(client, world):
    cast, _ = world
    for name in ["sam", "gary", "tom", "priya", "bethan"]:
        assert _status(client, getattr(cast, name), "get", reverse("incidents:queue")) == 403, name


def test_governor_reviews_list_only_the_referred_case(client, world):
    cast, cases = world
    for name in ["gary", "carol"]:
        sign_in(client, getattr(cast, name))
        page = client.get(reverse("incidents:reviews")).content.decode()
        assert {key for key, incident in cases.items() if incident.reference in page} == {"review"}, name


def test_adults_page_shows_only_owned_cases_and_404s_across_schools(client, world):
    cast, cases = world
    url = reverse("incidents:person", args=[cast.sam.pk])
    sign_in(client, cast.helen)
    page = client.get(url).content.decode()
    assert cases["about_sam"].reference in page
    assert _status(client, cast.olive, "get", url) == 404
    assert _status(client, cast.sam, "get", url) == 403
    assert _status(client, cast.gary, "get", url) == 403
    # Dina is a DSL: she owns no case about Sam, so she sees the page but not the case.
    sign_in(client, cast.dina)
    assert cases["about_sam"].reference not in client.get(url).content.decode()


def test_a_case_that_does_not_exist_is_the_same_404(client, world):
    cast, _ = world
    sign_in(client, cast.helen)
    from incidents.references import new_reference

    assert client.get(reverse("incidents:detail", args=[new_reference("OAK")])).status_code == 404
