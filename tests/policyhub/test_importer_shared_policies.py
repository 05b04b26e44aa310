"""The importer against three real school policies (text extracted from PDFs, page furniture left in).

The expected lists below were written out by hand from reading each document, not copied from the parser.
"""

import re
from pathlib import Path

import pytest

from policyhub.importer import ParsedPolicy, import_document

# shared/ sits beside the checkout: /work/shared for /work/main, and also for a worktree under /work/wt/.
POLICIES = next(
    (p / "shared" / "policies" for p in Path(__file__).resolve().parents if (p / "shared" / "policies").is_dir()),
    Path(__file__).resolve().parents[2].parent / "shared" / "policies",
)

if not POLICIES.is_dir():
    pytest.skip(f"shared policy documents not found at {POLICIES}", allow_module_level=True)


def load(name: str) -> ParsedPolicy:
    path = POLICIES / name
    return import_document(path.read_bytes(), path.name)


def refs(policy: ParsedPolicy) -> list[str]:
    return [c.ref for c in policy.clauses]


def numbered_refs(policy: ParsedPolicy) -> list[str]:
    """Refs the document itself numbers (as opposed to refs generated for bullets and paragraphs)."""
    return [c.ref for c in policy.clauses if c.numbered]


def clause(policy: ParsedPolicy, ref: str):
    matches = [c for c in policy.clauses if c.ref == ref]
    assert len(matches) == 1, f"expected exactly one clause {ref}, found {len(matches)}"
    return matches[0]


def assert_no_furniture(policy: ParsedPolicy) -> None:
    headings = {s.heading for s in policy.sections}
    for c in policy.clauses:
        assert "Back to contents" not in c.text, c.ref
        assert not re.search(r"\bPage \d+ of \d+\b", c.text), c.ref
        assert c.text == c.text.strip() and "  " not in c.text and "\n" not in c.text, c.ref
        assert c.text, c.ref
        for heading in headings:  # a heading must not have been swallowed into the clause before it
            assert not (len(heading) > 6 and c.text.endswith(" " + heading)), (c.ref, heading)


def assert_refs_unique(policy: ParsedPolicy) -> None:
    all_refs = refs(policy)
    assert len(all_refs) == len(set(all_refs))


def assert_numbered_parents(policy: ParsedPolicy) -> None:
    for c in policy.clauses:
        if re.fullmatch(r"\d+\.\d+", c.ref):
            assert c.parent is None, c.ref
        elif re.fullmatch(r"\d+\.\d+\.\d+", c.ref):
            assert c.parent == c.ref.rsplit(".", 1)[0], c.ref


# --------------------------------------------------------------------------------------------
# Gloucestershire model policy: "1.0 Heading" sections, "1.1" clauses, "7.4.1" sub-clauses,
# one page break with a page number and "Back to contents" in the middle of clause 8.1.6.
# --------------------------------------------------------------------------------------------

GLOUCESTERSHIRE_NUMBERED = [
    "1.1", "1.2", "1.3",
    "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7",
    "3.1", "3.2",
    "4.1",
    "5.1", "5.2", "5.3", "5.4",
    "6.1",
    "7.1", "7.2", "7.3", "7.4", "7.4.1", "7.4.2", "7.4.3", "7.4.4", "7.4.5", "7.4.6",
    "7.5", "7.6", "7.6.1", "7.6.2", "7.6.3", "7.7",
    "8.1", "8.1.1", "8.1.2", "8.1.3", "8.1.4", "8.1.5", "8.1.6", "8.2", "8.3",
    "9.1", "9.2", "9.3", "9.4",
    "10.1", "10.1.1", "10.1.2", "10.1.3", "10.2",
    "11.1", "11.2", "11.2.1", "11.2.2", "11.2.3", "11.3", "11.4",
]  # fmt: skip


def test_gloucestershire_numbered_clauses_in_order():
    policy = load("gloucestershire-model-policy.txt")
    assert numbered_refs(policy) == GLOUCESTERSHIRE_NUMBERED


def test_gloucestershire_all_clauses_including_the_bullet_under_4_1():
    policy = load("gloucestershire-model-policy.txt")
    expected = GLOUCESTERSHIRE_NUMBERED.copy()
    expected.insert(expected.index("4.1") + 1, "4.1.a")
    assert refs(policy) == expected
    assert len(policy.clauses) == 60
    bullet = clause(policy, "4.1.a")
    assert bullet.parent == "4.1"
    assert bullet.text.startswith("Safer Working Practice Policy; Code of Conduct")
    assert bullet.text.endswith("and Online Safety & Acceptable Use Policy")


