"""The page frame's menu is written from a per-process memo keyed on the person's role sets
(accounts/pages.py _open_for, accounts/templatetags/page_frame.py), and the policy banner's query
from SQL compiled once (policyhub/context_processors.py). Checked here: the memo agrees with may_open
for every pair of role sets; the header is the markup the template loop wrote, for people with one
role, two roles and roles at two schools, on ordinary and error pages; a role granted or taken away
shows on the next request; the banner's answer is the queryset's in every state, both as its own
query and as fetched with the person (accounts/backends.py), and it is asked on every page, with the
person (no cross-process staleness)."""

import itertools
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.template import RequestContext, engines
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.pages import PAGES, may_open, menu, open_pages
from policyhub import services
from policyhub.context_processors import first_unacknowledged, unacknowledged_versions
from policyhub.models import Acknowledgement, PolicyVersion, VersionStatus
from tests.auth import verified_login
from tests.factories import UserFactory, member
from tests.policyhub.policy_data import draft, school_policy, trust_policy

pytestmark = pytest.mark.django_db

BANNER = "A new version of the social-media policy is in force"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

# templates/base.html's navigation before the memo, as it was written (the menu loop by hand).
# Error pages render it with request=None (_error_page.html): {% with %} does the same here.
OLD_NAV_SOURCE = """<nav class="collapse navbar-collapse" id="main-nav" aria-label="Main">
        <ul class="navbar-nav me-auto flex-wrap">
          {% for item in nav_items %}
          <li class="nav-item"><a class="nav-link{% if request.resolver_match.view_name == item.url_name %} active" aria-current="page{% endif %}" href="{% url item.url_name %}">{{ item.label }}</a></li>
          {% endfor %}
        </ul>
        OLD_SWITCHER
        <ul class="navbar-nav ms-auto">
          <li class="nav-item"><a class="nav-link" href="{% url 'account_security' %}">Security</a></li>
          <li class="nav-item">
            <form method="post" action="{% url 'logout' %}" class="d-inline">{% csrf_token %}
              <button type="submit" class="btn btn-link nav-link">Sign out <span class="visually-hidden">{{ user.email }}</span></button>
            </form>
          </li>
        </ul>
      </nav>"""  # noqa: E501
# templates/_school_switcher.html and _policy_banner.html as they were.
OLD_SWITCHER = """{% if ctx.schools|length > 1 %}
<form method="post" action="{% url 'switch_school' %}" class="d-flex align-items-center me-md-3 my-2 my-md-0 gap-2">
  {% csrf_token %}
  <input type="hidden" name="next" value="{{ request.get_full_path }}">
  <label for="school-switch" class="text-white small mb-0">School</label>
  <select id="school-switch" name="school" class="form-select form-select-sm">
    {% for school in ctx.schools %}
    <option value="{{ school.pk }}"{% if school == ctx.school %} selected{% endif %}>{{ school.name }}</option>
    {% endfor %}
  </select>
  <button type="submit" class="btn btn-sm btn-light">Switch</button>
</form>
{% elif ctx.school %}
<span class="navbar-text text-white me-md-3">{{ ctx.school.name }}</span>
{% endif %}"""
OLD_BANNER = engines["django"].from_string(
    """{% if policy_to_acknowledge and policy_to_acknowledge.pk != policy_banner_hidden_version %}
{# Compact (one line on a phone) and hideable for this session; it returns until acknowledged. #}
<aside class="alert alert-warning policy-banner d-flex flex-wrap align-items-center column-gap-3 row-gap-1" aria-label="Policy acknowledgement">
  <p class="mb-0 fw-semibold me-auto">A new version of the social-media policy is in force: <a class="alert-link" href="{% url 'policy:page' %}#acknowledge">Read the policy</a> and acknowledge it.</p>
  <form method="post" action="{% url 'policy:hide_banner' %}" class="m-0">{% csrf_token %}
    <input type="hidden" name="version" value="{{ policy_to_acknowledge.pk }}">
    <button type="submit" class="btn btn-sm btn-outline-dark py-0">Hide for now</button>
  </form>
</aside>
{% endif %}"""  # noqa: E501
)
OLD_NAV_SOURCE = OLD_NAV_SOURCE.replace("OLD_SWITCHER", OLD_SWITCHER)
OLD_NAV = engines["django"].from_string(OLD_NAV_SOURCE)
OLD_NAV_ON_ERROR = engines["django"].from_string("{% with request=None %}" + OLD_NAV_SOURCE + "{% endwith %}")
OLD_MENU = engines["django"].from_string(
    """{% with request=None %}{% for item in nav_items %}<li class="nav-item"><a class="nav-link{% if request.resolver_match.view_name == item.url_name %} active" aria-current="page{% endif %}" href="{% url item.url_name %}">{{ item.label }}</a></li>{% endfor %}{% endwith %}"""  # noqa: E501
)


