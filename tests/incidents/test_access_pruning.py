"""incidents/access.py leaves out of the rule the relations that can match nothing for this viewer
(a role they hold at no school): `_never` must say "nothing" only when that is certain."""

from django.db.models import Q

from incidents.access import _never


def test_an_empty_in_list_matches_nothing_and_so_does_an_and_containing_it():
    assert _never(Q(school__in=[]))
    assert _never(Q(school__in=[]) & Q(status="closed"))
    assert _never(Q(school__in=[], status="governor_review", review_by_trust=True))
    assert _never(Q(school__in=[]) & (Q(category__in=["x"]) | Q(child_at_risk=True)))
    assert _never(Q(school__in=[]) | Q(pk__in=()))


def test_anything_that_may_match_is_kept():
    assert not _never(Q(school__in=[1]))
    assert not _never(Q(school__in=[]) | Q(reporter=1))  # an OR with one live part
    assert not _never(~Q(school__in=[]))  # NOT nothing is everything
    assert not _never(Q())  # no condition at all
    assert not _never(Q(school__in=[]) ^ Q(status="closed"))  # XOR: not reasoned about, kept
    assert not _never(Q(school=None))
