"""Password policy (test plan 12): long passphrases are welcome, common passwords and short ones
are not. Runs the validators in settings.AUTH_PASSWORD_VALIDATORS, as every password form does."""

import gzip
import random
import string
from pathlib import Path

import django.contrib.auth
import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User

COMMON_LIST = Path(django.contrib.auth.__file__).parent / "common-passwords.txt.gz"
WORD = st.text(alphabet=string.ascii_letters + "àéïöüçñß", min_size=2, max_size=12)
SEPARATOR = st.sampled_from([" ", "-", " ", ".", ", ", " & ", "_"])


@st.composite
def passphrases(draw):
    """Several words with separators, sometimes a number or symbol: 64 to 128 characters."""
    words = []
    while sum(map(len, words)) < 64:
        words.append(draw(WORD) + draw(SEPARATOR))
        if draw(st.booleans()):
            words.append(draw(st.sampled_from(["7", "42", "!", "?", "1999", "#"])))
    phrase = "".join(words)[:128].strip()
    if len(phrase) < 64:
        phrase = phrase + "x" * (64 - len(phrase))
    return phrase


def person():
    return User(email="dina.shah@oakfield.example.org", full_name="Dina Shah")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(passphrases())
def test_any_long_passphrase_is_accepted(phrase):
    assert 64 <= len(phrase) <= 128
    validate_password(phrase, user=person())


def _codes(password, user=None):
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


def test_a_random_thousand_common_passwords_are_each_refused_as_common():
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as f:
        common = [line.strip() for line in f if line.strip()]
    assert len(common) > 19_000
    sample = random.Random(20251119).sample(common, 1000)  # a fixed, reproducible sample
    not_flagged = [p for p in sample if "password_too_common" not in _codes(p)]
    assert not_flagged == []


def test_common_passwords_are_refused_however_they_are_capitalised():
    assert "password_too_common" in _codes("PassWord1234")
    assert "password_too_common" in _codes("QwertyuiOP123")


@pytest.mark.parametrize("length", range(1, 12))
def test_shorter_than_12_is_refused(length):
    password = "".join(random.Random(length).choices(string.ascii_letters + string.digits + "!?#", k=length))
    assert "password_too_short" in _codes(password)


def test_12_characters_is_enough_when_not_common():
    assert _codes("vQ7#trellis!") == set()


def test_a_password_like_the_persons_own_details_is_refused():
    assert "password_too_similar" in _codes("dina.shah@oakfield", user=person())


def test_all_digits_is_refused():
    assert "password_entirely_numeric" in _codes("20251119203040")
