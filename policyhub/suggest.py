"""Clause suggestion: which clauses of a policy a concern most likely breaches, best first.

A lexical ranker (BM25, Robertson & Zaragoza 2009) over each clause's text, with its section heading
and the lead-in of its parent clause as weaker fields, so a list item such as ``7.4.1 bring the school
into disrepute`` carries the subject of ``7.4 Employees must not ...``. Words are stemmed (Snowball)
and stop words dropped. Before that, a small hand-made vocabulary of the field (``CONCEPTS``) maps the
many ways people say one thing to a single concept term on both sides: a concern that says "she
accepted his friend request on Insta" and a clause that says "must never follow or make a friend of a
pupil" then share ``@befriend`` and ``@pupil`` whatever their words. The vocabulary is general (words
for parents, pupils, pictures, messaging, criticism ...), not tuned to one policy.

Clauses that state a rule ("must not", "never", "don't") are preferred a little; scope, definitions,
purpose, roles and "related policies" boilerplate is weighted down, since a concern rarely breaches
those.

Everything is computed from the policy text in memory; nothing is stored. An index is built per policy
version and kept in a small in-process cache (published versions never change, so the key is safe;
drafts are not cached). Nothing here logs the concern's text.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from .models import Clause, PolicyVersion, Section, VersionStatus

DEFAULT_TOP = 5
MAX_QUERY_CHARS = 5000  # a concern is a few paragraphs; more is pasted noise and slows nothing useful

# BM25 parameters (the usual defaults) and field weights.
K1 = 1.2
B = 0.75
HEADING_WEIGHT = 0.6
PARENT_WEIGHT = 0.4
CONCEPT_QUERY_WEIGHT = 1.5  # a concept term stands for what the words mean: the main signal
COVERED_QUERY_WEIGHT = 0.5  # a word that is part of a concept match already counts through the concept
IMPLIED_QUERY_WEIGHT = 0.5  # a concept implied by another (criticising the school -> its reputation)
RULE_BOOST = 1.15  # a clause that states a rule (must not, never ...) is more likely the one breached
BOILERPLATE_FACTOR = 0.6  # scope, definitions, purpose, roles, related policies
LEAD_IN_FACTOR = 0.85  # "Staff must not:" with its items listed as children: the items are the rule


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no meaning for matching: English function words, and words every clause of a
# social-media policy uses (their IDF would be near zero anyway; dropping them keeps "matched" honest).
STOP_WORDS = _word_set(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either etc few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just let may
    me might more most my myself no nor not of off on once only or our ours ourselves out over own
    per same shall she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up upon very was we were what when where which while who whom why
    will with within without would you your yours yourself yourselves e.g eg i.e ie via one two three s t
    ve ll d re m got get gets getting really quite just still even ever yesterday today week weekend last
    night morning evening saw seen see think thought said says told someone somebody anyone something thing
    things lot keep keeps kept teacher teachers ta tas make makes made take takes took put puts go goes
    went come came look looks looked tell ask asked policy policies school schools staff member members
    adult adults employee employees social media use used using user users
    """
)