def _old_menu(ctx) -> list:
    """The menu as it was computed: may_open over the table, on every request."""
    return [p for p in PAGES.values() if p.label and may_open(ctx, p.url_name)]


def _fake_ctx(current, elsewhere, working=True):
    school = SimpleNamespace(pk=1) if working else None
    memberships = [SimpleNamespace(role=r, school_id=1) for r in current] + [
        SimpleNamespace(role=r, school_id=2) for r in elsewhere
    ]
    return SimpleNamespace(school=school, memberships=memberships)


def test_the_memo_agrees_with_may_open_for_every_pair_of_role_sets():
    roles = Role.values
    checked = 0
    # Each role: not held, held at the school worked in, held only at another school.
    for placement in itertools.product((None, "here", "there"), repeat=len(roles)):
        current = [r for r, p in zip(roles, placement, strict=True) if p == "here"]
        elsewhere = [r for r, p in zip(roles, placement, strict=True) if p == "there"]
        for ctx in (_fake_ctx(current, elsewhere),) if current else (_fake_ctx([], elsewhere, working=False),):
            expected = frozenset(name for name in PAGES if may_open(ctx, name))
            assert open_pages(ctx) == expected, placement
            assert list(menu(ctx)) == _old_menu(ctx), placement
            checked += 1
    assert checked == 3 ** len(roles)


def _person(cast, *memberships):
    user = UserFactory()
    for school, role in memberships:
        member(user, getattr(cast, school), role)
    return user


def _nav(html) -> str:
    return CSRF.sub(
        'name="csrfmiddlewaretoken" value="x"', re.search(r'<nav [^>]*id="main-nav".*?</nav>', html, re.S)[0]
    )


def _sign_in(client, user, school=None):
    verified_login(client, user)
    if school is not None:
        assert client.post(reverse("switch_school"), {"school": school.pk}).status_code == 302


PEOPLE = {
    "head and staff": lambda cast: (cast.helen, None),
    "staff": lambda cast: (cast.sam, None),
    "governor": lambda cast: (cast.gary, None),
    "trust admin": lambda cast: (cast.tom, None),
    "DPO": lambda cast: (cast.priya, None),
    "head at A, staff at B, at B": lambda cast: (
        _person(cast, ("oakfield", Role.HEAD), ("brookside", Role.STAFF)),
        cast.brookside,
    ),
    "chair at A, DSL at B, at A": lambda cast: (
        _person(cast, ("oakfield", Role.CHAIR), ("brookside", Role.DSL)),
        cast.oakfield,
    ),
}