def test_gloucestershire_sections_and_headings():
    policy = load("gloucestershire-model-policy.txt")
    assert policy.title is None
    assert [(s.number, s.heading) for s in policy.sections] == [
        ("1", "Introduction"),
        ("2", "Scope"),
        ("3", "Legal framework"),
        ("4", "Related policies"),
        ("5", "Social media relating to the school"),
        ("6", "Creation of social media accounts by school staff for use in education"),
        ("7", "Personal use of social media by employees"),
        ("8", "Further guidance on the use of social media"),
        ("9", "Breaches of the policy"),
        ("10", "Parents/carers (the ‘wider’ school community) on social media sites"),
        ("11", "Dealing with incidents of online (cyber) bullying"),
    ]


def test_gloucestershire_sub_clause_parents():
    policy = load("gloucestershire-model-policy.txt")
    assert clause(policy, "7.4.1").parent == "7.4"
    assert clause(policy, "7.6.3").parent == "7.6"
    assert clause(policy, "8.1.6").parent == "8.1"
    assert clause(policy, "10.1.2").parent == "10.1"
    assert clause(policy, "11.2.3").parent == "11.2"
    assert clause(policy, "7.4").parent is None
    assert_numbered_parents(policy)


def test_gloucestershire_clause_across_page_break_is_whole_and_clean():
    policy = load("gloucestershire-model-policy.txt")
    assert clause(policy, "8.1.6").text == (
        "Unilaterally use social media social media as a communication channel about school business, even if "
        "that communication relates to matters which are already cleared to be shared with parents "
        "(Communication to parents is managed through the channels that have been approved by the Governing Board.)"
    )
    assert_no_furniture(policy)
    assert_refs_unique(policy)


def test_gloucestershire_wrapped_clause_text_and_lead_in():
    policy = load("gloucestershire-model-policy.txt")
    assert clause(policy, "7.4").text == (
        "Employees must not conduct or portray themselves, or allow friends to portray them, in a manner which may:"
    )
    assert clause(policy, "11.3").text == (
        "There are UK statutes that cover the use of Internet technology in relation to bullying."
    )
    assert clause(policy, "11.2.1").text == "could have repercussions for the orderly running of the school,"


# --------------------------------------------------------------------------------------------
# St Elisabeth's (One Education model): unnumbered headings, clauses "1.1." / "2.1", a section with
# no numbers at all ("Roles and responsibilities"), bullets whose glyphs were lost in extraction,
# a cover note before the first heading, and no section 5.
# --------------------------------------------------------------------------------------------

ST_ELISABETHS_NUMBERED = (
    ["1.1", "1.2", "1.3", "1.4"]
    + ["2.1", "2.2", "2.3", "2.4"]
    + ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]
    + ["4.1", "4.2"]
    + [f"6.{n}" for n in range(1, 25)]
    + ["7.1", "7.2", "7.3", "7.4"]
    + ["8.1", "8.2"]
    + ["9.1", "9.2", "9.3", "9.4", "9.5"]
    + ["10.1", "10.2", "10.3", "10.4", "10.5", "10.6"]
    + ["11.1", "11.2", "11.3"]
)


def test_st_elisabeths_numbered_clauses_in_order():
    policy = load("st-elisabeths-one-education.txt")
    assert numbered_refs(policy) == ST_ELISABETHS_NUMBERED
    assert len(ST_ELISABETHS_NUMBERED) == 60


def test_st_elisabeths_sections_take_numbers_from_their_clauses():
    policy = load("st-elisabeths-one-education.txt")
    assert policy.title is None
    assert [(s.number, s.heading) for s in policy.sections] == [
        ("0", "Preamble"),
        ("1", "Introduction"),
        ("2", "Scope and definitions"),
        ("3", "Key Principles"),
        ("3A", "Roles and responsibilities"),
        ("4", "Safer social networking practice"),
        ("6", "Responsibilities when using social media"),
        ("7", "Access to inappropriate images"),
        ("8", "School social media websites"),
        ("9", "Cyberbullying and Trolling"),
        ("10", "The Prevent Duty"),
        ("11", "Breaches of Policy and Other Issues"),
    ]


def test_st_elisabeths_all_clauses_with_bullets():
    policy = load("st-elisabeths-one-education.txt")
    expected = (
        ["0.1"]
        + ["1.1", "1.2", "1.3", "1.4"]
        + ["2.1", "2.2", "2.3", "2.4", "2.4.a", "2.4.b", "2.4.c", "2.4.d", "2.4.e"]
        + ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.6.a", "3.6.b", "3.6.c", "3.6.d"]
        + ["3A.1"]
        + [f"3A.1.{letter}" for letter in "abcdefghij"]
        + ["3A.2"]
        + [f"3A.2.{letter}" for letter in "abcdef"]
        + ST_ELISABETHS_NUMBERED[14:]
    )
    assert refs(policy) == expected
    assert len(policy.clauses) == 88