# The field's vocabulary, one concept a line (indented lines continue it): ``name: pattern | pattern``.
# Patterns are regular expressions on lower-cased text, matched as whole words; " | " separates them
# (a "|" inside a group has no spaces). A concept term is added wherever any of its patterns matches,
# in clauses and concerns alike.
VOCABULARY = r"""
pupil: pupils? | students? | learners? | child(?:ren)? | kids? | young (?:people|person) | year \d+ |
    (?:boy|girl)s? in | teenagers? | minors? | sixth[- ]formers? | (?:his|her|their|my) class
former_pupil: former pupils? | ex[- ]pupils? | prior pupils? | left (?:the )?school | old pupils?
parent: parents? | carers? | mums? | mothers? | dads? | fathers? | guardians? | famil(?:y|ies) |
    step-?(?:mum|dad)s? | pta
colleague: colleagues? | co-?workers? | other (?:teachers?|staff) | fellow (?:teachers?|staff)
head: head ?teachers? | heads?(?: of school)? | principal | (?:senior )?lead(?:ers?|ership)(?: team)? | slt
governor: governors? | governing (?:body|board) | chair of governors
image: images? | photos? | photographs? | photographed | pictures? | pics? | selfies? | videos? | footage |
    filmed | film(?:ing)? | recordings? | snaps? | clips? | reels? | stories | tagged | tagging
befriend: friend requests? | friends? with | friended | accept(?:s|ed|ing)? (?:\S+ ){0,4}requests? |
    befriend(?:s|ed|ing)? | make a .friend |
    (?:accept|add)(?:s|ed|ing)? (?:\w+ ){0,3}(?:as )?(?:a )?friends? | friendships? | follow(?:s|ed|ing|ers?)? |
    follow requests? | connect(?:s|ed|ing|ions?)? | add(?:s|ed)? (?:him|her|them|pupils?|students?) | unfriend
message: dms? | dm'?(?:s|ed|ing) | direct messages? | messag(?:e|es|ed|ing) | inbox(?:ed)? |
    private(?:ly)? messag\w* | chat(?:s|ted|ting)? | text(?:s|ed|ing)? | whats ?app(?:ed)? | snapchat(?:ted)? |
    conversations? | communicat\w* | contact(?:s|ed|ing)? | e-?mails? | phone numbers? | mobile numbers? |
    personal numbers?
criticise: critici[sz]\w* | slag\w* (?:\w+ ){0,3}off | moan\w* | rant\w* | derogatory | negative | insult\w* |
    attack\w* | mock\w* | ridicul\w* | belittl\w* | bad[- ]?mouth\w* | disparag\w* | rude | nasty | sarcastic |
    grievances? | having a go | had a go | vent\w* | sound(?:ed|ing)? off | dig at | name[ds]? and sham\w* |
    useless | incompetent | (?:the )?worst | joke of a
post: post(?:s|ed|ing)? | put (?:\S+ ){0,4}(?:on|up|online) | upload(?:s|ed|ing)? | publish(?:es|ed|ing)? |
    shar(?:e|es|ed|ing) | tweet(?:s|ed|ing)? | retweet\w* | repost\w*
complaint: complain\w* | complaints? procedures? | grievance procedures? | raise (?:a |any )?concerns?
disrepute: disrepute | reputation | embarrass\w* | bring\w* (?:\w+ ){0,4}into disrepute |
    damag\w* (?:\w+ ){0,2}(?:name|image|standing) | unprofessional | professional standards | inappropriate
defame: defam\w* | libel\w* | slander\w* | lies | false (?:claims?|allegations?|rumours?) | fictitious |
    malicious | rumours? | untrue | made up
confidential: confidential\w* | private information | personal (?:information|data|details) | sensitive |
    data protection | gdpr | data breach\w* | leak\w* | disclos\w* | reveal\w* | names? and address\w* |
    addresses | home address\w* | medical | sen(?:d)? (?:records?|needs?|status) | exclusions? | marks? |
    grades? | results | safeguarding (?:records?|files?|information) | class lists? | spreadsheets? | records? |
    meeting | internal | school business | behind closed doors
political: politic\w* | elections? | vot(?:e|es|ed|ing) | campaign\w* |
    (?:political )?part(?:y|ies) (?:leaders?|members?|politics) | labour | conservatives? | tor(?:y|ies) |
    reform uk | lib dems? | greens? | mps? | councillors? | government | protests? | neutral\w* | opinions? |
    views? | personal views? | on behalf of
illegal: illegal\w* | unlawful\w* | indecent | porn\w* | explicit | nudes? | naked | sexual\w* | obscene |
    drugs? | cannabis | criminal | crimes? | offences? | police | arrest\w* | abuse images? | csam
bully: (?:cyber)?bull(?:y|ies|ied|ying) | troll\w* | harass\w* | abus(?:e|ive|ed|ing) | threat\w* |
    intimidat\w* | humiliat\w* | pile-?on | hate | hateful | targeted | targeting | stalk\w* | offensive |
    vile | swear\w*
discriminate: discriminat\w* | racis[mt]\w* | racial\w* | sexis[mt]\w* | homophob\w* | transphob\w* |
    islamophob\w* | antisemit\w* | equality | religio\w* | disab\w* | slurs? | bigot\w*
extremism: extrem\w* | radical\w* | terror\w* | prevent | jihad\w* | far[- ]right | far[- ]left | neo-?nazi\w* |
    isis | isil | propaganda | recruit\w* | white suprem\w*
groom: groom\w* | meet(?:ing)? up | secret\w* | gifts? | special relationship | late at night | at risk | harm |
    welfare | exploit\w* | sextort\w* | safeguard\w* | vulnerable
alcohol: drunk\w* | drink\w* | alcohol\w* | booze\w* | pub | wine | beer | party | parties | partying |
    night out | hungover | dignity | undress\w* | bikini | swimwear | beach
work_hours: working (?:hours|time|day) | work(?:ing)? hours |
    during (?:lessons?|class|the school day|work|school hours|the day) | in (?:lessons?|class) |
    while teaching | on duty | duties | lesson time | teaching time | break time | lunch ?time |
    playground duty | scroll\w* | time and attention | excessive
device: (?:mobile |smart ?|tele)?phones? | mobiles? | devices? | cloud storage | google drive | icloud | dropbox |
    usb | equipment | laptops?
school_account: school(?:'s)? (?:official )?(?:accounts?|pages?|channels?|feeds?|website|blog) |
    school(?:'s)? (?:facebook|instagram|twitter|x|tiktok|youtube)(?: accounts?| pages?| channels?)? |
    official (?:school )?(?:accounts?|pages?|channels?) | class (?:blog|account|page|twitter) |
    (?:pta|friends of) (?:page|account|group) | account (?:runners?|administrators?|admins?) | administrators? |
    moderat\w* | admins? | passwords? | log-?ins? | approv\w* | set up |
    creat(?:e|ed|ing) (?:an? )?(?:new )?(?:\w+ )?accounts? |
    (?:new|unauthori[sz]ed|unofficial|fake|imposter) (?:\w+ )?(?:accounts?|pages?) |
    using the school(?:'s)? (?:name|logo|badge|crest|branding) | logo | branding
comment_reply: comments? | commented | replies | repl(?:y|ied|ying) | respond\w* | responses? | queries |
    query | answer\w* | reviews?
media: journalists? | press | newspapers? | reporters? | the media | media (?:enquir\w*|policy|office) |
    local paper | bbc | news | radio | tv | televisions? | enquir(?:y|ies)
copyright: copyright\w* | plagiar\w* | someone else'?s (?:work|content|materials?) |
    without (?:credit|permission) | permission | consent\w* | opted? out | opt-?out
privacy: privacy | private | public (?:profile|account) | settings | anyone can see | open to the public |
    digital footprint | identif\w* | job title | place of work | employer | work(?:s|ed)? at | teach(?:es)? at |
    bio
disclaimer: disclaimer | views (?:are )?(?:my|his|her|their) own | on behalf of the school | represent\w* |
    speak(?:ing)? for the school
evidence: screenshots? | screen ?prints? | evidence | keep (?:a )?records? | delete\w* | removed? |
    hid(?:e|den) | block\w* | report(?:ed|ing)? (?:it|them)
anonymous: anonymous\w* | fake (?:name|account|profile) | burner | alias | pseudonym
"""