@pytest.mark.parametrize("who", PEOPLE)
def test_the_header_is_the_markup_the_template_loop_wrote(client, cast, who):
    trust_policy(cast)
    user, school = PEOPLE[who](cast)
    _sign_in(client, user, school)
    for name in ("home", "incidents:mine", "policy:page", "incidents:queue", "audit:log"):
        response = client.get(reverse(name))
        if response.status_code not in (200, 403):
            continue
        request = response.wsgi_request
        old_nav = OLD_NAV_ON_ERROR if response.status_code == 403 else OLD_NAV
        old = old_nav.template.render(RequestContext(request, {"nav_items": _old_menu(request.ctx)}))
        page = response.content.decode()
        assert parse_html(_nav(page)) == parse_html(CSRF.sub('name="csrfmiddlewaretoken" value="x"', old)), name
        if response.status_code == 200 and PAGES[name].label and name in open_pages(request.ctx):
            assert 'aria-current="page"' in _nav(page), name


def test_on_an_error_page_the_menu_marks_nothing(client, cast):
    _sign_in(client, cast.helen)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    request = response.wsgi_request
    ul = re.search(r'<ul class="navbar-nav me-auto flex-wrap">(.*?)</ul>', response.content.decode(), re.S)[1]
    old = OLD_MENU.template.render(RequestContext(request, {"nav_items": _old_menu(request.ctx)}))
    assert ul.strip() and "aria-current" not in ul
    assert parse_html(ul) == parse_html(old)


def test_a_role_granted_or_taken_away_changes_the_menu_on_the_next_request(client, cast):
    _sign_in(client, cast.sam)
    queue = reverse("incidents:queue")
    assert queue not in _nav(client.get(reverse("home")).content.decode())
    granted = Membership.objects.create(user=cast.sam, school=cast.oakfield, role=Role.DSL)
    assert queue in _nav(client.get(reverse("home")).content.decode())
    granted.delete()
    assert queue not in _nav(client.get(reverse("home")).content.decode())
    assert client.get(queue).status_code == 403


def _unacknowledged(user, school):
    return first_unacknowledged(school.pk, user.pk)


def _by_orm(user, school):
    return unacknowledged_versions(school.pk, user.pk).first()


def test_the_banner_query_answers_as_the_queryset_in_every_state(cast):
    two_schools = _person(cast, ("oakfield", Role.STAFF), ("brookside", Role.STAFF))
    people = [cast.sam, cast.helen, two_schools, cast.olive]
    schools = [cast.oakfield, cast.brookside]

    def same():
        for user, school in itertools.product(people, schools):
            assert _unacknowledged(user, school) == _by_orm(user, school), (user, school)

    same()  # no policy anywhere
    v1 = trust_policy(cast)
    same()
    assert _unacknowledged(cast.sam, cast.oakfield) == (v1.pk, v1.number)
    services.acknowledgement_record(user=cast.sam, version=v1)
    same()
    assert _unacknowledged(cast.sam, cast.oakfield) is None
    import datetime as dt

    v2 = draft(v1.policy)
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    same()
    assert _unacknowledged(cast.sam, cast.oakfield) == (v2.pk, v2.number)


def _fetched(user):
    """The banner at each of the person's schools as fetched with them (accounts/backends.py)."""
    from accounts.backends import PersonBackend
    from policyhub.context_processors import fetched_banner

    fetched = PersonBackend().get_user(user.pk).per_school_fetched["banner"]
    return {school: fetched_banner(values) for school, values in fetched.items()}


