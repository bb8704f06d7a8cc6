"""Encoding and segment count: GSM-7 160/153 with double-width extension characters, UCS-2 70/67."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.core import errors, segments

BASIC = sorted(segments.GSM7_BASIC)
EXTENSION = sorted(segments.GSM7_EXTENSION)
gsm_text = st.text(alphabet=st.sampled_from(BASIC + EXTENSION), min_size=1, max_size=1200)
basic_text = st.text(alphabet=st.sampled_from(BASIC), min_size=1, max_size=1200)
bmp_only = st.characters(min_codepoint=0x400, max_codepoint=0x4FF)  # Cyrillic: never GSM-7
astral = st.characters(min_codepoint=0x1F600, max_codepoint=0x1F64F)  # emoji: a surrogate pair each


def packed(costs: list[int], size: int) -> list[list[int]]:
    """The parts a phone would send: characters in order, none split across two parts."""
    parts: list[list[int]] = [[]]
    for cost in costs:
        if sum(parts[-1]) + cost > size:
            parts.append([])
        parts[-1].append(cost)
    return parts


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),
        ("€" * 81, "gsm7", 162, 2),
        ("a" * 152 + "€" + "a", "gsm7", 155, 1),
        (
            "a" * 152 + "€" + "a" * 152,
            "gsm7",
            306,
            3,
        ),  # the € does not fit in part one's last septet
        ("я" * 70, "ucs2", 70, 1),
        ("я" * 71, "ucs2", 71, 2),
        ("я" * 134, "ucs2", 134, 2),
        ("я" * 135, "ucs2", 135, 3),
        ("😀" * 35, "ucs2", 70, 1),
        ("😀" * 36, "ucs2", 72, 2),
        ("я" * 66 + "😀", "ucs2", 68, 1),
        ("я" * 66 + "😀" + "я" * 4, "ucs2", 72, 2),
        ("Hello {name}", "gsm7", 14, 1),  # { and } are extension characters
        ("Привет", "ucs2", 6, 1),
        ("a\nb\rc", "gsm7", 5, 1),
        ("Ç", "gsm7", 1, 1),
        ("ç", "ucs2", 1, 1),  # small c cedilla is not in the GSM-7 basic table
    ],
)
def test_known_texts(text: str, encoding: str, units: int, parts: int) -> None:
    assert segments.measure(text) == segments.Encoded(encoding, units, parts)


@given(basic_text)
def test_basic_gsm7_parts_are_160_then_153(text: str) -> None:
    encoded = segments.measure(text)
    assert encoded.encoding == segments.GSM7
    assert encoded.units == len(text)
    assert encoded.segments == (1 if len(text) <= 160 else math.ceil(len(text) / 153))


@given(gsm_text)
def test_extension_characters_count_double_and_are_never_split(text: str) -> None:
    encoded = segments.measure(text)
    costs = [2 if ch in segments.GSM7_EXTENSION else 1 for ch in text]
    assert encoded.encoding == segments.GSM7
    assert encoded.units == sum(costs)
    if encoded.units <= 160:
        assert encoded.segments == 1
    else:
        parts = packed(costs, 153)
        assert all(sum(p) <= 153 for p in parts)
        assert encoded.segments == len(parts)
        assert math.ceil(encoded.units / 153) <= encoded.segments <= math.ceil(encoded.units / 152)


@given(
    st.lists(st.one_of(bmp_only, astral, st.sampled_from(BASIC)), min_size=1, max_size=400).map(
        "".join
    )
)
def test_ucs2_counts_utf16_units_and_keeps_surrogate_pairs_whole(text: str) -> None:
    encoded = segments.measure(text)
    if all(ch in segments.GSM7_BASIC for ch in text):
        assert encoded.encoding == segments.GSM7
        return
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    assert encoded.encoding == segments.UCS2
    assert encoded.units == len(text.encode("utf-16-le")) // 2 == sum(costs)
    expected = 1 if encoded.units <= 70 else len(packed(costs, 67))
    assert encoded.segments == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_text_is_refused(text: str | None) -> None:
    with pytest.raises(errors.EmptyText, match="empty"):
        segments.checked(text)


def test_too_many_parts_is_refused_with_the_count() -> None:
    segments.checked("a" * 153 * 255)
    with pytest.raises(errors.TextTooLong, match="256 parts"):
        segments.checked("a" * (153 * 255 + 1))