def _parse_vocabulary(text: str) -> dict[str, list[str]]:
    concepts: dict[str, list[str]] = {}
    name = None
    for line in text.strip().splitlines():
        if not line.startswith(" "):
            name, line = line.split(":", 1)
            concepts[name] = []
        concepts[name].extend(p for p in (p.strip() for p in re.split(r"\s\|(?=\s|$)", line)) if p)
    return concepts


CONCEPTS: dict[str, list[str]] = _parse_vocabulary(VOCABULARY)

# What one concept usually means for a school, added to the concern at a lower weight: publicly
# criticising the school, being seen drunk or posting discriminatory material all harm its reputation.
IMPLIES: dict[str, list[str]] = {
    "criticise": ["disrepute"],
    "alcohol": ["disrepute"],
    "discriminate": ["disrepute", "bully"],
    "defame": ["criticise"],
    "illegal": ["disrepute"],
}

# A snowball stemmer holds the word it is working on: one per thread (pages render in several threads).
_STEMMERS = threading.local()
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"'})
_CONCEPT_RES = {
    name: re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])") for name, patterns in CONCEPTS.items()
}
# Boilerplate sections: what the policy is for, to whom it applies, who does what, which other
# documents to read. A heading is boilerplate when it is made only of these words ("Roles and
# responsibilities", "Purpose and scope"); "Responsibilities when using social media" is not.
_BOILERPLATE_WORDS = _word_set(
    """
    introduction purpose purposes scope definitions definition rationale preamble aims aim roles role
    responsibilities related policies policy documents links link other review glossary background
    legislation legal framework key principles contents overview summary and of to the this
    """
)
_BOILERPLATE_TEXT = re.compile(
    r"^(?:this policy (?:applies|covers|sets out|is|should|aims|has been|takes|and)|"
    r"for the purposes? of this policy|in this policy|this (?:model )?policy)"
)
_RULE = re.compile(
    r"\b(?:must(?:n't)?|shall not|never|do not|don't|does not|(?:are|is) not (?:permitted|allowed)|"
    r"not permitted|prohibited|forbidden|should not|shouldn't|may not|under no circumstances|are asked not|"
    r"refrain|avoid|no circumstances)\b"
)


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


