"""Recipient numbers: normalised to E.164 with phonenumbers; the original is kept beside it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from smsgate.core import errors

_JUNK = re.compile(r"[\s\-().]")
MAX_ORIGINAL = 64  # the number as written is stored beside the E.164 form


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str
    original: str
    country: str | None  # ISO 3166 region, e.g. "RU"


def _cleaned(raw: str) -> str:
    text = raw.strip()
    # scripts that put an unencoded "+" in a query string send it as a space: " 7920..." is "+7920..."
    if raw[:1] == " " and text[:1].isdigit():
        text = "+" + text
    if text.startswith("00"):
        text = "+" + text[2:]
    return _JUNK.sub("", text)


@functools.lru_cache(maxsize=65536)
def parse(raw: str, region: str | None = None) -> PhoneNumber:
    """Raises errors.InvalidNumber with a reason a person understands."""
    if not isinstance(raw, str) or not raw.strip():
        raise errors.InvalidNumber("the recipient number is empty")
    if len(raw.strip()) > MAX_ORIGINAL:
        raise errors.InvalidNumber(f"{raw.strip()[:20]!r}... is not a phone number (too long)")
    text = _cleaned(raw)
    if len(text) > 32 or not re.fullmatch(r"\+?\d+", text):
        raise errors.InvalidNumber(f"{raw.strip()!r} is not a phone number")
    fast = _international(text)
    if fast is not None and phonenumbers.is_valid_number(fast):
        return PhoneNumber(text, raw.strip(), phonenumbers.region_code_for_number(fast))
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        hint = "" if text.startswith("+") else " (write it with + and the country code)"
        raise errors.InvalidNumber(
            f"{raw.strip()!r} is not a phone number{hint}: {exc._msg}"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise errors.InvalidNumber(f"{raw.strip()!r} is not a valid phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164, raw.strip(), phonenumbers.region_code_for_number(parsed))


def _international(text: str) -> phonenumbers.PhoneNumber | None:
    """ "+<country code><national number>" without the full parser (half the cost of a send).

    Country codes are a prefix code, so the first prefix that is one is the one. A national number
    starting with 0 (Italy's leading zero, or a mistaken trunk prefix) goes to the full parser, and
    so does whatever this reading finds invalid (the full parser forgives a repeated trunk prefix).
    """
    if text[:1] != "+" or len(text) < 8 or text[1] == "0":
        return None
    digits = text[1:]
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if not national or national[0] == "0":
                return None
            return phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    return None


def try_parse(raw: str, region: str | None = None) -> PhoneNumber | None:
    try:
        return parse(raw, region)
    except errors.InvalidNumber:
        return None


@functools.lru_cache(maxsize=4096)
def describe(e164: str, lang: str = "en") -> tuple[str, str]:
    """The operator and the place of a number, as far as phonenumbers knows them.

    Their data weighs about 110 MB, so it is loaded on first use, not at start.
    """
    from phonenumbers import carrier, geocoder

    parsed = phonenumbers.parse(e164, None)
    return carrier.name_for_number(parsed, lang), geocoder.description_for_number(parsed, lang)


_TYPES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(phonenumbers.PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberInfo:
    """What phonenumbers knows of a number, without asking any operator: stored with each message.

    The operator is the one the number range was given to (a ported number is not seen); the
    region is the place the range belongs to where that is finer than the country (fixed lines,
    some mobile ranges), else "".
    """

    country: str | None  # ISO 3166 alpha-2
    operator: str  # "" when unknown
    region: str
    kind: str  # mobile, fixed_line, fixed_line_or_mobile, toll_free, voip, ... or unknown
    mcc: str | None
    mnc: str | None

    @property
    def mccmnc(self) -> str:
        return f"{self.mcc}{self.mnc}" if self.mcc and self.mnc else (self.mcc or "")


@functools.lru_cache(maxsize=65536)
def intelligence(e164: str, country: str | None = None) -> NumberInfo:
    """Country, operator, region, number type and MCC/MNC of an E.164 number (cached; about
    100 us uncached). `country` is the region `parse` found, if known.

    phonenumbers' carrier and geocoder data (about 110 MB) load on the first call.
    """
    from phonenumbers import carrier, geocoder
    from phonenumbers.prefix import _prefix_description_for_number

    from smsgate.core import mobile

    parsed = _international(e164) or phonenumbers.parse(e164, None)
    if country is None:
        country = phonenumbers.region_code_for_number(parsed)
    kind = phonenumbers.number_type(parsed)
    operator = carrier.name_for_valid_number(parsed, "en") if kind in _MOBILE else ""
    place = _prefix_description_for_number(
        geocoder.GEOCODE_DATA,  # type: ignore[attr-defined]
        geocoder.GEOCODE_LONGEST_PREFIX,  # type: ignore[attr-defined]
        parsed,
        "en",
    )
    mcc, mnc = mobile.codes(country, operator)
    return NumberInfo(
        country=country,
        operator=operator,
        region="" if place == country_name(country) else place,
        kind=_TYPES.get(kind, "unknown"),
        mcc=mcc,
        mnc=mnc,
    )


_MOBILE = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.PAGER,
        phonenumbers.PhoneNumberType.UNKNOWN,
    }
)


@functools.lru_cache(maxsize=512)
def country_name(region: str | None, lang: str = "en") -> str:
    """The country's name in a language phonenumbers has (`ru`: Россия), "" when unknown."""
    if not region:
        return ""
    from phonenumbers import geocoder

    example = phonenumbers.example_number(region)
    return geocoder.country_name_for_number(example, lang) if example is not None else ""
