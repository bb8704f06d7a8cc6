"""The bounded parsers: any text in, a value or a core error out, never another exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.core import errors
from smsgate.doors import parsers

ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet="0123456789²³¹\u0663\u06f5\u07c2+-.,:eE TZ\x00\ud800", max_size=40),
    st.from_regex(
        r"[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}( [0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?)?([+-][0-9]{2}:[0-9]{2})?",
        fullmatch=True,
    ),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def _value_or_core_error(parse, value):  # type: ignore[no-untyped-def]
    try:
        return parse(value)
    except errors.InvalidInput:
        return None


@given(ANY_TEXT)
def test_integers_are_ascii_and_int64(value: str) -> None:
    found = _value_or_core_error(lambda v: parsers.integer("n", v), value)
    if found is not None:
        assert parsers.INT64_MIN <= found <= parsers.INT64_MAX
        assert value.strip().lstrip("+-").isascii()


@given(ANY_TEXT)
def test_ids_fit_a_bigint(value: str) -> None:
    found = _value_or_core_error(lambda v: parsers.ids("ids", v), value)
    for i in found or ():
        assert 1 <= i <= parsers.INT64_MAX


@given(ANY_TEXT)
def test_moments_are_storable_utc(value: str) -> None:
    found = _value_or_core_error(lambda v: parsers.moment("at", v), value)
    if found is not None:
        assert found.tzinfo is UTC
        assert parsers.EARLIEST <= found <= parsers.LATEST
        found.astimezone(timezone(timedelta(hours=14)))  # renders in any zone
        found.astimezone(timezone(timedelta(hours=-14)))


@given(ANY_TEXT)
def test_durations_are_bounded(value: str) -> None:
    found = _value_or_core_error(lambda v: parsers.duration("ttl", v), value)
    if found is not None:
        assert timedelta(0) <= found <= parsers.LONGEST
        assert datetime.now(UTC) + found < parsers.LATEST


@given(ANY_TEXT)
def test_numbers_are_finite(value: str) -> None:
    found = _value_or_core_error(lambda v: parsers.number("x", v, low=1 / 1440, high=6000), value)
    if found is not None:
        assert 1 / 1440 <= found <= 6000
        assert 60 / found <= 86400


@given(ANY_TEXT)
def test_flags_texts_and_choices(value: str) -> None:
    _value_or_core_error(lambda v: parsers.flag("f", v), value)
    _value_or_core_error(lambda v: parsers.choice("c", v, ("Sent", "Failed")), value)
    stored = _value_or_core_error(lambda v: parsers.text("t", v, max_length=20), value)
    if stored is not None:
        stored.encode("utf-8")  # no lone surrogate
        assert "\x00" not in stored


@pytest.mark.parametrize(
    "value", ["²", "1²", "\u0663", "\u06f5", "\u07c2", "\uff11\uff12", "1_000", "0x10", " ", "--1"]
)
def test_unicode_and_odd_digits_are_refused(value: str) -> None:
    if not value.strip():
        assert parsers.integer("cursor", value) is None
        return
    with pytest.raises(errors.BadParameter, match="cursor"):
        parsers.integer("cursor", value)


def test_integer_bounds_and_sign() -> None:
    assert parsers.integer("n", " +42 ") == 42
    assert parsers.integer("n", "-7") == -7
    assert parsers.identifier("id", str(2**63 - 1)) == 2**63 - 1
    for bad in ("0", "-1", str(2**63), "9" * 5000):
        with pytest.raises(errors.BadParameter):
            parsers.identifier("id", bad)
    with pytest.raises(errors.BadParameter, match="from 1 to 10"):
        parsers.integer("n", "11", low=1, high=10)
    with pytest.raises(errors.BadParameter):
        parsers.integer("n", True)  # type: ignore[arg-type]


def test_id_lists_as_clients_send_them() -> None:
    assert parsers.ids("list_id", "1,2,3") == (1, 2, 3)
    assert parsers.ids("list_id", "1, 2, 3,") == (1, 2, 3)  # the Ruby gem; a trailing comma
    assert parsers.ids("list_id", "3,3,1") == (3, 1)
    assert parsers.ids("list_id", ["4", 5]) == (4, 5)
    assert parsers.ids("list_id", ",") is None
    assert parsers.ids("list_id", None) is None
    with pytest.raises(errors.BadParameter):
        parsers.ids("list_id", "1,²")
    with pytest.raises(errors.BadParameter, match="more than"):
        parsers.ids("list_id", ",".join(["1"] * 10_001))


def test_flags() -> None:
    assert parsers.flag("f", "1") is True
    assert parsers.flag("f", "false") is False
    assert parsers.flag("f", 0) is False
    assert parsers.flag("f", "") is None
    with pytest.raises(errors.BadParameter):
        parsers.flag("f", "2")


def test_vendor_dates() -> None:
    assert parsers.moment("d", "2015-08-9 10:30") == datetime(2015, 8, 9, 10, 30, tzinfo=UTC)
    assert parsers.moment("d", "2015-02-04 12:41:13.657724") == datetime(
        2015, 2, 4, 12, 41, 13, 657724, tzinfo=UTC
    )
    assert parsers.moment("d", "2015-08-09T10:30:00+03:00") == datetime(
        2015, 8, 9, 7, 30, tzinfo=UTC
    )
    assert parsers.moment("d", "2015-08-09T10:30:00Z") == datetime(2015, 8, 9, 10, 30, tzinfo=UTC)
    assert parsers.moment("d", "09.08.2015 10:30:05") == datetime(2015, 8, 9, 10, 30, 5, tzinfo=UTC)
    assert parsers.moment("d", "2015-08-09", end=True) == datetime(
        2015, 8, 9, 23, 59, 59, 999999, tzinfo=UTC
    )
    moscow = timezone(timedelta(hours=3))
    assert parsers.moment("d", "09.08.2015 10:30", tz=moscow) == datetime(
        2015, 8, 9, 7, 30, tzinfo=UTC
    )
    for bad in (
        "2015-13-01",
        "2015-02-30",
        "tomorrow",
        "0001-01-01 00:00:00+14:00",
        "9999-12-31 23:00",
    ):
        with pytest.raises(errors.BadParameter, match="d "):
            parsers.moment("d", bad)


def test_bounded_refuses_what_cannot_be_converted() -> None:
    edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    with pytest.raises(errors.BadParameter, match="out of range"):
        parsers.bounded("at", edge)
    with pytest.raises(errors.BadParameter, match="timezone"):
        parsers.bounded("at", datetime(2020, 1, 1))
    assert parsers.bounded("at", datetime(2020, 1, 1, 3, tzinfo=timezone(timedelta(hours=3)))) == (
        datetime(2020, 1, 1, tzinfo=UTC)
    )


def test_durations() -> None:
    assert parsers.duration("ttl", "90") == timedelta(seconds=90)
    assert parsers.duration("valid", "2:30") == timedelta(hours=2, minutes=30)
    assert parsers.duration("valid", "1.5", unit=timedelta(hours=1)) == timedelta(minutes=90)
    for bad in ("1000000000000000000", "1e308", "-1", "inf", "nan", "1:75"):
        with pytest.raises(errors.BadParameter, match=r"ttl|valid"):
            parsers.duration("ttl", bad)
    with pytest.raises(errors.BadParameter):
        parsers.duration("ttl", 10**18)


def test_numbers_refuse_the_tiny_and_the_infinite() -> None:
    assert parsers.number("per_minute", "5e-324", low=0) == 5e-324
    with pytest.raises(errors.BadParameter):
        parsers.number("per_minute", "5e-324", low=1 / 1440)
    with pytest.raises(errors.BadParameter):
        parsers.number("x", float("inf"))
    with pytest.raises(errors.BadParameter):
        parsers.number("x", "1e99999")


def test_text_refuses_what_a_database_cannot_store() -> None:
    assert parsers.text("msg", "a\tb\nc") == "a\tb\nc"
    with pytest.raises(errors.BadParameter, match="NUL"):
        parsers.text("msg", "a\x00b")
    with pytest.raises(errors.BadParameter, match="surrogate"):
        parsers.text("msg", "a\ud800b")
    with pytest.raises(errors.BadParameter, match="longer"):
        parsers.text("msg", "abc", max_length=2)


def test_need() -> None:
    assert parsers.need("phone", "1") == "1"
    with pytest.raises(errors.MissingParameter, match="phone is required"):
        parsers.need("phone", None)


def test_the_pydantic_types() -> None:
    from pydantic import BaseModel, ValidationError

    class Body(BaseModel):
        text: parsers.StoredText
        at: parsers.StoredMoment
        id: parsers.StoredId
        ref: parsers.IdText

    good = Body.model_validate(
        {"text": "hi", "at": "2020-01-01T03:00:00+03:00", "id": 1, "ref": "7"}
    )
    assert good.at == datetime(2020, 1, 1, tzinfo=UTC)
    for bad in (
        {"text": "a\x00b"},
        {"at": "0001-01-01T00:00:00+14:00"},
        {"id": 2**63},
        {"ref": "²"},
    ):
        with pytest.raises(ValidationError):
            Body.model_validate(
                {"text": "hi", "at": "2020-01-01T00:00:00Z", "id": 1, "ref": "7", **bad}
            )