# "Follow" is how staff connect with pupils, but "the following" and "as follows" are how policies
# introduce lists: remove those before anything reads the words.
_NOT_FOLLOWING = re.compile(
    r"\b(?:the following|as follows|following (?:consideration|guidance|guidelines|advice|procedures?|steps|"
    r"principles|policies|documents)|"
    r"follows? (?:the|this|that|these) (?:same )?(?:rules?|guidance|procedures?|policy))\b"
)


def _normalise(text: str) -> str:
    return _NOT_FOLLOWING.sub(" ", (text or "").translate(_APOSTROPHES).lower())


def analyse(text: str) -> list[tuple[str, str, bool]]:
    """(term, surface words, covered) of `text`: stems of its content words, then its concept terms.

    The surface words are what a person would recognise in the text ("pics" for @image); "matched"
    shows those, never the stems. `covered` is True for a word inside a concept match.
    """
    low = _normalise(text)
    concepts: list[tuple[str, str, bool]] = []
    spans: list[tuple[int, int]] = []
    for name, pattern in _CONCEPT_RES.items():
        for match in pattern.finditer(low):
            concepts.append(("@" + name, match.group(), False))
            spans.append(match.span())
    terms: list[tuple[str, str, bool]] = []
    for match in _WORD.finditer(low):
        word = match.group()
        if word.endswith("'s"):
            word = word[:-2]
        if word in STOP_WORDS or len(word) < 2 or word.isdigit():
            continue
        covered = any(start <= match.start() and match.end() <= end for start, end in spans)
        terms.append((_stem(word.replace("'", "")), word, covered))
    return terms + concepts


def query_weights(text: str) -> tuple[dict[str, float], dict[str, str]]:
    """Weighted terms of a concern (before IDF), and the concern's own word for each term."""
    weights: dict[str, float] = {}
    words: dict[str, str] = {}
    for term, word, covered in analyse((text or "")[:MAX_QUERY_CHARS]):
        weight = CONCEPT_QUERY_WEIGHT if term.startswith("@") else COVERED_QUERY_WEIGHT if covered else 1.0
        weights[term] = max(weights.get(term, 0.0), weight)  # saying it twice does not make it twice as true
        words.setdefault(term, word)
    for term in [t for t in weights if t.startswith("@")]:
        for implied in IMPLIES.get(term[1:], []):
            key = "@" + implied
            weights[key] = max(weights.get(key, 0.0), IMPLIED_QUERY_WEIGHT)
    return weights, words


