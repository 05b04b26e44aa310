"""Case references: `OAK-7KQ2-M9XD`, the school's code, then seven random characters and a check.

Why random: a reference that counts up lets anyone who sees two of them count the cases in between,
including the ones they may not see (the cases about them), and date them from the neighbours.
The body is drawn from `secrets`, so nothing in it orders, counts or dates cases. No year either:
the case page shows the date to the people who may see the case; the reference is only a name.

- Alphabet: Crockford's base 32 (digits and capitals without I, L, O, U), so a reference read out
  on the phone or copied from a letter has no look-alike characters.
- Check character: the body's value modulo 37 (Crockford's check), which catches any one mistyped
  character and any two neighbouring characters swapped. Crockford uses five extra symbols for the
  values 32-36; we draw again instead (about 1 draw in 7), so every character is in the alphabet.
- Input is forgiving: case, spaces and hyphens do not matter, and O is read as 0, I and L as 1.
- Cases reported before this format keep their old reference as `legacy_reference`: it is never
  shown, but typing it still finds the case.
"""

import re
import secrets
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 7
BODY_LENGTH = RANDOM_LENGTH + 1
# What a canonical reference looks like (URLs accept exactly this; see incidents/urls.py).
PATTERN = r"[A-Z0-9]{1,10}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"
_CANONICAL = re.compile(PATTERN)
_LEGACY = re.compile(r"([A-Z0-9]{1,10})-(\d{4})-(\d{4,6})")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


class BadReference(ValueError):
    """What was typed is not a reference; the message says why, in plain words."""


def _value(body: str) -> int:
    value = 0
    for ch in body:
        value = value * 32 + ALPHABET.index(ch)
    return value


def check_character(body: str) -> str | None:
    """The check character of a random part, or None when its check value has no character."""
    check = _value(body) % 37
    return ALPHABET[check] if check < 32 else None


def new_reference(school_code: str) -> str:
    """A fresh random reference for a case at the school with this code."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
        check = check_character(body)
        # All digits would read as an old-style reference (OAK-2026-0042): draw again (1 in 11,000).
        if check is not None and not (body + check).isdigit():
            full = body + check
            return f"{school_code.upper()}-{full[:4]}-{full[4:]}"


def is_canonical(text: str) -> bool:
    """A reference as new_reference makes them: the shape, a letter somewhere, the right check."""
    if not _CANONICAL.fullmatch(text or ""):
        return False
    body = text.rsplit("-", 2)[1] + text.rsplit("-", 2)[2]
    return not body.isdigit() and check_character(body[:-1]) == body[-1]


@dataclass(frozen=True)
class Parsed:
    """A typed reference, normalised. `school` is "" when only the eight characters were given."""

    school: str
    body: str = ""
    legacy: str = ""

    @property
    def reference(self) -> str:
        return f"{self.school}-{self.body[:4]}-{self.body[4:]}" if self.school and self.body else ""

    @property
    def suffix(self) -> str:
        return f"-{self.body[:4]}-{self.body[4:]}"


def parse(text: str) -> Parsed:
    """Normalise what someone typed into a reference, or raise BadReference saying what is wrong."""
    typed = re.sub(r"\s+", "-", (text or "").strip().upper())
    if not typed:
        raise BadReference("Please type a case reference, for example OAK-7KQ2-M9XD.")
    legacy = _LEGACY.fullmatch(typed)
    if legacy:
        return Parsed(school=legacy.group(1), legacy=typed)
    compact = typed.replace("-", "")
    if not compact.isalnum() or not compact.isascii():
        raise BadReference("A case reference has only letters and digits, for example OAK-7KQ2-M9XD.")
    if len(compact) < BODY_LENGTH:
        raise BadReference(
            "That reference is too short: after the school's code it has eight letters and digits, "
            "for example OAK-7KQ2-M9XD."
        )
    school, body = compact[:-BODY_LENGTH], compact[-BODY_LENGTH:].translate(_LOOK_ALIKES)
    if len(school) > 10:
        raise BadReference("That reference is too long: please check it against the letter or email.")
    bad = sorted({ch for ch in body if ch not in ALPHABET})
    if bad:
        raise BadReference(f"A case reference never contains {', '.join(bad)}: please check it.")
    if check_character(body[:-1]) != body[-1]:
        raise BadReference(
            "That reference has a mistake in it (its last character does not match the others): "
            "please check it against the letter or email."
        )
    return Parsed(school=school, body=body)


def matching(queryset, parsed: Parsed):
    """The cases of `queryset` a parsed reference names (at most one; the caller scopes it)."""
    if parsed.legacy:
        return queryset.filter(legacy_reference=parsed.legacy)
    if parsed.school:
        return queryset.filter(reference=parsed.reference)
    return queryset.filter(reference__endswith=parsed.suffix)


class ReferenceConverter:
    """`<ref:reference>` in URLs: a case's canonical reference, nothing else (no ids to count)."""

    regex = PATTERN

    def to_python(self, value: str) -> str:
        if not is_canonical(value):
            raise ValueError("not a case reference")  # the resolver answers 404
        return value

    def to_url(self, value: str) -> str:
        if not is_canonical(str(value)):
            raise ValueError("not a case reference")
        return str(value)


def register_url_converter() -> None:
    """Make `<ref:...>` available to URL patterns; safe to call from every urls module."""
    from django.urls import register_converter
    from django.urls.converters import get_converters

    if "ref" not in get_converters():
        register_converter(ReferenceConverter, "ref")