def test_the_banner_fetched_with_the_person_answers_as_the_query_in_every_state(cast):
    two_schools = _person(cast, ("oakfield", Role.STAFF), ("brookside", Role.STAFF))
    two_roles = _person(cast, ("oakfield", Role.STAFF), ("oakfield", Role.DSL))
    people = [cast.sam, cast.helen, two_schools, two_roles, cast.olive, cast.tom]

    def same():
        for user in people:
            schools = {m.school_id for m in Membership.objects.filter(user=user)}
            expected = {pk: first_unacknowledged(pk, user.pk) for pk in schools}
            assert _fetched(user) == expected, user

    same()  # no policy anywhere
    school_policy(cast, cast.brookside, status=VersionStatus.DRAFT)  # not in force; its id comes first
    v1 = trust_policy(cast)
    assert v1.pk != v1.number  # the two columns cannot stand in for each other
    same()
    assert _fetched(cast.sam)[cast.oakfield.pk] == (v1.pk, v1.number)
    services.acknowledgement_record(user=cast.sam, version=v1)
    services.acknowledgement_record(user=two_schools, version=v1)
    same()
    assert _fetched(cast.sam)[cast.oakfield.pk] is None
    import datetime as dt

    v2 = draft(v1.policy)
    services.policy_version_publish(actor=cast.tom, version=v2, effective_date=dt.date(2026, 1, 1))
    same()
    assert _fetched(two_schools) == {s.pk: (v2.pk, v2.number) for s in (cast.oakfield, cast.brookside)}
    nobody = UserFactory()  # no membership: their row, and no banner anywhere
    assert _fetched(nobody) == {}


def test_the_banner_is_asked_with_the_person_and_follows_publication_and_acknowledgement(client, cast):
    """It costs no query of its own, and is as fresh as the request: the person is read as each
    request starts."""
    import datetime as dt

    _sign_in(client, cast.sam)
    client.get(reverse("incidents:mine"))
    v1 = trust_policy(cast)  # published meanwhile (by another process, for all this one knows)
    with CaptureQueriesContext(connection) as queries:
        assert BANNER in client.get(reverse("incidents:mine")).content.decode()
    (asked,) = [q["sql"] for q in queries if "policyhub_acknowledgement" in q["sql"]]
    assert '"accounts_user"."password"' in asked  # the person's own query
    services.acknowledgement_record(user=cast.sam, version=v1)
    assert BANNER not in client.get(reverse("incidents:mine")).content.decode()
    services.policy_version_publish(actor=cast.tom, version=draft(v1.policy), effective_date=dt.date(2026, 1, 1))
    assert BANNER in client.get(reverse("incidents:mine")).content.decode()


def test_the_banner_is_the_markup_it_was(client, cast):
    trust_policy(cast)
    _sign_in(client, cast.sam)
    response = client.get(reverse("incidents:mine"))
    banner = re.search(r"<aside .*?</aside>", response.content.decode(), re.S)[0]
    # The version as the context processor found it before (a model instance, through the ORM).
    version = (
        PolicyVersion.objects.filter(policy__adoptions__school=cast.oakfield, status=VersionStatus.ACTIVE)
        .annotate(done=Exists(Acknowledgement.objects.filter(user=cast.sam, version=OuterRef("pk"))))
        .filter(done=False)
        .only("pk", "number")
        .first()
    )
    old = OLD_BANNER.template.render(RequestContext(response.wsgi_request, {"policy_to_acknowledge": version}))
    assert parse_html(CSRF.sub('name="csrfmiddlewaretoken" value="x"', banner)) == parse_html(
        CSRF.sub('name="csrfmiddlewaretoken" value="x"', old)
    )


def test_a_kept_address_is_the_one_reverse_gives_under_each_script_prefix():
    """page_frame.fixed_url keeps reverse()'s answer per name, arguments, script prefix and urlconf:
    each argument gets its own address, and a site served under a prefix gets its own."""
    from django.urls import get_script_prefix, set_script_prefix

    from accounts.templatetags.page_frame import fixed_url

    before = get_script_prefix()
    try:
        for prefix in ("/", "/policyhub/", "/"):
            set_script_prefix(prefix)
            assert fixed_url("policy:search") == reverse("policy:search")
            assert reverse("policy:search").startswith(prefix)
            for pk in (1, 2, 31):
                assert fixed_url("policy:clause", pk) == reverse("policy:clause", args=[pk])
            assert len({fixed_url("policy:clause", pk) for pk in (1, 2, 31)}) == 3
    finally:
        set_script_prefix(before)