# --- The index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseDoc:
    """What the ranker needs of one clause: no database, so the importer's output works too."""

    ref: str
    text: str
    heading: str = ""
    parent_text: str = ""
    has_children: bool = False


@dataclass
class Suggestion:
    ref: str
    score: float  # 0..1: the share of the best score this concern could get from this policy's words
    matched: list[str]
    raw: float = 0.0


@dataclass
class _Entry:
    doc: ClauseDoc
    tf: dict[str, float]
    length: float
    surface: dict[str, str]
    prior: float


@dataclass
class Index:
    entries: list[_Entry]
    df: Counter = field(default_factory=Counter)
    avg_length: float = 1.0

    @classmethod
    def build(cls, docs: list[ClauseDoc]) -> Index:
        entries = []
        df: Counter = Counter()
        for doc in docs:
            tf: dict[str, float] = {}
            surface: dict[str, str] = {}
            length = 0.0
            for text, weight in ((doc.text, 1.0), (doc.heading, HEADING_WEIGHT), (doc.parent_text, PARENT_WEIGHT)):
                for term, word, _covered in analyse(text):
                    tf[term] = tf.get(term, 0.0) + weight
                    surface.setdefault(term, word)
                    length += weight
            df.update(tf.keys())
            entries.append(_Entry(doc=doc, tf=tf, length=length, surface=surface, prior=_prior(doc)))
        avg = sum(e.length for e in entries) / len(entries) if entries else 1.0
        return cls(entries=entries, df=df, avg_length=avg or 1.0)

    def idf(self, term: str) -> float:
        n, df = len(self.entries), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def rank(self, text: str, top: int = DEFAULT_TOP) -> list[Suggestion]:
        query, _words = query_weights(text)
        if not query or not self.entries:
            return []
        weights = {term: self.idf(term) * weight for term, weight in query.items() if term in self.df}
        best_possible = sum(weights.values()) * (K1 + 1) * RULE_BOOST
        if best_possible <= 0:
            return []
        scored = []
        for entry in self.entries:
            raw, contributions = 0.0, []
            norm = K1 * (1 - B + B * entry.length / self.avg_length)
            for term, weight in weights.items():
                tf = entry.tf.get(term)
                if not tf:
                    continue
                part = weight * tf * (K1 + 1) / (tf + norm)
                raw += part
                contributions.append((part, entry.surface[term]))
            if raw <= 0:
                continue
            raw *= entry.prior
            matched = []
            for _, word in sorted(contributions, key=lambda c: -c[0]):
                if word not in matched:
                    matched.append(word)
            scored.append(
                Suggestion(
                    ref=entry.doc.ref,
                    score=round(min(1.0, raw / best_possible), 2),
                    matched=matched[:6],
                    raw=raw,
                )
            )
        scored.sort(key=lambda s: -s.raw)  # stable: ties stay in document order
        return scored[: max(0, top)]


def _prior(doc: ClauseDoc) -> float:
    text = _normalise(doc.text).strip()
    prior = 1.0
    if _RULE.search(text):
        prior *= RULE_BOOST
    heading = set(_WORD.findall(_normalise(doc.heading)))
    if (heading and heading <= _BOILERPLATE_WORDS) or _BOILERPLATE_TEXT.search(text):
        prior *= BOILERPLATE_FACTOR
    if doc.has_children and text.endswith((":", ":-", "-")):
        prior *= LEAD_IN_FACTOR
    return prior


# --- Sources of clauses -----------------------------------------------------------------------


def docs_from_parsed(parsed) -> list[ClauseDoc]:
    """ClauseDocs of an importer result (policyhub.importer.ParsedPolicy), as the importer reads it."""
    texts = {c.ref: c.text for s in parsed.sections for c in s.clauses}
    parents = {c.parent for s in parsed.sections for c in s.clauses if c.parent}
    return [
        ClauseDoc(
            ref=c.ref,
            text=c.text,
            heading=s.heading,
            parent_text=texts.get(c.parent, "") if c.parent else "",
            has_children=c.ref in parents,
        )
        for s in parsed.sections
        for c in s.clauses
    ]