def test_st_elisabeths_parents_of_bullets_and_lead_ins():
    policy = load("st-elisabeths-one-education.txt")
    assert clause(policy, "2.4").text == "In this policy, the following definitions apply:-"
    assert clause(policy, "2.4.a").parent == "2.4"
    assert clause(policy, "2.4.a").text.startswith("social media - means any type of interactive online media")
    assert clause(policy, "2.4.e").text.endswith(
        "directly or indirectly connected with St Elisabeth's CE Primary School."
    )
    assert clause(policy, "3.6.d").parent == "3.6"
    assert clause(policy, "3A.1").text == "The Head of School and the Governing Body will:-"
    assert clause(policy, "3A.1").parent is None
    assert clause(policy, "3A.1.j").parent == "3A.1"
    assert clause(policy, "3A.1.j").text == (
        "take all reasonable steps to prevent adults working in school abusing or misusing their position of trust."
    )
    assert clause(policy, "3A.2").text == "Adults working in school must:-"
    assert clause(policy, "3A.2.f").text == "never, in any circumstances, abuse or misuse their position of trust."
    assert_numbered_parents(policy)


def test_st_elisabeths_wrapped_clauses_are_whole():
    policy = load("st-elisabeths-one-education.txt")
    assert clause(policy, "1.1").text.startswith("This model policy and guidance document recognises")
    # an indented line at the top of a page continues the sentence before it
    assert "to encourage travel to Syria and Iraq”. It also takes into account" in clause(policy, "1.4").text
    assert clause(policy, "8.1").text.endswith(
        "The matter must have been discussed, authorised and agreed with the Head of School in advance of any "
        "school website, including social media websites, being created."
    )
    # "2015). In addition" starts a line but is not a list item
    assert "the Prevent Duty (June 2015). In addition, to assist schools" in clause(policy, "10.3").text
    # a short line ending the clause is not a heading
    assert clause(policy, "10.4").text.endswith("are available on the UK Safer Internet Centre website")
    assert clause(policy, "0.1").text.startswith("This policy and procedure has been produced by One Education’s HR")
    assert clause(policy, "0.1").text.endswith("a reference to an academy or free school Principal.")
    assert_no_furniture(policy)
    assert_refs_unique(policy)


# --------------------------------------------------------------------------------------------
# Ashgrove Primary: no numbering at all; capitalised headings; bullets whose glyphs were lost
# (lines indented by one space); sub-headings "The Do’s"/"The Don’ts"; headings with nothing under them.
# --------------------------------------------------------------------------------------------

ASHGROVE_REFS = (
    ["1.1", "1.2", "1.3", "1.4", "1.4.a", "1.4.b", "1.4.c", "1.4.d", "1.5", "1.6", "1.7", "1.8", "1.9"]
    + [f"2.{letter}" for letter in "abcdefghijklmnopq"]
    + ["3.1", "3.1.a", "3.1.b", "3.1.c", "3.1.d", "3.1.e", "3.2"]
    + ["4.1"]
    + [f"5.{letter}" for letter in "abcdefg"]
    + ["6.a", "6.b"]
    + ["7.a", "7.b", "7.c"]
    + ["8.1", "8.1.a", "8.1.b", "8.1.c", "8.1.d"]
    + ["9.1", "9.1.a", "9.1.b", "9.1.c", "9.1.d"]
    + [f"10.{letter}" for letter in "abcdefghijkl"]
    + ["11.a", "11.b"]
    + [f"12.{letter}" for letter in "abcdefghij"]
    + ["13.1"]
    + [f"13.1.{letter}" for letter in "abcdefghij"]
    + ["13.2"]
    + [f"13.2.{letter}" for letter in "abcdef"]
    + [f"14.{letter}" for letter in "abcdefgh"]
    + [f"15.{letter}" for letter in "abcdef"]
    + ["16.a", "16.b", "16.c"]
)


def test_ashgrove_has_no_numbered_clauses_and_generated_refs_in_order():
    policy = load("ashgrove-primary.txt")
    assert numbered_refs(policy) == []
    assert refs(policy) == ASHGROVE_REFS
    assert len(policy.clauses) == 119


