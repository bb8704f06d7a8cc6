"""Recipients: E.164 out of whatever people and scripts write, or a clear InvalidNumber."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.core import errors, numbers


@pytest.mark.parametrize(
    ("raw", "region", "e164", "country"),
    [
        ("+79201234567", None, "+79201234567", "RU"),
        ("+7 (920) 123-45-67", None, "+79201234567", "RU"),
        ("89201234567", "RU", "+79201234567", "RU"),
        ("8 920 123 45 67", "RU", "+79201234567", "RU"),
        ("9201234567", "RU", "+79201234567", "RU"),
        ("0079201234567", None, "+79201234567", "RU"),
        ("+1 650-253-0000", "RU", "+16502530000", "US"),
        ("(650) 253-0000", "US", "+16502530000", "US"),
        ("+44 20 7946 0958", None, "+442079460958", "GB"),
        ("020 7946 0958", "GB", "+442079460958", "GB"),
        ("+380 44 123 4567", "RU", "+380441234567", "UA"),
    ],
)
def test_numbers_normalise_to_e164(raw: str, region: str | None, e164: str, country: str) -> None:
    number = numbers.parse(raw, region)
    assert number.e164 == e164
    assert number.country == country
    assert number.original == raw.strip()


def test_a_leading_space_is_a_plus_lost_in_a_query_string() -> None:
    # "?phone=+1650..." unencoded arrives as " 1650...": with region RU that must not become a Russian number
    assert numbers.parse(" 16502530000", "RU").e164 == "+16502530000"
    assert numbers.parse(" 79201234567", "US").e164 == "+79201234567"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello", "'hello' is not a phone number"),
        ("+7920abc4567", "is not a phone number"),
        ("12345", "'12345' is not a valid phone number"),
        ("+7920123456", "is not a valid phone number"),
        ("+" + "1" * 40, "is not a phone number"),
        ("+7 920 123 45 67 ext", "is not a phone number"),
    ],
)
def test_invalid_numbers_say_why(raw: str, says: str) -> None:
    with pytest.raises(errors.InvalidNumber, match=says.replace("+", r"\+")):
        numbers.parse(raw, "RU")


def test_national_number_without_region_asks_for_the_country_code() -> None:
    with pytest.raises(errors.InvalidNumber, match=r"write it with \+ and the country code"):
        numbers.parse("9201234567", None)


def test_very_long_originals_are_refused_not_stored() -> None:
    # the original is kept beside the E.164 form and must fit its column (64 characters)
    with pytest.raises(errors.InvalidNumber):
        numbers.parse("+7" + " " * 70 + "9201234567", None)


@given(st.text(max_size=40))
def test_parse_either_gives_e164_or_invalid_number(raw: str) -> None:
    try:
        number = numbers.parse(raw, "RU")
    except errors.InvalidNumber as exc:
        assert exc.detail
    else:
        assert number.e164.startswith("+") and number.e164[1:].isdigit()
        assert len(number.e164) <= 16
        assert numbers.parse(number.e164, None) == numbers.parse(number.e164, "US")


VALID = ["+79201234567", "+16502530000", "+442079460958", "+380441234567", "+4930123456"]


@given(
    st.sampled_from(VALID),
    st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), min_size=12, max_size=12),
)
def test_formatting_does_not_change_the_number(e164: str, junk: list[str]) -> None:
    raw = "+" + "".join(
        digit + (junk[i] if i < len(junk) and i % 3 == 1 else "")
        for i, digit in enumerate(e164[1:])
    )
    assert numbers.parse(raw, None).e164 == e164
    assert numbers.parse(raw.replace("+", "00", 1), "RU").e164 == e164


@given(
    code=st.sampled_from(
        [
            "1",
            "7",
            "44",
            "49",
            "33",
            "39",
            "380",
            "86",
            "91",
            "55",
            "61",
            "81",
            "972",
            "0",
            "999",
            "3",
        ]
    ),
    rest=st.integers(min_value=10**4, max_value=10**12),
)
def test_the_fast_international_reading_agrees_with_the_full_parser(code: str, rest: int) -> None:
    import phonenumbers

    raw = f"+{code}{rest}"
    try:
        full = phonenumbers.parse(raw, None)
        expected = (
            phonenumbers.format_number(full, 0) if phonenumbers.is_valid_number(full) else None
        )
    except phonenumbers.NumberParseException:
        expected = None
    found = numbers.try_parse(raw)
    assert (found.e164 if found else None) == expected
