"""Case references (incidents/references.py): random, checkable, forgiving to type, found by search."""

import itertools

import pytest
from django.urls import reverse

from incidents import references
from incidents.forms import ReferenceField
from incidents.models import Incident
from tests.incidents.factories import IncidentFactory, report

ALPHABET = references.ALPHABET


def test_the_alphabet_has_no_look_alikes():
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)


def test_new_references_are_well_formed_and_check_themselves():
    for _ in range(500):
        ref = references.new_reference("OAK")
        assert references.is_canonical(ref) and ref.startswith("OAK-")
        body = ref.replace("-", "")[3:]
        assert references.check_character(body[:-1]) == body[-1]


def test_new_references_do_not_run_in_sequence():
    refs = [references.new_reference("OAK") for _ in range(2000)]
    assert len(set(refs)) == len(refs)
    # Every character of the random part takes many values, in every position.
    bodies = [r.replace("-", "")[3:] for r in refs]
    for position in range(references.RANDOM_LENGTH):
        assert len({b[position] for b in bodies}) == 32


def test_every_single_mistyped_character_is_caught():
    ref = references.new_reference("OAK")
    body = ref.replace("-", "")[3:]
    for i, wrong in itertools.product(range(len(body)), ALPHABET):
        if wrong == body[i]:
            continue
        typo = body[:i] + wrong + body[i + 1 :]
        with pytest.raises(references.BadReference, match="mistake"):
            references.parse(f"OAK-{typo}")


def test_every_swap_of_neighbouring_characters_is_caught():
    for _ in range(50):
        body = references.new_reference("OAK").replace("-", "")[3:]
        for i in range(len(body) - 1):
            if body[i] == body[i + 1]:
                continue
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            with pytest.raises(references.BadReference):
                references.parse(f"OAK{swapped}")


def test_typing_is_forgiving_about_case_spaces_hyphens_and_look_alikes():
    # A reference with 0 and 1 in it, to type as O and I/L.
    ref = next(r for r in iter(lambda: references.new_reference("OAK"), None) if "0" in r[4:] and "1" in r[4:])
    sloppy = ref.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert references.parse(sloppy).reference == ref
    assert references.parse(f"  {ref.replace('-', '')}  ").reference == ref
    assert references.parse(ref.replace("1", "I")).reference == ref
    # The school's code is never "corrected": OAK keeps its O.
    assert references.parse(ref).school == "OAK"
    # The eight characters alone are enough where the school is known.
    assert references.parse(ref[4:]).school == "" and references.parse(ref[4:]).suffix == ref[3:]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Please type a case reference"),
        ("OAK-7KQ2", "too short"),
        ("OAK-7KQ2-M9XU", "never contains U"),
        ("OAK-7K!2-M9XD", "only letters and digits"),
        ("OAKFIELDPRIMARY-7KQ2-M9XD", "too long"),
    ],
)
def test_bad_input_gets_a_clear_message(typed, message):
    with pytest.raises(references.BadReference, match=message):
        references.parse(typed)


def test_old_style_references_are_recognised_as_such():
    parsed = references.parse("oak-2026-0042")
    assert parsed.legacy == "OAK-2026-0042" and parsed.reference == ""


def test_the_form_field_cleans_to_a_parsed_reference_or_says_what_is_wrong():
    field = ReferenceField()
    ref = references.new_reference("OAK")
    assert field.clean(ref.lower()).reference == ref
    with pytest.raises(Exception, match="mistake"):
        field.clean(ref[:-1] + ("0" if ref[-1] != "0" else "1"))
    with pytest.raises(Exception, match="too long"):
        field.clean("x" * 41)


def test_the_url_converter_accepts_only_canonical_references():
    converter = references.ReferenceConverter()
    ref = references.new_reference("OAK")
    assert converter.to_url(ref) == ref
    for bad in ("12", "OAK-2026-0042", ref.lower()):
        with pytest.raises(ValueError):
            converter.to_url(bad)


@pytest.mark.django_db
def test_a_collision_draws_again(cast, monkeypatch):
    """Two cases that draw the same reference: the unique constraint refuses the second, which
    draws again (a race between two reports ends the same way)."""
    first = report(cast.oakfield, cast.sam)
    fresh = references.new_reference("OAK")
    draws = iter([first.reference, first.reference, fresh])
    monkeypatch.setattr(references, "new_reference", lambda code: next(draws))
    second = report(cast.oakfield, cast.sam)
    assert second.reference == fresh and Incident.objects.count() == 2


@pytest.mark.django_db
def test_a_row_made_without_a_reference_gets_a_random_one(cast):
    incident = IncidentFactory(school=cast.oakfield, reporter=cast.sam)
    assert references.is_canonical(incident.reference) and incident.reference.startswith("OAK-")


@pytest.mark.django_db
def test_retention_finds_a_case_by_a_sloppily_typed_reference_and_by_its_old_one(client, cast):
    from tests.incidents.factories import sign_in

    case = report(cast.oakfield, cast.sam)
    Incident.objects.filter(pk=case.pk).update(legacy_reference="OAK-2025-0007")
    sign_in(client, cast.helen)
    url = reverse("retention:upcoming")
    for typed in (case.reference.lower().replace("-", " "), case.reference[4:], "oak-2025-0007"):
        page = client.get(url, {"reference": typed}).content.decode()
        assert f'href="/incidents/{case.reference}/"' in page, typed
        assert "Nothing to show for that reference" not in page
    # A wrong check character: the message says so, and nothing is looked up.
    wrong = case.reference[:-1] + next(c for c in ALPHABET if c != case.reference[-1])
    page = client.get(url, {"reference": wrong}).content.decode()
    assert "has a mistake in it" in page and "Nothing to show for that reference" not in page
    # The old reference is never shown.
    assert "OAK-2025-0007" not in client.get(reverse("incidents:detail", args=[case.reference])).content.decode()


@pytest.mark.django_db
def test_retention_search_never_finds_a_case_about_the_searcher(client, cast):
    from incidents.models import Category, Involved
    from tests.incidents.factories import sign_in

    about_helen = report(
        cast.oakfield, cast.sam, category=Category.STAFF_CONDUCT, involved=Involved.STAFF, subject=cast.helen
    )
    Incident.objects.filter(pk=about_helen.pk).update(legacy_reference="OAK-2025-0008")
    sign_in(client, cast.helen)
    for typed in (about_helen.reference, about_helen.reference[4:], "OAK-2025-0008"):
        page = client.get(reverse("retention:upcoming"), {"reference": typed}).content.decode()
        assert "Nothing to show for that reference" in page and about_helen.reference not in page.replace(typed, "")
