"""Topic suggestions for a clause: keyword rules mapped to :mod:`policyhub.topics` keys."""

from __future__ import annotations

import re

from policyhub.topics import TOPIC_KEYS

_PUPIL = r"(?:pupils?|students?|learners?|children|child)"
_PARENT = r"(?:parents?|carers?|parents?/carers?|families)"
_CONTACT = (
    r"(?:contact\w*|communicat\w*|friends?(?:hips?)?|follow\w*|engage\w*|messag\w*|conversations?|connect\w*"
    r"|e-?mails?|telephones?|text)"
)


def _near(a: str, b: str, gap: int = 80) -> str:
    """Regex matching ``a`` and ``b`` (either order) within ``gap`` characters of the same sentence."""
    return rf"\b{a}\b[^.;]{{0,{gap}}}\b{b}\b|\b{b}\b[^.;]{{0,{gap}}}\b{a}\b"


_TOPIC_RULES: dict[str, list[str]] = {
    "personal_use": [
        r"\bpersonal (?:use|accounts?|social media|profiles?|lives|life|views|blogs?|devices?|telephones?|email)",
        r"\bprivate (?:lives|life|accounts?|capacity)",
        r"\bprivacy settings?\b",
        r"\bin (?:their|your) own time\b",
    ],
    "contact_pupils": [_near(_CONTACT, _PUPIL), r"\bformer pupils\b"],
    "contact_parents": [_near(_CONTACT, _PARENT)],
    "images": [
        r"\bphoto\w*",
        r"\bimages?\b",
        r"\bpictures?\b",
        r"\bvideos?\b",
        r"\bfilm(?:ed|ing)?\b",
        r"\btag(?:ged|ging)?\b",
    ],
    "confidentiality": [
        r"\bconfidential\w*",
        r"\bdata protection\b",
        r"\bGDPR\b",
        r"\bpersonal (?:information|data|details)\b",
        r"\bpasswords?\b",
        r"\blogin details\b",
    ],
    "school_accounts": [
        r"\bschool(?:'s|’s)? (?:social media |twitter |facebook )?(?:accounts?|websites?|pages?)\b",
        r"\bofficial (?:school )?(?:accounts?|channels?|websites?|social media)",
        r"\bon behalf of the school\b",
        r"\bschool[- ]owned\b",
        r"\b(?:account|website)s? (?:creation|being created|will be created)",
        r"\bcreat\w* (?:an? |such )?\w* ?accounts?\b",
        r"\bauthorised social media\b",
    ],
    "cyberbullying": [r"\bcyber[- ]?bull\w*", r"\bbull(?:y|ying|ied)\b", r"\btroll\w*", r"\bharass\w*"],
    "safeguarding": [
        r"\bsafeguard\w*",
        r"\bchild protection\b",
        r"\bgrooming\b",
        r"\bwelfare of children\b",
        r"\bdesignated safeguarding\b",
    ],
    "prevent": [
        r"\bPrevent (?:Duty|duty|strategy|guidance)\b",
        r"\bradicali[sz]\w*",
        r"\bextremis\w*",
        r"\bterroris\w*",
    ],
    "illegal_content": [
        r"\bindecent images?\b",
        r"\bpornograph\w*",
        r"\billegal\b",
        r"\bunlawful\b",
        r"\bcriminal\b",
        r"\bextremist material\b",
    ],
    "media": [
        r"\bjournalists?\b",
        r"\bmedia (?:enquir\w*|policy)\b",
        r"\bpress\b",
        r"\bthe media\b",
        r"\breporters?\b",
    ],
    "monitoring": [r"\bmonitor\w*", r"\bfiltering\b", r"\bfilters?\b"],
    "breaches": [
        r"\bbreach\w*",
        r"\bdisciplinary\b",
        r"\bdismiss\w*",
        r"\bmisconduct\b",
        r"\bsanctions?\b",
        r"\bconduct (?:matter|issue)\b",
    ],
    "working_hours": [
        r"\bworking (?:hours|time|day)\b",
        r"\bwork(?:ing)? hours\b",
        r"\bwhile at work\b",
        r"\bduring (?:the )?(?:school|work|working) (?:day|hours|time)\b",
        r"\bschool hours\b",
    ],
    "legal": [
        r"\blibel\w*",
        r"\bdefam\w*",
        r"\bcopyright\b",
        r"\b(?:Equality|Human Rights|Data Protection|Counter-?\s?Terrorism and Security|Freedom of Information) Act\b",
        r"\blegislation\b",
        r"\blegal (?:action|advice|framework|considerations?)\b",
        r"\blaws?\b",
        r"\bliable\b",
        r"\bstatut\w*",
    ],
}

_TOPIC_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    key: [re.compile(p) if key == "prevent" and p.startswith(r"\bPrevent") else re.compile(p, re.I) for p in pats]
    for key, pats in _TOPIC_RULES.items()
}
assert set(_TOPIC_PATTERNS) == set(TOPIC_KEYS)


def suggest_topics(text: str) -> list[str]:
    """Topic keys whose keyword rules match ``text``, in the order of ``TOPIC_KEYS``.

    Suggestions only: a person confirms them. ``Prevent`` is matched case-sensitively (``Prevent duty``)
    so that the ordinary verb "prevent" does not count.
    """
    text = text or ""
    return [key for key in TOPIC_KEYS if any(p.search(text) for p in _TOPIC_PATTERNS[key])]