def test_ashgrove_capitalised_headings_become_sections():
    policy = load("ashgrove-primary.txt")
    assert policy.title is None
    # "GDPR (...)", "APPENDIX" and "STAFF DO’S AND DON’TS OF SOCIAL MEDIA" have nothing under them
    assert [(s.number, s.heading) for s in policy.sections] == [
        ("1", "RATIONALE"),
        ("2", "ROLES & RESPONSIBILITIES"),
        ("3", "CREATING NEW ACCOUNTS"),
        ("4", "MONITORING"),
        ("5", "BEHAVIOUR"),
        ("6", "LEGAL CONSIDERATIONS"),
        ("7", "HANDLING ABUSE"),
        ("8", "TONE"),
        ("9", "USE OF IMAGES"),
        ("10", "PERSONAL USE OF SOCIAL MEDIA"),
        ("11", "MONITORING POSTS ABOUT THE SCHOOL"),
        ("12", "MANAGING YOUR PERSONAL USE OF SOCIAL MEDIA"),
        ("13", "MANAGING SCHOOL SOCIAL MEDIA ACCOUNTS"),
        ("14", "DO THE FOLLOWING"),
        ("15", "DON’T DO THE FOLLOWING"),
        ("16", "LINKS TO OTHER POLICIES"),
    ]


def test_ashgrove_paragraphs_bullets_and_parents():
    policy = load("ashgrove-primary.txt")
    assert clause(policy, "1.4").text == "This policy:"
    assert clause(policy, "1.4.a").parent == "1.4"
    assert clause(policy, "1.4.a").text == (
        "Applies to all staff and to all online communications which directly or indirectly, represent the school."
    )
    assert (
        clause(policy, "1.4.d").text
        == "Defines the monitoring of public social media activity pertaining to the school"
    )
    assert clause(policy, "1.5").text.startswith("The school respects privacy")
    assert clause(policy, "2.a").text == "SLT"
    assert clause(policy, "2.a").parent is None
    assert clause(policy, "3.1.e").text == "Will the account be open or private/closed"
    assert clause(policy, "3.2").text.startswith("Following consideration by the SLT")
    assert clause(policy, "8.1.d").text == "Friendly (on certain platforms, e.g. Facebook)"
    assert clause(policy, "13.1").text == "The Do’s"
    assert clause(policy, "13.2").text == "The Don’ts"
    assert clause(policy, "13.2.a").parent == "13.2"
    assert clause(policy, "16.c").text == "Staff Code of Conduct"


def test_ashgrove_wrapped_text_is_joined():
    policy = load("ashgrove-primary.txt")
    # wraps across an indented line (probably a page top) and after "e.g."
    assert clause(policy, "1.7").text == (
        "Personal communications are those made via a personal social media accounts. In all cases, where a "
        "personal account is used which associates itself with the school or impacts on the school, it must be "
        "made clear that the member of staff is not communicating on behalf of the school with an appropriate "
        "disclaimer. Such personal communications are within the scope of this policy."
    )
    assert clause(policy, "1.9").text.endswith(
        "for teaching and learning purposes e.g. See-Saw, but must consider whether this is appropriate and "
        "consider the potential implications."
    )
    # a bullet whose second and third sentences start on new lines is still one bullet
    assert clause(policy, "5.g").text == (
        "The school will take appropriate action in the event of breaches of the social media policy. Where "
        "conduct is found to be unacceptable, the school will deal with the matter internally. Where conduct is "
        "considered illegal, the school will report the matter to the police and other relevant external "
        "agencies, and may take action according to the disciplinary policy."
    )
    assert_no_furniture(policy)
    assert_refs_unique(policy)


def test_shared_policies_suggest_topics_for_obvious_clauses():
    glos = load("gloucestershire-model-policy.txt")
    st_e = load("st-elisabeths-one-education.txt")
    assert "contact_pupils" in clause(glos, "7.6.2").topics
    assert "contact_parents" in clause(glos, "7.6.1").topics
    assert "breaches" in clause(glos, "9.1").topics
    assert "prevent" in clause(st_e, "10.1").topics
    assert "illegal_content" in clause(st_e, "7.1").topics
    assert "cyberbullying" in clause(st_e, "9.5").topics
    assert "working_hours" in clause(st_e, "6.19").topics
    assert "confidentiality" in clause(st_e, "6.20").topics


def test_shared_policies_to_dict_round_trip_counts():
    for name, n_sections, n_clauses in [
        ("gloucestershire-model-policy.txt", 11, 60),
        ("st-elisabeths-one-education.txt", 12, 88),
        ("ashgrove-primary.txt", 16, 119),
    ]:
        data = load(name).to_dict()
        assert len(data["sections"]) == n_sections, name
        assert sum(len(s["clauses"]) for s in data["sections"]) == n_clauses, name