def docs_from_clauses(clauses) -> list[ClauseDoc]:
    """ClauseDocs of Clause rows (select_related('section', 'parent') avoids a query per row)."""
    clauses = list(clauses)
    parents = {c.parent_id for c in clauses if c.parent_id}
    return [
        ClauseDoc(
            ref=c.ref,
            text=c.text,
            heading=c.section.heading,
            parent_text=c.parent.text if c.parent_id else "",
            has_children=c.pk in parents,
        )
        for c in clauses
    ]


_CACHE: OrderedDict[tuple, Index] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def index_for_version(version) -> Index:
    """The index of a policy version. Published versions never change (an edit is a new draft), so
    their index is cached in this process; a draft's is rebuilt each time. The key is the row's
    number and the moments it was made and published: a number alone can come back (SQLite hands out
    a rolled-back row's number again), and then the cache would answer for another version."""

    cacheable = version.status != VersionStatus.DRAFT
    key = (version.pk, version.created_at, version.published_at)
    if cacheable:
        with _CACHE_LOCK:  # threads share the cache: a look-up must not meet another's eviction
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
    clauses = Clause.objects.filter(version=version).select_related("section", "parent").order_by("order")
    index = Index.build(docs_from_clauses(clauses))
    if cacheable:
        with _CACHE_LOCK:
            _CACHE[key] = index
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return index


def suggest(index: Index, text: str, top: int = DEFAULT_TOP) -> list[Suggestion]:
    return index.rank(text, top=top)


# --- Showing clauses on a form ----------------------------------------------------------------

SHORT_TEXT = 120  # characters of a clause shown beside its checkbox; the rest is one click away
PICKER_TOP = 3  # suggestions on the triage form: the labelled set's top-3 figure is about these
PICKER_MIN_SHARE = 0.25  # a suggestion scoring under this share of the best one is noise, not shown


def shorten(text: str, limit: int = SHORT_TEXT) -> tuple[str, bool]:
    """(text cut at a word boundary within `limit` characters with an ellipsis, whether it was cut).

    Never cuts inside a word: a clause cut mid-word can read as a different rule.
    """
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text, False
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else text[:limit]  # one enormous "word" (a URL): cut it anyway
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026", True


def clause_picker(bound_field, text: str, *, top: int = PICKER_TOP) -> dict:
    """What the triage form's clause list shows: the clauses `text` most likely breaches first, then
    every other clause grouped by section (collapsed unless one of its clauses is ticked).

    `bound_field` is a bound ModelMultipleChoiceField of Clause rows of one policy version (the
    form's queryset decides which clauses may be chosen; this only orders and groups them).
    """
    options = []
    for widget in bound_field.subwidgets:
        clause = widget.data["value"].instance
        short, cut = shorten(clause.text)
        options.append({"widget": widget, "clause": clause, "short": short, "cut": cut})
    if not options:
        return {"field": bound_field, "suggested": [], "sections": [], "total": 0}
    version = PolicyVersion.objects.get(pk=options[0]["clause"].version_id)
    by_ref = {o["clause"].ref: o for o in options}
    ranked = [s for s in index_for_version(version).rank(text, top=top) if s.ref in by_ref]
    if ranked:
        best = ranked[0].raw
        ranked = [s for s in ranked if s.raw >= best * PICKER_MIN_SHARE]
    suggested = []
    for suggestion in ranked:
        option = by_ref[suggestion.ref]
        option["suggestion"] = suggestion
        suggested.append(option)
    chosen = {id(o) for o in suggested}
    headings = {s.pk: s for s in Section.objects.filter(version=version)}
    sections: list[dict] = []
    for option in options:
        if id(option) in chosen:  # shown once, above: two checkboxes for one clause would disagree
            continue
        section = headings.get(option["clause"].section_id)
        if not sections or sections[-1]["section"] is not section:
            sections.append({"section": section, "options": [], "open": False})
        sections[-1]["options"].append(option)
        sections[-1]["open"] |= bool(option["widget"].data["selected"])
    return {"field": bound_field, "suggested": suggested, "sections": sections, "total": len(options)}
